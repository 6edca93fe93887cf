//! A mock of a small qemu-storage-daemon: block nodes and jobs kept in
//! memory, served over QMP on a unix socket from the storage daemon's
//! schema (QEMU 10.0.2's, its server side generated at build time: see
//! `build.rs`).
//!
//! `cargo run -p mock-storage-daemon -- SOCKET`
//!
//! It serves until interrupted (SIGINT or SIGTERM), then removes the
//! socket.

#[cfg(schema_absent)]
fn main() {
    eprintln!("../shared/qemu-10.0.2 was absent when this example was built: its schema is needed");
    std::process::exit(1);
}

#[cfg(not(schema_absent))]
mod daemon;

#[cfg(not(schema_absent))]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(socket), None) = (args.next(), args.next()) else {
        eprintln!("usage: mock-storage-daemon SOCKET");
        return std::process::ExitCode::from(2);
    };
    match daemon::serve(std::path::Path::new(&socket)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mock-storage-daemon: {}: {error}", socket.to_string_lossy());
            std::process::ExitCode::FAILURE
        }
    }
}
