//! The build configuration of the installed QEMU (`scripts/install-qemu`):
//! the configuration symbols its schemas' conditions (`'if'`) ask about
//! that its build defines, for tests that put a server or a check under
//! the same conditions as the QEMU they compare with
//! (`Conditions::only(SYMBOLS.iter().copied())`). Shared by the
//! workspace's tests and `tests/bindings` (included by `#[path]`).

/// The configuration symbols qemu-system-x86_64 and qemu-storage-daemon
/// were built with, as far as their schemas ask: found by trial, they are
/// the set under which the introspection generated from each schema is
/// the one captured from the binary (`tests/masked_introspection.rs`,
/// `tests/bindings/tests/served_introspection.rs`). The schemas' other
/// symbols (other targets, macOS and Windows audio and display,
/// `CONFIG_WIN32`, `CONFIG_BLKIO`, `CONFIG_AF_XDP`, `CONFIG_VMNET`, the
/// compression accelerators) are undefined.
pub const SYMBOLS: &[&str] = &[
    "CONFIG_AUDIO_ALSA",
    "CONFIG_AUDIO_JACK",
    "CONFIG_AUDIO_OSS",
    "CONFIG_AUDIO_PA",
    "CONFIG_AUDIO_PIPEWIRE",
    "CONFIG_AUDIO_SDL",
    "CONFIG_BRLAPI",
    "CONFIG_CURSES",
    "CONFIG_DBUS_DISPLAY",
    "CONFIG_EBPF",
    "CONFIG_FDT",
    "CONFIG_FUSE",
    "CONFIG_GTK",
    "CONFIG_KVM",
    "CONFIG_LIBPMEM",
    "CONFIG_LINUX",
    "CONFIG_LINUX_IO_URING",
    "CONFIG_OPENGL",
    "CONFIG_PIXMAN",
    "CONFIG_POSIX",
    "CONFIG_REPLICATION",
    "CONFIG_SDL",
    "CONFIG_SECRET_KEYRING",
    "CONFIG_SPICE",
    "CONFIG_SPICE_PROTOCOL",
    "CONFIG_TCG",
    "CONFIG_TPM",
    "CONFIG_VDUSE_BLK_EXPORT",
    "CONFIG_VHOST_CRYPTO",
    "CONFIG_VHOST_USER_BLK_SERVER",
    "CONFIG_VNC",
    "CONFIG_ZSTD",
    "HAVE_CHARDEV_PARALLEL",
    "HAVE_CHARDEV_SERIAL",
    "HAVE_HOST_BLOCK_DEVICE",
    "HAVE_IPPROTO_MPTCP",
    "TARGET_I386",
];
