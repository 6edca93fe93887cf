//! A scripted QMP server on one end of a socket pair that reads a byte at
//! a time with `recvmsg`, as QEMU does, so that it sees exactly which
//! byte descriptors came with: each request it answers with how many
//! descriptors arrived with its first byte, and the inode of the first.

use std::io::Write;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
use serde_json::{json, Value};

/// What the server saw.
#[derive(Debug, Default)]
pub struct Seen {
    /// The requests, in order.
    pub requests: Vec<Value>,
    /// Descriptors that arrived with a byte other than a request's first.
    pub misplaced: usize,
}

/// Serves on `stream` until the client closes: a greeting, then answers
/// every request with `{"fds": N, "ino": I}` except `hang` (never
/// answered) and `fail` (an error).
pub fn serve(stream: UnixStream) -> Seen {
    let mut writer = stream.try_clone().expect("a second handle");
    writer
        .write_all(b"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 2, \"minor\": 0, \"major\": 10}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n")
        .expect("greeting sent");
    let mut seen = Seen::default();
    let mut line = Vec::new();
    let mut line_fds: Vec<OwnedFd> = Vec::new();
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(16))];
    loop {
        let mut byte = [0u8; 1];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let Ok(received) = rustix::net::recvmsg(
            stream.as_fd(),
            &mut [std::io::IoSliceMut::new(&mut byte)],
            &mut control,
            RecvFlags::CMSG_CLOEXEC,
        ) else {
            break;
        };
        let fds: Vec<OwnedFd> = control
            .drain()
            .filter_map(|message| match message {
                RecvAncillaryMessage::ScmRights(fds) => Some(fds.collect::<Vec<_>>()),
                _ => None,
            })
            .flatten()
            .collect();
        if received.bytes == 0 {
            break;
        }
        if !fds.is_empty() {
            if line.is_empty() {
                line_fds.extend(fds);
            } else {
                seen.misplaced += fds.len();
            }
        }
        if byte[0] != b'\n' {
            line.push(byte[0]);
            continue;
        }
        let request: Value = serde_json::from_slice(&line).expect("a JSON request");
        line.clear();
        let fds = std::mem::take(&mut line_fds);
        let ino = fds
            .first()
            .map(|fd| rustix::fs::fstat(fd).expect("fstat").st_ino);
        let reply = match request["execute"].as_str() {
            Some("hang") => None,
            Some("fail") => Some(json!({
                "error": {"class": "GenericError", "desc": "failed"},
                "id": request["id"],
            })),
            _ => Some(json!({
                "return": {"fds": fds.len(), "ino": ino},
                "id": request["id"],
            })),
        };
        // The descriptors received are closed here.
        drop(fds);
        seen.requests.push(request);
        if let Some(reply) = reply {
            let mut bytes = serde_json::to_vec(&reply).expect("JSON");
            bytes.extend_from_slice(b"\r\n");
            if writer.write_all(&bytes).is_err() {
                break;
            }
        }
    }
    seen
}
