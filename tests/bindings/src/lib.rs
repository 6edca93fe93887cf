//! Bindings generated at build time (see `build.rs`), compiled with every
//! warning denied, and the helpers the round-trip tests use.
#![deny(warnings)]
#![allow(clippy::match_single_binding, unused_variables)]

use qapi_types::serde::de::DeserializeOwned;
use qapi_types::serde::Serialize;
use qapi_types::serde_json::Value;

pub mod qemu;
#[path = "../../support/qemu_build.rs"]
pub mod qemu_build;
#[path = "../../support/temp_dir.rs"]
pub mod temp_dir;

macro_rules! bindings {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        pub mod $name {
            include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".rs"));

            /// The example messages of this schema's docs, and round trips by name.
            pub mod examples {
                include!(concat!(env!("OUT_DIR"), "/", stringify!($name), "_examples.rs"));
            }
        }
    )*};
}

/// The project's example schema, from bindings checked in as
/// `src/example.rs` (`cargo qapi generate schema/example.json --out
/// tests/bindings/src/example.rs`; CI runs it with `--check`).
pub mod example {
    include!("example.rs");

    /// The example messages of this schema's docs, and round trips by name.
    pub mod examples {
        include!(concat!(env!("OUT_DIR"), "/example_examples.rs"));
    }
}

bindings!(
    /// The core QMP protocol schema.
    qmp_core,
    /// QEMU 10.0.2's system emulator.
    system,
    /// QEMU 10.0.2's storage daemon.
    storage_daemon,
    /// QEMU 10.0.2's guest agent.
    qga
);

macro_rules! introspected {
    ($($(#[$doc:meta])* $name:ident),*) => {$(
        $(#[$doc])*
        pub mod $name {
            include!(concat!(env!("OUT_DIR"), "/", stringify!($name), ".rs"));
        }
    )*};
}

introspected!(
    /// The installed qemu-storage-daemon, from its introspection alone.
    storage_daemon_introspected,
    /// The storage daemon's schema source, as the installed
    /// qemu-storage-daemon exposes it.
    storage_daemon_resolved,
    /// The installed qemu-system-x86_64, from its introspection alone.
    system_introspected,
    /// The system emulator's schema source, as the installed
    /// qemu-system-x86_64 exposes it.
    system_resolved,
    /// The twelve commands an orchestrator calls and their events, from
    /// the system emulator's schema source.
    system_allowlisted,
    /// The same allowlist, from the installed qemu-system-x86_64's
    /// introspection, with the schema source's names.
    system_introspected_allowlisted
);

/// Decodes `value` as `T` and encodes it again.
pub fn round_trip<T: DeserializeOwned + Serialize>(value: &Value) -> Result<Value, String> {
    let typed: T = qapi_types::serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    qapi_types::serde_json::to_value(&typed).map_err(|e| e.to_string())
}
