//! The `cargo qapi` command line, as a library so it is tested in-process.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::model::Schema;
use crate::{load, DocRules, Error};

/// Exit status: the schema is valid.
pub const EXIT_OK: i32 = 0;
/// Exit status: the schema is invalid.
pub const EXIT_INVALID: i32 = 1;
/// Exit status: bad usage, or a file could not be read (and, for `diff`,
/// a schema is invalid).
pub const EXIT_USAGE: i32 = 2;
/// Exit status of `diff`: some change breaks clients of the old schema.
pub const EXIT_BREAKING: i32 = 1;

/// `cargo qapi`: check QAPI schemas, generate Rust bindings from them, and
/// compare two versions of one.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-qapi",
    bin_name = "cargo qapi",
    version,
    after_help = "Examples:\n  cargo qapi check schema/example.json\n  \
                  cargo qapi diff schema/example.json tests/schemas/diff/example-next.json"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check a schema; report every problem as FILE:LINE:COL.
    #[command(
        after_help = "Exit status: 0 valid, 1 invalid, 2 usage or I/O error.\n\n\
                            Example:\n  cargo qapi check ../qemu/qapi/qapi-schema.json"
    )]
    Check(CheckArgs),
    /// Generate Rust bindings as one self-contained module file.
    #[command(
        after_help = "Exit status: 0 written (or current with --check), 1 invalid schema or \
                            stale file, 2 usage or I/O error.\n\n\
                            Examples:\n  cargo qapi generate schema/qmp.json --out src/qmp.rs\n  \
                            cargo qapi generate schema/qmp.json --out src/qmp.rs --check"
    )]
    Generate(GenerateArgs),
    /// Compare two schemas: what changed, and what breaks clients of the
    /// old one.
    #[command(
        after_help = "One line a change ('+' added, '-' removed, '~' changed), breaking ones \
                            marked [breaking: why], then a summary. Doc-comment problems are \
                            ignored.\n\n\
                            Exit status: 0 nothing breaks, 1 some change breaks clients, 2 usage \
                            or I/O error or invalid schema.\n\n\
                            Examples:\n  cargo qapi diff schema/example.json \
                            tests/schemas/diff/example-next.json\n  \
                            cargo qapi diff ../qemu-9.2/qapi/qapi-schema.json \
                            ../qemu-10.0/qapi/qapi-schema.json --json"
    )]
    Diff(DiffArgs),
}

/// Arguments of `cargo qapi diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old schema file (its includes are read too).
    pub old: PathBuf,
    /// The new schema file.
    pub new: PathBuf,
    /// Print the changes as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `cargo qapi generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The schema file (its includes are read too).
    pub schema: PathBuf,
    /// The Rust file to write; a crate compiles it with `mod NAME;`.
    #[arg(long)]
    pub out: PathBuf,
    /// Write nothing; exit 1, printing a diff, when the file is not what
    /// generation would write (for CI on checked-in bindings).
    #[arg(long)]
    pub check: bool,
    /// Leave out the rustdoc rendered from the schema's doc comments.
    #[arg(long)]
    pub no_docs: bool,
    /// Skip formatting (faster; the output compiles the same).
    #[arg(long)]
    pub no_format: bool,
}

/// Arguments of `cargo qapi check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The schema file (its includes are read too).
    pub schema: PathBuf,
    /// Report doc-comment problems as warnings, as `generate` does for
    /// schemas of older QEMU releases.
    #[arg(long)]
    pub lenient_docs: bool,
}

/// Runs the command line `args` (program name first; a leading `qapi`
/// argument, as cargo passes it, is skipped) and returns the exit status.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "qapi") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                err.write_all(text.as_bytes())
            } else {
                out.write_all(text.as_bytes())
            };
            return code;
        }
    };
    match cli.command {
        Command::Check(args) => check(&args, out, err),
        Command::Generate(args) => generate(&args, out, err),
        Command::Diff(args) => diff(&args, out, err),
    }
}

/// Reads a schema for `diff`: a schema file and its includes, with
/// doc-comment problems ignored (they change nothing on the wire).
fn load_schema(path: &Path) -> Result<Schema, Error> {
    crate::load_for_generation(path).map(|loaded| loaded.schema)
}

fn diff(args: &DiffArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut schemas = Vec::with_capacity(2);
    for path in [&args.old, &args.new] {
        match load_schema(path) {
            Ok(schema) => schemas.push(schema),
            Err(Error::Invalid(report)) => {
                let _ = err.write_all(report.render().as_bytes());
                return EXIT_USAGE;
            }
            Err(e @ Error::Io { .. }) => {
                let _ = writeln!(err, "cargo qapi: {e}");
                return EXIT_USAGE;
            }
        }
    }
    let changes = crate::schema_diff::compare(&schemas[0], &schemas[1]);
    let text = if args.json {
        format!("{:#}\n", changes.to_json())
    } else {
        changes.render_text()
    };
    let _ = out.write_all(text.as_bytes());
    if changes.breaking() > 0 {
        EXIT_BREAKING
    } else {
        EXIT_OK
    }
}

fn generate(args: &GenerateArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let loaded = match crate::load_for_generation(&args.schema) {
        Ok(loaded) => loaded,
        Err(Error::Invalid(report)) => {
            let _ = err.write_all(report.render().as_bytes());
            return EXIT_INVALID;
        }
        Err(e @ Error::Io { .. }) => {
            let _ = writeln!(err, "cargo qapi: {e}");
            return EXIT_USAGE;
        }
    };
    for warning in &loaded.warnings {
        let _ = writeln!(err, "{}", warning.render(loaded.schema.sources()));
    }
    let origin = args.schema.display().to_string();
    let options = crate::Options {
        docs: !args.no_docs,
        format: !args.no_format,
    };
    let source = crate::rust_source_with(&loaded.schema, &origin, options);
    if args.check {
        let current = std::fs::read_to_string(&args.out).unwrap_or_default();
        if current == source {
            let _ = writeln!(out, "{}: up to date", args.out.display());
            return EXIT_OK;
        }
        let _ = writeln!(
            err,
            "{} is stale: run `cargo qapi generate {} --out {}`",
            args.out.display(),
            args.schema.display(),
            args.out.display()
        );
        let _ = err.write_all(
            crate::diff::unified(&current, &source, &args.out.display().to_string()).as_bytes(),
        );
        return EXIT_INVALID;
    }
    match crate::write_if_changed(&args.out, &source) {
        Ok(written) => {
            let state = if written { "written" } else { "unchanged" };
            let _ = writeln!(out, "{}: {state}", args.out.display());
            EXIT_OK
        }
        Err(e) => {
            let _ = writeln!(err, "cargo qapi: can't write '{}': {e}", args.out.display());
            EXIT_USAGE
        }
    }
}

fn check(args: &CheckArgs, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let rules = if args.lenient_docs {
        DocRules::Lenient
    } else {
        DocRules::Strict
    };
    match load(&args.schema, rules) {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                let _ = writeln!(err, "{}", warning.render(loaded.schema.sources()));
            }
            let _ = writeln!(out, "{}: {}", args.schema.display(), loaded.schema.counts());
            EXIT_OK
        }
        Err(Error::Invalid(report)) => {
            let _ = err.write_all(report.render().as_bytes());
            EXIT_INVALID
        }
        Err(e @ Error::Io { .. }) => {
            let _ = writeln!(err, "cargo qapi: {e}");
            EXIT_USAGE
        }
    }
}
