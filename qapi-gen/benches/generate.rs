//! Generation of QEMU 10.0.2's system emulator bindings: the time to
//! generate them, their size, and the debug and release build times of a
//! crate holding them.
//!
//! `cargo bench -p qapi-gen --bench generate` prints each figure beside
//! what it is compared with: the existing Rust QAPI crate generates the
//! same schema in about 56 ms (unformatted, without docs) and its bindings
//! (722 KB, no docs) take about 24 s to build in debug on this machine
//! (`../shared/STYLE.md`); the target is half that, with docs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const EXISTING_GENERATION: Duration = Duration::from_millis(56);
const EXISTING_DEBUG_BUILD: Duration = Duration::from_secs(24);
const TARGET_DEBUG_BUILD: Duration = Duration::from_secs(12);

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = manifest.join("../../shared/qemu-10.0.2/qapi/qapi-schema.json");
    if !schema.is_file() {
        println!("notice: {} is absent; nothing to measure", schema.display());
        return;
    }
    let loaded = qapi_gen::load_for_generation(&schema).expect("valid schema");
    let measure = |options: qapi_gen::Options| {
        let mut times = Vec::new();
        let mut source = String::new();
        while times.len() < 15 {
            let start = Instant::now();
            source = qapi_gen::rust_source_with(&loaded.schema, "qapi/qapi-schema.json", options);
            times.push(start.elapsed());
        }
        times.sort();
        (times[times.len() / 2], source)
    };
    let load_start = Instant::now();
    let reloaded = qapi_gen::load_for_generation(&schema).expect("valid schema");
    let load = load_start.elapsed();
    drop(reloaded);
    let plain = qapi_gen::Options {
        docs: false,
        format: false,
    };
    let (plain_time, plain_source) = measure(plain);
    let (median, source) = measure(qapi_gen::Options::default());
    println!(
        "generate system bindings, unformatted, without docs (as the existing crate): {:.1} ms + {:.1} ms to load; \
         existing crate {:.0} ms: ratio {:.2}, target {}",
        ms(plain_time),
        ms(load),
        ms(EXISTING_GENERATION),
        (plain_time + load).as_secs_f64() / EXISTING_GENERATION.as_secs_f64(),
        if plain_time + load <= EXISTING_GENERATION { "met" } else { "NOT met" }
    );
    println!(
        "generate system bindings, formatted, with docs (the default): {:.1} ms + {:.1} ms to load",
        ms(median),
        ms(load)
    );
    let doc_lines = source
        .lines()
        .filter(|l| l.trim_start().starts_with("///"))
        .count();
    println!(
        "output: {} bytes, {} lines, {} doc lines (unformatted, without docs: {} bytes)",
        source.len(),
        source.lines().count(),
        doc_lines,
        plain_source.len()
    );

    // A crate holding the bindings, built with its dependencies prebuilt.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-bindings");
    let crate_dir = dir.join("crate");
    std::fs::create_dir_all(crate_dir.join("src")).expect("target is writable");
    let qapi_types = manifest
        .join("../qapi-types")
        .canonicalize()
        .expect("qapi-types exists");
    std::fs::write(
        crate_dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"bench-bindings\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nqapi-types = {{ path = {:?} }}\n\n[workspace]\n",
            qapi_types.display().to_string()
        ),
    )
    .expect("writable");
    std::fs::write(
        crate_dir.join("src/lib.rs"),
        "//! Benchmark crate.\npub mod system;\n",
    )
    .expect("writable");
    std::fs::write(crate_dir.join("src/system.rs"), &source).expect("writable");
    for (profile, args) in [("debug", &[][..]), ("release", &["--release"][..])] {
        let build = |extra: &[&str]| {
            let status = Command::new(env!("CARGO"))
                .args(["build", "-q"])
                .args(args)
                .args(extra)
                .current_dir(&crate_dir)
                .env("CARGO_TARGET_DIR", dir.join("target"))
                .status()
                .expect("cargo runs");
            assert!(status.success(), "the bindings crate builds");
        };
        build(&[]);
        let clean = Command::new(env!("CARGO"))
            .args(["clean", "-q", "-p", "bench-bindings"])
            .args(args)
            .current_dir(&crate_dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .status()
            .expect("cargo runs");
        assert!(clean.success());
        let start = Instant::now();
        build(&[]);
        let elapsed = start.elapsed();
        if profile == "debug" {
            println!(
                "build bindings crate ({profile}): {:.1} s; existing crate {:.0} s: ratio {:.2}; target {:.0} s: {}",
                elapsed.as_secs_f64(),
                EXISTING_DEBUG_BUILD.as_secs_f64(),
                elapsed.as_secs_f64() / EXISTING_DEBUG_BUILD.as_secs_f64(),
                TARGET_DEBUG_BUILD.as_secs_f64(),
                if elapsed <= TARGET_DEBUG_BUILD { "met" } else { "NOT met" }
            );
        } else {
            println!(
                "build bindings crate ({profile}): {:.1} s",
                elapsed.as_secs_f64()
            );
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
