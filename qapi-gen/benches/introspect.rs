//! Bindings from a running QEMU: the time to capture the introspection of
//! the installed qemu-storage-daemon and qemu-system-x86_64 (starting and
//! stopping them), and to generate bindings from it alone and with the
//! schema source resolved against it, each beside the baseline run in the
//! same process: generating from the schema source.
//!
//! `cargo bench -p qapi-gen --bench introspect` (skipped, with a notice,
//! without QEMU 10.0.2 or `../shared`; a failure instead where `.ci/run`
//! requires them).

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

#[path = "support/required.rs"]
mod required;

/// The median of `runs` timings of `f`, and its last result.
fn median<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        last = Some(f());
        times.push(start.elapsed());
    }
    times.sort();
    (times[runs / 2], last.expect("at least one run"))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let qemu = manifest.join("../../shared/qemu-10.0.2");
    let dir = std::env::temp_dir().join(format!("qapi-bench-introspect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let binaries: [(&str, &[&str], &str); 2] = [
        (
            "qemu-storage-daemon",
            &[],
            "storage-daemon/qapi/qapi-schema.json",
        ),
        (
            "qemu-system-x86_64",
            &["-M", "none", "-nodefaults", "-display", "none"],
            "qapi/qapi-schema.json",
        ),
    ];
    for (binary, args, schema) in binaries {
        let args: Vec<OsString> = args.iter().map(Into::into).collect();
        let Ok(json) = qapi_gen::capture::from_qemu(binary.as_ref(), &args) else {
            required::qemu_missing(binary, "skipped (scripts/install-qemu installs it)");
            continue;
        };
        let (capture, _) = median(5, || {
            qapi_gen::capture::from_qemu(binary.as_ref(), &args).expect("captured before")
        });
        let file = dir.join(format!("{binary}.json"));
        std::fs::write(&file, &json).expect("writable");
        let source = qemu.join(schema);
        let plain = qapi_gen::Options {
            docs: false,
            format: false,
            ..Default::default()
        };
        let generate = |loaded: &qapi_gen::Loaded, options| {
            qapi_gen::rust_source_with(&loaded.schema, "bench", options)
                .expect("the bindings parse")
                .len()
        };
        let (alone, bytes) = median(9, || {
            let loaded = qapi_gen::introspect::load(&file, None)
                .expect("rebuilds")
                .loaded;
            generate(&loaded, plain)
        });
        println!(
            "{binary}: capture {:.1} ms ({} entities); generate from it alone (load included, unformatted, no docs): {:.1} ms, {bytes} bytes",
            ms(capture),
            json.lines().count().saturating_sub(2),
            ms(alone)
        );
        if !source.is_file() {
            required::shared_missing(
                &source.display().to_string(),
                "no comparison with the source",
            );
            continue;
        }
        let (baseline, _) = median(9, || {
            let loaded = qapi_gen::load_for_generation(&source).expect("valid");
            generate(&loaded, plain)
        });
        let (resolved, _) = median(9, || {
            let loaded = qapi_gen::introspect::load(&file, Some(&source))
                .expect("resolves")
                .loaded;
            generate(&loaded, plain)
        });
        println!(
            "{binary}: from the schema source (baseline) {:.1} ms; alone {:.1} ms: ratio {:.2}; source resolved against it {:.1} ms: ratio {:.2}",
            ms(baseline),
            ms(alone),
            alone.as_secs_f64() / baseline.as_secs_f64(),
            ms(resolved),
            resolved.as_secs_f64() / baseline.as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
