//! Passing file descriptors to the server (SCM_RIGHTS) on a unix
//! socket: the descriptors go with the first byte of a request, so that
//! the server, reading requests in order, finds them with the command
//! that names them (`getfd`, `add-fd`, ...).
//!
//! The clients duplicate the caller's descriptors into [`OwnedFd`]s as
//! they queue a request ([`duplicate`]): the caller keeps and closes
//! its own whatever becomes of the call, and the copies are closed once
//! sent, or with the request if it is never sent.

// Without the async client, only the blocking one may use it.
#![cfg_attr(not(feature = "tokio"), allow(dead_code))]

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};

/// Copies of the caller's descriptors, owned by the request they go
/// with.
pub(crate) fn duplicate(fds: &[BorrowedFd<'_>]) -> io::Result<Vec<OwnedFd>> {
    fds.iter().map(|fd| fd.try_clone_to_owned()).collect()
}

/// Writes the beginning of `bytes` (at least one byte, unless it fails)
/// to a unix socket with `fds` attached, and returns how many bytes it
/// wrote; the caller writes the rest as usual. A socket in non-blocking
/// mode may fail with [`io::ErrorKind::WouldBlock`]: nothing was sent.
/// No `SIGPIPE` is raised when the server has gone.
pub(crate) fn send_with_fds(
    socket: BorrowedFd<'_>,
    bytes: &[u8],
    fds: &[OwnedFd],
) -> io::Result<usize> {
    let borrowed: Vec<BorrowedFd<'_>> = fds.iter().map(AsFd::as_fd).collect();
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(borrowed.len()))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&borrowed)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many file descriptors for one message",
        ));
    }
    loop {
        match rustix::net::sendmsg(
            socket,
            &[io::IoSlice::new(bytes)],
            &mut control,
            SendFlags::NOSIGNAL,
        ) {
            Ok(written) => return Ok(written),
            Err(rustix::io::Errno::INTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::net::UnixStream;

    #[test]
    fn descriptors_arrive_with_the_bytes() {
        let (ours, mut theirs) = UnixStream::pair().expect("a socket pair");
        let file = std::fs::File::open("/dev/null").expect("/dev/null");
        let copies = duplicate(&[file.as_fd()]).expect("duplicated");
        let written = send_with_fds(ours.as_fd(), b"hello\n", &copies).expect("sent");
        assert_eq!(written, 6);
        let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(4))];
        let mut control = rustix::net::RecvAncillaryBuffer::new(&mut space);
        let mut buffer = [0u8; 16];
        let received = rustix::net::recvmsg(
            theirs.as_fd(),
            &mut [io::IoSliceMut::new(&mut buffer)],
            &mut control,
            rustix::net::RecvFlags::CMSG_CLOEXEC,
        )
        .expect("received");
        assert_eq!(&buffer[..received.bytes], b"hello\n");
        let fds: Vec<OwnedFd> = control
            .drain()
            .filter_map(|message| match message {
                rustix::net::RecvAncillaryMessage::ScmRights(fds) => Some(fds),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(fds.len(), 1);
        drop(ours);
        let mut rest = Vec::new();
        theirs.read_to_end(&mut rest).expect("end of stream");
        assert!(rest.is_empty());
    }
}
