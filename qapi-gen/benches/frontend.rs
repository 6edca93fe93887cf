//! Parse-and-check time of QEMU 10.0.2's system emulator schema.
//!
//! `cargo bench -p qapi-gen --bench frontend` prints the median and best of
//! repeated loads, beside the figures to compare with: QEMU's own Python
//! front end (about 400 ms for the same work on this machine) and the
//! 10 ms target.

use std::path::Path;
use std::time::{Duration, Instant};

#[path = "support/required.rs"]
mod required;

/// QEMU's `scripts/qapi` parse + check of the same schema, measured on the
/// project's 2-core machine (see `../shared/STYLE.md`).
const QEMU_PYTHON: Duration = Duration::from_millis(400);
/// The target for this front end.
const TARGET: Duration = Duration::from_millis(10);

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/qemu-10.0.2");
    let schemas = [
        "qapi/qapi-schema.json",
        "storage-daemon/qapi/qapi-schema.json",
        "qga/qapi-schema.json",
    ];
    if !root.join(schemas[0]).is_file() {
        required::shared_missing(&root.display().to_string(), "nothing to measure");
        return;
    }
    for schema in schemas {
        let path = root.join(schema);
        let bytes: usize = {
            let loaded = qapi_gen::load(&path, qapi_gen::DocRules::Strict).expect("valid schema");
            loaded
                .schema
                .sources()
                .files()
                .iter()
                .map(|f| std::fs::metadata(&f.path).map_or(0, |m| m.len() as usize))
                .sum()
        };
        let mut times = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(3);
        while times.len() < 20 || (Instant::now() < deadline && times.len() < 500) {
            let start = Instant::now();
            let loaded = qapi_gen::load(&path, qapi_gen::DocRules::Strict).expect("valid schema");
            times.push(start.elapsed());
            // Freeing the model is not part of parsing and checking.
            drop(std::hint::black_box(loaded));
        }
        times.sort();
        let median = times[times.len() / 2];
        let best = times[0];
        println!(
            "{schema}: {:.1} KiB, median {:.2} ms, best {:.2} ms over {} runs",
            bytes as f64 / 1024.0,
            ms(median),
            ms(best),
            times.len()
        );
        if schema == schemas[0] {
            println!(
                "  vs QEMU's Python front end ({:.0} ms): {:.0}x faster; target {:.0} ms: {}",
                ms(QEMU_PYTHON),
                QEMU_PYTHON.as_secs_f64() / median.as_secs_f64(),
                ms(TARGET),
                if median <= TARGET { "met" } else { "NOT met" }
            );
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
