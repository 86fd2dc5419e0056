internal import Glibc

/// Raises this process's soft limit on open file descriptors to its hard limit, as servers holding many
/// connections must (each connection is a descriptor; the usual soft limit is 1024). Returns the new soft limit.
@discardableResult
public func raiseFileDescriptorLimit() -> Int {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
    if limit.rlim_cur < limit.rlim_max {
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    return Int(clamping: limit.rlim_cur)
}
