//! The `query-qmp-schema` reply a server gives: the introspection that
//! generated server bindings carry, under the build conditions that hold.

/// Which build conditions (the schema's `if`: `CONFIG_LINUX`, ...) hold
/// for a server: what `query-qmp-schema` reports follows them, as QEMU's
/// follows its build configuration.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    _private: (),
}
