//! The example runs against the installed qemu-system-x86_64 and does
//! all it says.

#[test]
fn the_orchestrator_runs_against_qemu() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_orchestrator-example"))
        .output()
        .expect("the example runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "QEMU 10.0.2 connected",
        "add-fd: descriptor",
        "job format0 concluded",
        "node disk0: qcow2 on /dev/fdset/",
        "node disk0-file: file on /dev/fdset/",
        "done",
    ] {
        assert!(stdout.contains(expected), "no '{expected}' in:\n{stdout}");
    }
}
