//! Generates bindings for the project's protocol schema and, where
//! `../shared` is beside the checkout, for QEMU 10.0.2's three schemas
//! (the example schema's are checked in as `src/example.rs`; the storage
//! daemon's with the server side, `storage_daemon::server`); captures
//! the introspection of the installed QEMU binaries and generates bindings
//! from it; extracts the example messages of every schema's docs for the
//! round-trip tests. Sets the cfgs `no_shared` and `no_qemu` where those
//! are absent (see `tests/support/machine.rs`).

use std::path::{Path, PathBuf};

#[path = "../support/machine.rs"]
mod machine;

use qapi_gen::doc::SectionKind;
use qapi_gen::{item_paths, load_for_generation, Builder};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.join("../..");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets it"));
    let qemu = root.join("../shared/qemu-10.0.2");
    machine::detect(&root, machine::Package::Tests);
    let schemas = [
        ("example", root.join("schema/example.json")),
        ("qmp_core", root.join("schema/qmp-core.json")),
        ("system", qemu.join("qapi/qapi-schema.json")),
        (
            "storage_daemon",
            qemu.join("storage-daemon/qapi/qapi-schema.json"),
        ),
        ("qga", qemu.join("qga/qapi-schema.json")),
    ];
    println!("cargo:rerun-if-changed={}", qemu.display());
    println!("cargo::rustc-check-cfg=cfg(qemu_schemas)");
    if schemas.iter().all(|(_, path)| path.is_file()) {
        println!("cargo::rustc-cfg=qemu_schemas");
    }
    introspected(&qemu, &out);
    allowlisted(&qemu, &out);
    for (name, path) in schemas {
        if !path.is_file() {
            println!(
                "cargo:warning=notice: {} is absent; its bindings are empty",
                path.display()
            );
            write(
                &out.join(format!("{name}.rs")),
                "/// Absent: the schema was not found at build time.\npub const ABSENT: () = ();\n",
            );
            write(
                &out.join(format!("{name}_examples.rs")),
                &dispatch(name, &[], &[]),
            );
            continue;
        }
        // The example schema's bindings are checked in (src/example.rs).
        if name != "example" {
            // The storage daemon's with the server side, for the tests of
            // serving QMP.
            Builder::new(&path)
                .out_dir(&out)
                .file_name(format!("{name}.rs"))
                .server(name == "storage_daemon")
                .run();
        } else {
            println!("cargo:rerun-if-changed={}", path.display());
        }
        let schema = load_for_generation(&path).expect("generated above").schema;
        let examples = examples(&schema);
        write(
            &out.join(format!("{name}_examples.rs")),
            &dispatch(name, &item_paths(&schema), &examples),
        );
    }
}

/// Bindings from the introspection of the QEMU binaries installed here,
/// captured now: from the introspection alone, and with QEMU's schema
/// source resolved against it (where `../shared` has it).
fn introspected(qemu: &Path, out: &Path) {
    // Each module that holds bindings sets a cfg of its name, for the
    // tests that use it.
    for module in [
        "storage_daemon_introspected",
        "storage_daemon_resolved",
        "system_introspected",
        "system_resolved",
    ] {
        println!("cargo::rustc-check-cfg=cfg({module})");
    }
    let binaries: [(&str, &str, &[&str], PathBuf); 2] = [
        (
            "storage_daemon_introspected",
            "qemu-storage-daemon",
            &[],
            qemu.join("storage-daemon/qapi/qapi-schema.json"),
        ),
        (
            "system_introspected",
            "qemu-system-x86_64",
            &["-M", "none", "-nodefaults", "-display", "none"],
            qemu.join("qapi/qapi-schema.json"),
        ),
    ];
    for (name, binary, args, source) in binaries {
        let resolved = name.replace("introspected", "resolved");
        let installed = std::process::Command::new(binary)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !installed {
            println!("cargo:warning=notice: {binary} is not installed; its introspected bindings are empty");
            // Run again once it is: a path that does not exist counts as
            // changed.
            println!("cargo:rerun-if-env-changed=PATH");
            if let Some(path) = std::env::var_os("PATH") {
                for dir in std::env::split_paths(&path) {
                    println!("cargo:rerun-if-changed={}", dir.join(binary).display());
                }
            }
            for module in [name, &resolved] {
                write(
                    &out.join(format!("{module}.rs")),
                    "/// Absent: QEMU was not installed at build time.\npub const ABSENT: () = ();\n",
                );
            }
            continue;
        }
        Builder::qemu(binary, args)
            .file_name(format!("{name}.rs"))
            .run();
        println!("cargo::rustc-cfg={name}");
        let introspection = out.join(format!("{name}.introspection.json"));
        if source.is_file() {
            Builder::introspection(&introspection)
                .schema_source(&source)
                .file_name(format!("{resolved}.rs"))
                .run();
            println!("cargo::rustc-cfg={resolved}");
        } else {
            write(
                &out.join(format!("{resolved}.rs")),
                "/// Absent: the schema was not found at build time.\npub const ABSENT: () = ();\n",
            );
        }
    }
}

/// The commands an orchestrator calls, and their events, a name a line.
const ORCHESTRATOR: &str = include_str!("orchestrator.allowlist");

/// Bindings for the [`ORCHESTRATOR`] allowlist alone: from the system emulator's schema
/// source, and from the installed qemu-system-x86_64's introspection
/// (captured by [`introspected`]) with the source's names.
fn allowlisted(qemu: &Path, out: &Path) {
    let source = qemu.join("qapi/qapi-schema.json");
    let introspection = out.join("system_introspected.introspection.json");
    for (module, builder) in [
        (
            "system_allowlisted",
            source.is_file().then(|| Builder::new(&source)),
        ),
        (
            "system_introspected_allowlisted",
            (introspection.is_file() && source.is_file())
                .then(|| Builder::introspection(&introspection).names_from(&source)),
        ),
    ] {
        println!("cargo::rustc-check-cfg=cfg({module})");
        let file_name = format!("{module}.rs");
        match builder {
            Some(builder) => {
                builder
                    .only(ORCHESTRATOR.lines())
                    .file_name(file_name)
                    .run();
                println!("cargo::rustc-cfg={module}");
            }
            None => write(
                &out.join(file_name),
                "/// Absent: no schema at build time.\npub const ABSENT: () = ();\n",
            ),
        }
    }
}

fn write(path: &Path, text: &str) {
    qapi_gen::write_if_changed(path, text).expect("OUT_DIR is writable");
}

/// The strict-JSON `->`/`<-` messages of every doc comment, in order.
fn examples(schema: &qapi_gen::Schema) -> Vec<String> {
    let mut messages = Vec::new();
    for id in schema.definitions() {
        let Some(doc) = &schema.entity(id).doc else {
            continue;
        };
        for section in &doc.sections {
            if matches!(
                section.kind,
                SectionKind::Plain | SectionKind::LegacyExample(_)
            ) {
                collect_messages(&section.text, &mut messages);
            }
        }
    }
    messages
}

/// Messages start at `->` or `<-` and run until the text parses as JSON;
/// those that never do (elided with `...`) are skipped.
fn collect_messages(text: &str, messages: &mut Vec<String>) {
    let mut current: Option<(char, String)> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let arrow = if trimmed.starts_with("->") {
            Some('>')
        } else if trimmed.starts_with("<-") {
            Some('<')
        } else {
            None
        };
        if let Some(direction) = arrow {
            current = Some((direction, trimmed[2..].to_string()));
        } else if let Some((_, text)) = &mut current {
            text.push('\n');
            text.push_str(line);
        } else {
            continue;
        }
        let (direction, text) = current.as_ref().expect("set above");
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            messages.push(format!("{direction}{text}"));
            current = None;
        }
    }
}

/// Rust code that round-trips a message through the type its name selects.
fn dispatch(module: &str, paths: &[(String, String)], examples: &[String]) -> String {
    let mut commands = String::new();
    let mut replies = String::new();
    let mut events = String::new();
    for (wire, path) in paths {
        let full = format!("crate::{module}::{path}");
        if path.starts_with("commands::") {
            commands.push_str(&format!(
                "        {wire:?} => Some(crate::round_trip::<{full}>(value)),\n"
            ));
            replies.push_str(&format!(
                "        {wire:?} => Some(crate::round_trip::<<{full} as qapi_types::Command>::Ok>(value)),\n"
            ));
        } else {
            events.push_str(&format!(
                "        {wire:?} => Some(crate::round_trip::<{full}>(value)),\n"
            ));
        }
    }
    format!(
        "/// The example messages of the schema's docs, `>` or `<` first.\n\
         pub const EXAMPLES: &[&str] = &{examples:?};\n\n\
         /// Round-trips a command's arguments.\n\
         #[allow(deprecated)]\n\
         pub fn command(name: &str, value: &qapi_types::serde_json::Value) -> Option<Result<qapi_types::serde_json::Value, String>> {{\n    match name {{\n{commands}        _ => None,\n    }}\n}}\n\n\
         /// Round-trips a command's return value.\n\
         #[allow(deprecated)]\n\
         pub fn reply(name: &str, value: &qapi_types::serde_json::Value) -> Option<Result<qapi_types::serde_json::Value, String>> {{\n    match name {{\n{replies}        _ => None,\n    }}\n}}\n\n\
         /// Round-trips an event's data.\n\
         #[allow(deprecated)]\n\
         pub fn event(name: &str, value: &qapi_types::serde_json::Value) -> Option<Result<qapi_types::serde_json::Value, String>> {{\n    match name {{\n{events}        _ => None,\n    }}\n}}\n"
    )
}
