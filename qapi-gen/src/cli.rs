//! The `cargo qapi` command line, as a library so it is tested in-process.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::{load, DocRules, Error, Loaded};

/// Exit status: success (the schema is valid, the file current).
pub const EXIT_OK: i32 = 0;
/// Exit status: the schema is invalid, or a checked file is stale.
pub const EXIT_INVALID: i32 = 1;
/// Exit status: bad usage, or a file could not be read (and, for `diff`,
/// a schema is invalid).
pub const EXIT_USAGE: i32 = 2;
/// Exit status of `diff`: some change breaks clients of the old schema.
pub const EXIT_BREAKING: i32 = 1;

/// `cargo qapi`: check QAPI schemas, generate Rust bindings from them or
/// from a running QEMU, and compare schema versions.
#[derive(Debug, Parser)]
#[command(
    name = "cargo-qapi",
    bin_name = "cargo qapi",
    version,
    after_help = "Examples:\n  \
        cargo qapi check schema/example.json\n  \
        cargo qapi generate schema/qmp-core.json --out src/qmp.rs --check\n  \
        cargo qapi introspect --out qsd.json --qemu qemu-storage-daemon\n  \
        cargo qapi generate --introspect qsd.json --out src/qsd.rs\n  \
        cargo qapi diff schema/example.json tests/schemas/diff/example-next.json\n  \
        cargo qapi --color never check schema/example.json"
)]
pub struct Cli {
    /// When to colour diagnostics: `auto` colours them on a terminal.
    #[arg(long, global = true, value_enum, default_value_t = Colour::Auto, value_name = "WHEN")]
    pub color: Colour,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// When diagnostics are coloured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Colour {
    /// On a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse and check a schema; report every problem as FILE:LINE:COL.
    #[command(
        after_help = "Exit status: 0 valid, 1 invalid, 2 usage or I/O error.\n\n\
        Examples:\n  \
        cargo qapi check ../qemu/qapi/qapi-schema.json\n  \
        cargo qapi check --lenient-docs qemu-7.2/qapi/qapi-schema.json"
    )]
    Check(CheckArgs),
    /// Generate Rust bindings as one self-contained module file, from a
    /// schema, an introspection, or both.
    #[command(
        after_help = "Exit status: 0 written (or current with --check), 1 invalid schema or \
        stale file, 2 usage or I/O error.\n\n\
        Examples:\n  \
        cargo qapi generate schema/qmp.json --out src/qmp.rs\n  \
        cargo qapi generate schema/qmp.json --out src/qmp.rs --check\n  \
        cargo qapi generate schema/qmp.json --out src/qmp.rs --no-docs --no-format\n  \
        cargo qapi generate schema/qmp.json --out src/qmp.rs --only 'query-*,stop,cont' --only STOP\n  \
        cargo qapi generate schema/qmp.json --out src/qmp.rs --server\n  \
        cargo qapi generate --introspect qsd.json --out src/qsd.rs\n  \
        cargo qapi generate --introspect qsd.json ../qemu/storage-daemon/qapi/qapi-schema.json --out src/qsd.rs\n  \
        cargo qapi generate --introspect qsd-10.1.json --names-from qsd-10.0.json --out src/qsd.rs"
    )]
    Generate(GenerateArgs),
    /// Capture a QEMU's introspection (the query-qmp-schema reply) from
    /// its QMP socket, or from a QEMU started for the purpose.
    #[command(
        after_help = "Exit status: 0 captured, 2 QEMU could not be started or queried.\n\n\
        Examples:\n  \
        cargo qapi introspect --socket /run/qemu/qmp.sock --out qemu.json --timeout 5\n  \
        cargo qapi introspect --out qsd.json --qemu qemu-storage-daemon\n  \
        cargo qapi introspect --out system.json --qemu qemu-system-x86_64 -M none -display none"
    )]
    Introspect(IntrospectArgs),
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
                            ../qemu-10.0/qapi/qapi-schema.json --json\n  \
                            cargo qapi diff qemu-9.2.json qemu-10.0.json   \
                            (two `cargo qapi introspect` captures)"
    )]
    Diff(DiffArgs),
}

/// Arguments of `cargo qapi diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old schema file (its includes are read too), or an
    /// introspection file from `cargo qapi introspect`.
    pub old: PathBuf,
    /// The new schema file or introspection file.
    pub new: PathBuf,
    /// Print the changes as JSON instead of text.
    #[arg(long)]
    pub json: bool,
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

/// Arguments of `cargo qapi generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The schema file (its includes are read too). With --introspect:
    /// the source the introspected QEMU was built from (optional).
    #[arg(required_unless_present = "introspect")]
    pub schema: Option<PathBuf>,
    /// An introspection file (from `cargo qapi introspect`): the bindings
    /// hold exactly what that QEMU exposes. Without SCHEMA, they are
    /// generated from the introspection alone, with names derived for the
    /// types QEMU does not name.
    #[arg(long, value_name = "FILE")]
    pub introspect: Option<PathBuf>,
    /// With --introspect and no SCHEMA: keep the type names of FILE (the
    /// introspection the bindings were generated from before, or a
    /// schema) wherever its types pair up with the introspection's, so
    /// that code written against them keeps compiling after an upgrade.
    #[arg(
        long,
        value_name = "FILE",
        requires = "introspect",
        conflicts_with = "schema"
    )]
    pub names_from: Option<PathBuf>,
    /// The Rust file to write; a crate compiles it with `mod NAME;`.
    #[arg(long, value_name = "FILE")]
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
    /// Keep only these commands and events (exact names, or globs such as
    /// `query-*`) and the types they reach; repeatable, or a comma-separated
    /// list. What is kept and left out is counted on standard error.
    #[arg(long, value_name = "NAME[,NAME...]", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Generate the server side too: a `server` module with a trait of
    /// the commands, `Served` (a `qapi_types::server::Dispatch`) and the
    /// introspection QEMU would report (needs qapi-types' `server`
    /// feature).
    #[arg(long)]
    pub server: bool,
}

/// Arguments of `cargo qapi introspect`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["socket", "qemu"])))]
pub struct IntrospectArgs {
    /// The QMP socket of a running QEMU.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Start this QEMU binary with these arguments and a QMP monitor of
    /// its own, capture, and stop it. Takes the rest of the command line,
    /// so it comes last.
    #[arg(long, value_name = "BINARY [ARGS]", num_args = 1.., allow_hyphen_values = true)]
    pub qemu: Vec<OsString>,
    /// Where to write the introspection JSON (standard output by default).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How long QEMU may take to open its monitor, to greet, to negotiate
    /// and to answer, each.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
}

/// Runs the command line `args` (program name first; a leading `qapi`
/// argument, as cargo passes it, is skipped) and returns the exit status.
/// `--color auto` writes plain text: [`run_on_terminal`] is for a
/// terminal.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    run_with(args, out, err, false, Ending::Returns)
}

/// Like [`run`], for a process whose standard error may be a terminal:
/// `--color auto` colours diagnostics when it is one and `NO_COLOR` is not
/// set.
pub fn run_on_terminal(args: impl IntoIterator<Item = OsString>) -> i32 {
    run_process(args, Ending::Returns)
}

/// `cargo qapi` as the process: [`run_on_terminal`] with the process's
/// arguments, then exits with its status. The loaded schema is not freed
/// piece by piece first (the exit frees it at once): a few milliseconds
/// of a command that takes tens.
pub fn main() -> ! {
    let status = run_process(std::env::args_os(), Ending::Exits);
    std::process::exit(status)
}

/// What follows a run: a return to a caller, or the process's exit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ending {
    Returns,
    Exits,
}

fn run_process(args: impl IntoIterator<Item = OsString>, ending: Ending) -> i32 {
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    run_with(
        args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
        terminal,
        ending,
    )
}

fn run_with(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    terminal: bool,
    ending: Ending,
) -> i32 {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if args.get(1).is_some_and(|a| a == "qapi") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                let _ = err.write_all(text.as_bytes());
                return EXIT_USAGE;
            }
            // --help, --version.
            let mut report = Reporter {
                err,
                colour: false,
                ending,
            };
            return match emit(out, &text, &mut report) {
                Ok(()) => EXIT_OK,
                Err(code) => code,
            };
        }
    };
    let colour = match cli.color {
        Colour::Auto => terminal,
        Colour::Always => true,
        Colour::Never => false,
    };
    let mut report = Reporter {
        err,
        colour,
        ending,
    };
    match cli.command {
        Command::Check(args) => check(&args, out, &mut report),
        Command::Generate(args) => generate(&args, out, &mut report),
        Command::Introspect(args) => introspect(&args, out, &mut report),
        Command::Diff(args) => diff(&args, out, &mut report),
    }
}

fn diff(args: &DiffArgs, out: &mut dyn Write, report: &mut Reporter<'_>) -> i32 {
    let (old, new) = match crate::introspection::load::load_pair(&args.old, &args.new) {
        Ok(pair) => pair,
        Err(error) => {
            report.error(&error);
            return EXIT_USAGE;
        }
    };
    let changes = crate::compare::schema_diff::compare(&old, &new);
    let text = if args.json {
        format!("{:#}\n", changes.to_json())
    } else {
        changes.render_text()
    };
    if let Err(code) = emit(out, &text, report) {
        return code;
    }
    if changes.breaking() > 0 {
        EXIT_BREAKING
    } else {
        EXIT_OK
    }
}

/// Writes `text` to standard output and flushes it. A failure (a full
/// disk, a closed pipe) is reported, and the exit status it calls for
/// returned: output that did not arrive is not a success.
fn emit(out: &mut dyn Write, text: &str, report: &mut Reporter<'_>) -> Result<(), i32> {
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        // The reader stopped reading (`| head`): nothing to say, as other
        // command-line tools.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(EXIT_USAGE),
        Err(e) => {
            report.failure(&format!("can't write standard output: {e}"));
            Err(EXIT_USAGE)
        }
    }
}

/// Writes diagnostics and errors to standard error.
struct Reporter<'a> {
    err: &'a mut dyn Write,
    colour: bool,
    ending: Ending,
}

impl Reporter<'_> {
    /// Done with `loaded`: dropped, unless the process exits next.
    fn release(&self, loaded: Loaded) {
        if self.ending == Ending::Exits {
            std::mem::forget(loaded);
        }
    }

    /// Reports a failed load and returns the exit status it calls for.
    fn error(&mut self, error: &Error) -> i32 {
        match error {
            Error::Invalid(report) => {
                let _ = self
                    .err
                    .write_all(report.render_styled(self.colour).as_bytes());
                EXIT_INVALID
            }
            Error::Unmatched(unmatched) => {
                for line in unmatched.to_string().lines() {
                    self.failure(line);
                }
                EXIT_USAGE
            }
            _ => {
                self.failure(&error.to_string());
                EXIT_USAGE
            }
        }
    }

    fn warnings(&mut self, loaded: &Loaded) {
        for warning in &loaded.warnings {
            let text = warning.render_styled(loaded.schema.sources(), self.colour);
            let _ = writeln!(self.err, "{text}");
        }
    }

    fn line(&mut self, text: &str) {
        let _ = writeln!(self.err, "{text}");
    }

    /// `note: TEXT`, the label cyan on a terminal.
    fn note(&mut self, text: &str) {
        self.labelled("note:", anstyle::AnsiColor::Cyan, text);
    }

    /// `cargo qapi: TEXT` for what stopped the command, red on a
    /// terminal.
    fn failure(&mut self, text: &str) {
        self.labelled("cargo qapi:", anstyle::AnsiColor::Red, text);
    }

    fn labelled(&mut self, label: &str, colour: anstyle::AnsiColor, text: &str) {
        let style = if self.colour {
            colour.on_default().bold()
        } else {
            anstyle::Style::new()
        };
        let _ = writeln!(self.err, "{style}{label}{style:#} {text}");
    }
}

fn check(args: &CheckArgs, out: &mut dyn Write, report: &mut Reporter<'_>) -> i32 {
    let rules = if args.lenient_docs {
        DocRules::Lenient
    } else {
        DocRules::Strict
    };
    match load(&args.schema, rules) {
        Ok(loaded) => {
            report.warnings(&loaded);
            let text = format!("{}: {}\n", args.schema.display(), loaded.schema.counts());
            report.release(loaded);
            match emit(out, &text, report) {
                Ok(()) => EXIT_OK,
                Err(code) => code,
            }
        }
        Err(error) => {
            let code = report.error(&error);
            // Older releases' schemas fail today's doc rules only.
            let only_docs = matches!(&error, Error::Invalid(r)
                if r.diagnostics.iter().all(|d| d.category == crate::Category::Doc));
            if only_docs && !args.lenient_docs {
                report.note(&format!(
                    "only doc comments break today's rules: `cargo qapi check --lenient-docs {}` \
                     reports them as warnings (as `generate` does), for older QEMU releases' \
                     schemas",
                    args.schema.display()
                ));
            }
            code
        }
    }
}

fn generate(args: &GenerateArgs, out: &mut dyn Write, report: &mut Reporter<'_>) -> i32 {
    let loaded = match (&args.introspect, &args.schema) {
        (Some(introspection), None) if args.names_from.is_some() => {
            match crate::introspection::load::load_named(
                introspection,
                args.names_from.as_deref().unwrap_or(introspection),
            ) {
                Ok(loaded) => loaded,
                Err(error) => return report.error(&error),
            }
        }
        (Some(introspection), source) => {
            match crate::introspection::load::load(introspection, source.as_deref()) {
                Ok(introspected) => {
                    for note in &introspected.notes {
                        report.note(note);
                    }
                    introspected.loaded
                }
                Err(error) => return report.error(&error),
            }
        }
        (None, Some(schema)) => match crate::load_for_generation(schema) {
            Ok(loaded) => loaded,
            Err(error) => return report.error(&error),
        },
        // clap requires one of them.
        (None, None) => return EXIT_USAGE,
    };
    report.warnings(&loaded);
    let origin = match (&args.introspect, &args.schema) {
        (Some(i), source) => crate::output::generate::introspection_origin(
            &shown(i),
            source
                .as_deref()
                .map(|s| PathBuf::from(shown(s)))
                .as_deref(),
        ),
        (None, Some(s)) => shown(s),
        (None, None) => String::new(),
    };
    let options = crate::Options {
        docs: !args.no_docs,
        format: !args.no_format,
        server: args.server,
    };
    let selection = if args.only.is_empty() {
        crate::Selection::all()
    } else {
        match crate::Selection::only(&loaded.schema, &args.only) {
            Ok(selection) => {
                report.line(&selection.counts(&loaded.schema).to_string());
                selection
            }
            Err(unmatched) => return report.error(&unmatched.into()),
        }
    };
    // Bindings of a QEMU's introspection serve it as captured.
    let served = match &args.introspect {
        Some(file) if args.server => {
            match crate::output::generate::served_introspection(file, &loaded.schema, &selection) {
                Ok(text) => Some(text),
                Err(error) => return report.error(&error),
            }
        }
        _ => None,
    };
    let source = match crate::output::generate::rust_source_serving(
        &loaded.schema,
        &origin,
        options,
        &selection,
        served,
    ) {
        Ok(source) => source,
        Err(error) => return report.error(&error),
    };
    if args.check {
        let Ok(current) = std::fs::read_to_string(&args.out) else {
            report.line(&format!(
                "{} is missing: run `cargo qapi {}`",
                args.out.display(),
                regenerate_command(args)
            ));
            return EXIT_INVALID;
        };
        // The header names the schema as the command line spelled it
        // (`./schema/x.json`, from another directory): not a change.
        let body = |text: &str| {
            text.split_once('\n')
                .map_or("", |(_, rest)| rest)
                .to_string()
        };
        if body(&current) == body(&source) {
            let text = format!("{}: up to date\n", args.out.display());
            return match emit(out, &text, report) {
                Ok(()) => EXIT_OK,
                Err(code) => code,
            };
        }
        report.line(&format!(
            "{} is stale: run `cargo qapi {}`",
            args.out.display(),
            regenerate_command(args)
        ));
        let diff =
            crate::compare::diff::unified(&current, &source, &args.out.display().to_string());
        let _ = report.err.write_all(diff.as_bytes());
        return EXIT_INVALID;
    }
    report.release(loaded);
    match crate::write_if_changed(&args.out, &source) {
        Ok(written) => {
            let state = if written { "written" } else { "unchanged" };
            let text = format!("{}: {state}\n", args.out.display());
            match emit(out, &text, report) {
                Ok(()) => EXIT_OK,
                Err(code) => code,
            }
        }
        Err(e) => {
            report.failure(&format!("can't write '{}': {e}", args.out.display()));
            EXIT_USAGE
        }
    }
}

/// A path as the generated header names it: without `./`, and relative
/// to the current directory when it is under it, so that one file is
/// generated the same however the command line spells its input.
fn shown(path: &Path) -> String {
    let path: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf));
    relative.unwrap_or(path).display().to_string()
}

/// The `generate` command line that brings `args.out` up to date.
fn regenerate_command(args: &GenerateArgs) -> String {
    let mut words = vec!["generate".to_string()];
    if let Some(introspection) = &args.introspect {
        words.push(format!("--introspect {}", introspection.display()));
    }
    if let Some(schema) = &args.schema {
        words.push(schema.display().to_string());
    }
    if let Some(names_from) = &args.names_from {
        words.push(format!("--names-from {}", names_from.display()));
    }
    words.push(format!("--out {}", args.out.display()));
    if args.no_docs {
        words.push("--no-docs".into());
    }
    if args.no_format {
        words.push("--no-format".into());
    }
    if args.server {
        words.push("--server".into());
    }
    if !args.only.is_empty() {
        words.push(format!("--only {}", args.only.join(",")));
    }
    words.join(" ")
}

fn introspect(args: &IntrospectArgs, out: &mut dyn Write, report: &mut Reporter<'_>) -> i32 {
    // `--qemu` takes the rest of the line: an option of ours after it
    // would go to QEMU (which has none of these names).
    if let Some(ours) = args.qemu.iter().skip(1).find_map(|arg| {
        let arg = arg.to_str()?;
        ["--out", "--socket", "--color", "--timeout"]
            .into_iter()
            .find(|o| arg == *o || arg.starts_with(&format!("{o}=")))
    }) {
        report.failure(&format!(
            "`{ours}` comes after `--qemu`, so it would be passed to QEMU: put it before \
             `--qemu BINARY [ARGS]`"
        ));
        return EXIT_USAGE;
    }
    let timeout = std::time::Duration::from_secs(args.timeout);
    let captured = match (&args.socket, args.qemu.split_first()) {
        (Some(socket), _) => crate::introspection::capture::from_socket_within(socket, timeout),
        (None, Some((binary, rest))) => {
            crate::introspection::capture::from_qemu_within(binary, rest, timeout)
        }
        // clap requires one of them.
        (None, None) => return EXIT_USAGE,
    };
    let json = match captured {
        Ok(json) => json,
        Err(e) => {
            report.failure(&e.to_string());
            return EXIT_USAGE;
        }
    };
    match &args.out {
        None => match emit(out, &json, report) {
            Ok(()) => EXIT_OK,
            Err(code) => code,
        },
        Some(path) => match write_file(path, &json) {
            Ok(()) => {
                let count = json.lines().count().saturating_sub(2);
                let text = format!("{}: {count} entities\n", path.display());
                match emit(out, &text, report) {
                    Ok(()) => EXIT_OK,
                    Err(code) => code,
                }
            }
            Err(e) => {
                report.failure(&format!("can't write '{}': {e}", path.display()));
                EXIT_USAGE
            }
        },
    }
}

fn write_file(path: &Path, contents: &str) -> std::io::Result<()> {
    crate::write_if_changed(path, contents).map(|_| ())
}
