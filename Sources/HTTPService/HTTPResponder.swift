import NetCore
import Synchronization

/// The way back to the client for one request: call `respond(_:)` once, from any thread, now or later.
///
/// The response is carried to the connection's event loop (`EventLoop.execute`) and written there, so a handler
/// may do blocking work (a signature, a database write) on its own thread or task and respond when done. Only the
/// first call counts. A responder dropped without responding answers 500, so a forgotten path fails fast instead
/// of waiting for `HTTPServerConfiguration.responseTimeout`.
public final class HTTPResponder: Sendable {
    private let loop: EventLoop
    private let target: ConnectionReference
    private let sequence: UInt64
    private let responded = Atomic<Bool>(false)

    init(loop: EventLoop, connection: HTTPServerConnection, sequence: UInt64) {
        self.loop = loop
        self.target = ConnectionReference(connection)
        self.sequence = sequence
    }

    deinit {
        guard !responded.load(ordering: .acquiring) else { return }
        deliver(
            HTTPResponse(status: 500, text: "the handler finished without responding"), dropped: true)
    }

    /// Sends `response` as the answer to this request. Thread-safe; returns at once (the write happens on the
    /// connection's loop). Ignored after the first call, and when the connection has closed or timed the
    /// request out meanwhile.
    public func respond(_ response: HTTPResponse) {
        guard !responded.exchange(true, ordering: .acquiringAndReleasing) else { return }
        deliver(response, dropped: false)
    }

    /// Whether `respond(_:)` was called.
    public var hasResponded: Bool { responded.load(ordering: .acquiring) }

    private func deliver(_ response: HTTPResponse, dropped: Bool) {
        let target = self.target
        let sequence = self.sequence
        // Always through the loop's queue, even from the loop thread: the handler may be running inside the
        // connection's read path, which must not be re-entered.
        loop.execute { target.connection?.deliver(response, sequence: sequence, handlerDropped: dropped) }
    }
}

/// Carries a connection to its own loop thread.
///
/// `@unchecked Sendable`: the connection is loop-confined; this box only holds it across threads and it is
/// dereferenced inside `EventLoop.execute` on that loop only. Weak, so a late answer cannot keep a closed
/// connection alive.
final class ConnectionReference: @unchecked Sendable {
    weak var connection: HTTPServerConnection?
    init(_ connection: HTTPServerConnection) { self.connection = connection }
}
