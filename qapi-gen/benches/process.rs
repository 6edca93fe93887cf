//! The times a user waits for: `cargo qapi` as a process, started afresh
//! for each run as the command line and a build script start it, on QEMU
//! 10.0.2's system emulator schema, beside the same work in-process (the
//! figure the other benchmarks print) and where the difference goes.
//!
//! `cargo bench -p qapi-gen --bench process` prints, for `check`,
//! `generate` (formatted, with docs: the default) and `generate
//! --no-format --no-docs`, the median elapsed time of the process and of
//! the work in-process, the processes' CPU time, and the targets: cold
//! `check` under 10 ms, cold formatted `generate` under 200 ms. The three
//! commands take turns, round after round, so that a change in the
//! machine's load meets them all.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const ROUNDS: usize = 15;

fn main() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = manifest.join("../../shared/qemu-10.0.2/qapi/qapi-schema.json");
    assert!(
        schema.is_file(),
        "{} is absent: the benchmark needs QEMU's schemas",
        schema.display()
    );
    let dir = manifest.join("../target/bench-process");
    std::fs::create_dir_all(&dir).expect("target is writable");
    let schema_arg = schema.to_str().expect("a UTF-8 path");
    let out = dir.join("system.rs");
    let out_arg = out.to_str().expect("a UTF-8 path");
    let cases: [(&str, Vec<&str>, Option<f64>); 3] = [
        ("check", vec!["qapi", "check", schema_arg], Some(10.0)),
        (
            "generate (formatted, with docs)",
            vec!["qapi", "generate", schema_arg, "--out", out_arg],
            Some(200.0),
        ),
        (
            "generate --no-format --no-docs",
            vec![
                "qapi",
                "generate",
                schema_arg,
                "--out",
                out_arg,
                "--no-format",
                "--no-docs",
            ],
            None,
        ),
    ];
    // The same work in-process (what the other benchmarks measure), in
    // the same rounds.
    let in_process = |i: usize| -> Duration {
        let start = Instant::now();
        let loaded = if i == 0 {
            qapi_gen::load(&schema, qapi_gen::DocRules::Strict)
        } else {
            qapi_gen::load_for_generation(&schema)
        }
        .expect("valid schema");
        if i > 0 {
            let plain = i == 2;
            let options = qapi_gen::Options {
                docs: !plain,
                format: !plain,
                ..Default::default()
            };
            let source = qapi_gen::rust_source_with(&loaded.schema, "system", options)
                .expect("the bindings parse");
            std::hint::black_box(source);
        }
        let time = start.elapsed();
        drop(std::hint::black_box(loaded));
        time
    };
    let mut elapsed = vec![Vec::new(); cases.len()];
    let mut work = vec![Vec::new(); cases.len()];
    let mut cpu = vec![Vec::new(); cases.len()];
    for _ in 0..ROUNDS {
        for (i, (_, args, _)) in cases.iter().enumerate() {
            // The file is written by every run, as a first build writes it.
            let _ = std::fs::remove_file(&out);
            let before = children_cpu();
            let start = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_cargo-qapi"))
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status()
                .expect("cargo-qapi starts");
            elapsed[i].push(start.elapsed());
            cpu[i].push(children_cpu().saturating_sub(before));
            assert!(status.success(), "cargo {args:?} succeeds");
            work[i].push(in_process(i));
        }
    }
    for (i, (name, _, target)) in cases.iter().enumerate() {
        let process = median(&mut elapsed[i]);
        let process_cpu = median(&mut cpu[i]);
        let work = median(&mut work[i]);
        let verdict = target.map_or(String::new(), |t| {
            format!(
                "; target {t:.0} ms: {}",
                if ms(process) <= t { "met" } else { "NOT met" }
            )
        });
        println!(
            "cargo qapi {name}, system schema, as a process: {:.1} ms elapsed ({:.1} ms CPU), \
             in-process {:.1} ms; start, exit and first touches of memory {:.1} ms{verdict}",
            ms(process),
            ms(process_cpu),
            ms(work),
            ms(process.saturating_sub(work)),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CPU time (user and system) of the children waited for so far.
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes the struct it is given, nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
