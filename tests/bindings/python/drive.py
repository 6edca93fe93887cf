"""QEMU's Python client (qemu.qmp) against the project's QMP server.

Run by tests/bindings/tests/python_client.rs with the virtual environment
scripts/install-qemu makes:

    python drive.py STORAGE_DAEMON_SOCKET SYSTEM_SOCKET

The first socket serves a mock of the storage daemon's schema: blockdev-add
and query-named-block-nodes implemented, blockdev-del failing, a
JOB_STATUS_CHANGE event after blockdev-create's reply. The second serves a
mock of the system emulator's schema (the storage daemon's has no command
that allows out-of-band execution): query-status answers after a while,
migrate-pause (allow-oob) at once. Each check is an assert; the last line
printed is "ok".
"""

import asyncio
import sys

from qemu.qmp import ExecuteError, QMPClient


async def storage_daemon(socket: str) -> None:
    qmp = QMPClient("storage-daemon")
    await qmp.connect(socket)
    # Negotiation: the greeting's version, out-of-band offered.
    assert qmp.greeting is not None
    assert qmp.greeting.QMP.version["qemu"]["major"] == 10, qmp.greeting
    assert "oob" in qmp.greeting.QMP.capabilities

    version = await qmp.execute("query-version")
    assert version["qemu"] == {"major": 10, "minor": 0, "micro": 2}, version

    # Commands.
    added = await qmp.execute(
        "blockdev-add", {"driver": "null-co", "node-name": "py0"}
    )
    assert added == {}, added
    nodes = await qmp.execute("query-named-block-nodes", {"flat": True})
    assert [node["node-name"] for node in nodes] == ["py0"], nodes

    # An error, from the mock and from the server's argument check.
    try:
        await qmp.execute("blockdev-del", {"node-name": "nope"})
        raise AssertionError("blockdev-del succeeded")
    except ExecuteError as error:
        assert error.error_class == "GenericError", error
        assert str(error) == "Failed to find node with node-name='nope'", error
    try:
        await qmp.execute("no-such-command")
        raise AssertionError("no-such-command succeeded")
    except ExecuteError as error:
        assert error.error_class == "CommandNotFound", error

    # An event, after its command's reply.
    with qmp.listener() as listener:
        await qmp.execute(
            "blockdev-create",
            {"job-id": "job0", "options": {"driver": "file", "filename": "x", "size": 512}},
        )
        event = await asyncio.wait_for(listener.get(), 10)
    assert event["event"] == "JOB_STATUS_CHANGE", event
    assert event["data"] == {"id": "job0", "status": "created"}, event
    assert event["timestamp"]["seconds"] > 0, event
    await qmp.disconnect()


async def out_of_band(socket: str) -> None:
    qmp = QMPClient("system")
    await qmp.connect(socket)
    finished = []

    async def run(name: str, oob: bool) -> None:
        await qmp.execute(name, oob=oob)
        finished.append(name)

    slow = asyncio.create_task(run("query-status", False))
    # The in-band command is on its way before the out-of-band one.
    await asyncio.sleep(0.1)
    fast = asyncio.create_task(run("migrate-pause", True))
    await asyncio.wait_for(asyncio.gather(slow, fast), 10)
    assert finished == ["migrate-pause", "query-status"], finished

    # An in-band only command sent out of band is refused.
    try:
        await qmp.execute("query-status", oob=True)
        raise AssertionError("query-status ran out of band")
    except ExecuteError as error:
        assert error.error_class == "GenericError", error
        assert str(error) == "The command query-status does not support OOB", error
    await qmp.disconnect()


async def main() -> None:
    await storage_daemon(sys.argv[1])
    await out_of_band(sys.argv[2])
    print("ok")


asyncio.run(main())
