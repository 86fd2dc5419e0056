internal import Glibc

/// Sets SIGPIPE to be ignored for the whole process.
///
/// NetCore itself never raises SIGPIPE (it sends with MSG_NOSIGNAL), so this is only needed when other code in the
/// process writes to sockets or pipes with plain `write(2)`. Call it once, early in `main`.
public func ignoreSIGPIPE() {
    _ = signal(SIGPIPE, SIG_IGN)
}
