//! Generation of QEMU 10.0.2's system emulator bindings: the time to
//! generate them, their size, and the debug and release build times of a
//! crate holding them, each beside the existing Rust QAPI generator
//! (`qapi-codegen`, run in the same process) and the build of a crate
//! holding its bindings for the same schema; then a crate holding the
//! bindings of twelve commands an orchestrator calls (`--only`), and one
//! holding none, whose build is what any crate costs.
//!
//! `cargo bench -p qapi-gen --bench generate` prints each figure with its
//! baseline and the ratio (generation also in CPU time, all threads
//! counted); the targets are generation no slower than the existing
//! generator's, and a debug build of the bindings (with docs) in at most
//! half the time of the existing generator's (without).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "support/required.rs"]
mod required;

/// The most a debug build of the bindings may take, as a share of the
/// existing generator's bindings' build.
const TARGET_BUILD_RATIO: f64 = 0.5;

/// The commands an orchestrator calls, and their events, a name a line:
/// the allowlist of the allowlisted bindings' crate (the live tests run
/// the same).
const ORCHESTRATOR: &str = include_str!("../../tests/bindings/orchestrator.allowlist");

/// The most a debug build of the allowlisted bindings may take, as a
/// share of the full bindings'.
const TARGET_ALLOWLIST_RATIO: f64 = 0.1;

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = manifest.join("../../shared/qemu-10.0.2/qapi/qapi-schema.json");
    if !schema.is_file() {
        required::shared_missing(&schema.display().to_string(), "nothing to measure");
        return;
    }
    let loaded = qapi_gen::load_for_generation(&schema).expect("valid schema");
    let measure = |options: qapi_gen::Options| {
        let mut times = Vec::new();
        let mut source = String::new();
        while times.len() < 15 {
            let start = Instant::now();
            source = qapi_gen::rust_source_with(&loaded.schema, "qapi/qapi-schema.json", options)
                .expect("the bindings parse");
            times.push(start.elapsed());
        }
        (median(&mut times), source)
    };
    // Ours as the existing generator works (load, generate unformatted
    // without docs) and the existing generator, taking turns 15 times so
    // that a change in the machine's load meets both: the medians, and
    // the median of the rounds' ratios.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-bindings");
    std::fs::create_dir_all(&dir).expect("target is writable");
    let plain = qapi_gen::Options {
        docs: false,
        format: false,
        ..Default::default()
    };
    let existing_out = dir.join("existing.rs");
    let (mut loads, mut generations, mut existing, mut ratios) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut cpu_ours, mut cpu_theirs, mut cpu_ratios) = (Vec::new(), Vec::new(), Vec::new());
    let mut plain_source = String::new();
    for _ in 0..15 {
        let (start, cpu_start) = (Instant::now(), process_cpu());
        let reloaded = qapi_gen::load_for_generation(&schema).expect("valid schema");
        let load = start.elapsed();
        let start = Instant::now();
        plain_source = qapi_gen::rust_source_with(&reloaded.schema, "qapi/qapi-schema.json", plain)
            .expect("the bindings parse");
        let generation = start.elapsed();
        let ours_cpu = process_cpu().saturating_sub(cpu_start);
        drop(reloaded);
        let cpu_start = process_cpu();
        let theirs = existing_generation(&schema, &existing_out);
        let theirs_cpu = process_cpu().saturating_sub(cpu_start);
        ratios.push((load + generation).as_secs_f64() / theirs.as_secs_f64());
        cpu_ratios.push(ours_cpu.as_secs_f64() / theirs_cpu.as_secs_f64());
        loads.push(load);
        generations.push(generation);
        existing.push(theirs);
        cpu_ours.push(ours_cpu);
        cpu_theirs.push(theirs_cpu);
    }
    let (load, plain_time, existing_time) = (
        median(&mut loads),
        median(&mut generations),
        median(&mut existing),
    );
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    cpu_ratios.sort_by(f64::total_cmp);
    let cpu_ratio = cpu_ratios[cpu_ratios.len() / 2];
    let existing_source =
        std::fs::read_to_string(&existing_out).expect("qapi-codegen wrote its bindings");
    let (median_time, source) = measure(qapi_gen::Options::default());
    println!(
        "generate system bindings, unformatted, without docs (as the existing crate): {:.1} ms + {:.1} ms to load; \
         existing crate (qapi-codegen, same run, loading included) {:.1} ms: ratio {ratio:.2} \
         (median of 15 rounds taking turns), target {}",
        ms(plain_time),
        ms(load),
        ms(existing_time),
        if ratio <= 1.0 { "met" } else { "NOT met" }
    );
    // Ours renders items on one thread a core, the existing generator on
    // one: the CPU time both take is what a machine whose other core is
    // busy (a build running beside) would see.
    println!(
        "  the same in CPU time (all threads): {:.1} ms, existing crate {:.1} ms: ratio {cpu_ratio:.2}",
        ms(median(&mut cpu_ours)),
        ms(median(&mut cpu_theirs)),
    );
    println!(
        "generate system bindings, formatted, with docs (the default): {:.1} ms + {:.1} ms to load",
        ms(median_time),
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

    // A crate holding the bindings, built with its dependencies prebuilt,
    // and one holding the existing generator's.
    let existing_debug = build_existing(&dir, &existing_source);
    let crate_dir = dir.join("crate");
    let qapi_types = manifest
        .join("../qapi-types")
        .canonicalize()
        .expect("qapi-types exists");
    write_crate(&crate_dir, "bench-bindings", &qapi_types, Some(&source));
    let selection =
        qapi_gen::Selection::only(&loaded.schema, &ORCHESTRATOR.lines().collect::<Vec<_>>())
            .expect("the allowlist matches");
    let allowlisted = qapi_gen::rust_source_only(
        &loaded.schema,
        "qapi/qapi-schema.json",
        qapi_gen::Options::default(),
        &selection,
    )
    .expect("the bindings parse");
    let allowlisted_dir = dir.join("allowlisted");
    write_crate(
        &allowlisted_dir,
        "bench-allowlisted",
        &qapi_types,
        Some(&allowlisted),
    );
    let empty_dir = dir.join("empty");
    write_crate(&empty_dir, "bench-empty", &qapi_types, None);
    let mut full_debug = Duration::ZERO;
    // Release first, so that the full bindings' debug build comes right
    // before the allowlisted crate's.
    for (profile, args) in [("release", &["--release"][..]), ("debug", &[][..])] {
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
            full_debug = elapsed;
            let ratio = elapsed.as_secs_f64() / existing_debug.as_secs_f64();
            println!(
                "build bindings crate ({profile}): {:.1} s; existing crate's bindings (same run) {:.1} s: \
                 ratio {ratio:.2}; target {TARGET_BUILD_RATIO}: {}",
                elapsed.as_secs_f64(),
                existing_debug.as_secs_f64(),
                if ratio <= TARGET_BUILD_RATIO { "met" } else { "NOT met" }
            );
        } else {
            println!(
                "build bindings crate ({profile}): {:.1} s",
                elapsed.as_secs_f64()
            );
        }
    }
    // The allowlisted crate, right after the full one, its dependencies
    // built by it.
    let debug_build = |package: &str, crate_dir: &Path| {
        let cargo = |args: &[&str]| {
            let status = Command::new(env!("CARGO"))
                .args(args)
                .arg("-q")
                .current_dir(crate_dir)
                .env("CARGO_TARGET_DIR", dir.join("target"))
                .status()
                .expect("cargo runs");
            assert!(status.success(), "cargo {args:?} in {package}");
        };
        cargo(&["build"]);
        cargo(&["clean", "-p", package]);
        let start = Instant::now();
        cargo(&["build"]);
        start.elapsed()
    };
    let allowlisted_debug = debug_build("bench-allowlisted", &allowlisted_dir);
    // What any crate costs: one without bindings, built the same way.
    let empty_debug = debug_build("bench-empty", &empty_dir);
    let counts = selection.counts(&loaded.schema);
    let ratio = allowlisted_debug.as_secs_f64() / full_debug.as_secs_f64();
    println!(
        "build allowlisted bindings crate (debug; {counts}; {} bytes): {:.2} s; \
         full bindings {:.1} s: ratio {ratio:.3}; existing crate's {:.1} s: ratio {:.3}; \
         target {TARGET_ALLOWLIST_RATIO} of the full bindings: {}",
        allowlisted.len(),
        allowlisted_debug.as_secs_f64(),
        full_debug.as_secs_f64(),
        existing_debug.as_secs_f64(),
        allowlisted_debug.as_secs_f64() / existing_debug.as_secs_f64(),
        if ratio <= TARGET_ALLOWLIST_RATIO {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "build a crate without bindings (debug, the same dependency, built the same way): {:.2} s",
        empty_debug.as_secs_f64()
    );
    // The crates' builds take a gigabyte and a half; nothing reuses them.
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes a crate named `name` in `dir` depending on `qapi_types`, with
/// `system` as its module `system` when given (else an empty library).
fn write_crate(dir: &Path, name: &str, qapi_types: &Path, system: Option<&str>) {
    std::fs::create_dir_all(dir.join("src")).expect("target is writable");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
             [dependencies]\nqapi-types = {{ path = {:?} }}\n\n[workspace]\n",
            qapi_types.display().to_string()
        ),
    )
    .expect("writable");
    let lib = match system {
        Some(source) => {
            std::fs::write(dir.join("src/system.rs"), source).expect("writable");
            "//! Benchmark crate.\npub mod system;\n"
        }
        None => "//! Benchmark crate.\n",
    };
    std::fs::write(dir.join("src/lib.rs"), lib).expect("writable");
}

/// One run of the existing generator on the same schema (it reads the
/// schema files itself), its bindings written to `out`.
fn existing_generation(schema: &Path, out: &Path) -> Duration {
    let qapi_dir = schema.parent().expect("the schema's directory");
    let start = Instant::now();
    qapi_codegen::codegen(qapi_dir, out, "QmpCommand".into()).expect("qapi-codegen runs");
    start.elapsed()
}

/// The median of `times`.
fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// The debug build time of a crate holding the existing generator's
/// bindings, its dependencies (`qapi-spec`, `serde`) prebuilt.
fn build_existing(dir: &Path, source: &str) -> Duration {
    let crate_dir = dir.join("existing");
    std::fs::create_dir_all(crate_dir.join("src")).expect("target is writable");
    std::fs::write(
        crate_dir.join("Cargo.toml"),
        "[package]\nname = \"bench-existing\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nqapi-spec = \"0.3\"\nserde = { version = \"1\", features = [\"derive\"] }\n\n\
         [workspace]\n",
    )
    .expect("writable");
    // What the generated code expects around it: serde's derives, and
    // the trait its commands implement.
    std::fs::write(
        crate_dir.join("src/lib.rs"),
        "//! Benchmark crate.\n#![allow(non_snake_case, non_camel_case_types, deprecated)]\n\
         use serde::{Deserialize, Serialize};\n\
         /// The commands' trait.\npub trait QmpCommand: qapi_spec::Command {}\n\
         include!(\"qmp.rs\");\n",
    )
    .expect("writable");
    std::fs::write(crate_dir.join("src/qmp.rs"), source).expect("writable");
    let cargo = |args: &[&str]| {
        let status = Command::new(env!("CARGO"))
            .args(args)
            .arg("-q")
            .current_dir(&crate_dir)
            .env("CARGO_TARGET_DIR", dir.join("target-existing"))
            .status()
            .expect("cargo runs");
        assert!(
            status.success(),
            "cargo {args:?} in the existing crate's bindings"
        );
    };
    cargo(&["build"]);
    cargo(&["clean", "-p", "bench-existing"]);
    let start = Instant::now();
    cargo(&["build"]);
    start.elapsed()
}

/// The CPU time this process has taken, all its threads together.
fn process_cpu() -> Duration {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the struct it is given, nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut time) };
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
