import HTTP1
import NetCore
import TLS

/// One client connection of an `HTTPServer`: requests read by the strict parser one at a time, each handed whole
/// to the handler, its answer written, then the next (pipelined bytes wait, bounded). Every phase has a deadline:
/// idle between requests, head, body, the handler's answer, and the linger after closing.
///
/// Loop-confined: created, driven and closed on its channel's loop thread. The parser is never re-entered: the
/// handler runs after `parse` returns, and answers arrive through the loop's queue.
final class HTTPServerConnection: HTTPTransportOwner {
    enum Phase: Equatable {
        /// The TLS handshake is running.
        case handshaking
        /// Between requests: nothing of the next one read.
        case idle
        case readingHead
        case readingBody
        /// The handler has the request; bytes that arrive are held.
        case awaitingResponse
        /// The answer was sent and the output shut; input is dropped until the client closes (or the linger ends).
        case closing
        case closed
    }

    /// A request being read.
    private struct Pending {
        let head: HTTPRequestHead
        var body: [UInt8] = []
    }

    /// A refusal found while parsing: answered with `status` and closed.
    private struct Refusal: Error {
        let status: Int
        let reason: String
    }

    /// Pipelined bytes above which the client is no longer read until its earlier requests are answered.
    static let heldLimit = 64 * 1024

    let core: HTTPServerCore
    let transport: HTTPTransport
    private var parser: HTTPRequestParser
    private(set) var phase = Phase.handshaking
    private var pending: Pending?
    private var completed: Pending?
    /// The request the handler is answering: its method, and whether the client keeps the connection.
    private var answering: (method: String, keepAlive: Bool, keepAliveHeader: Bool)?
    private var sequence: UInt64 = 0
    /// Bytes read while an answer is awaited, parsed once it is sent.
    private var held: [UInt8] = []
    /// Written once per event, after the parser returned.
    private var output: [UInt8] = []
    private var peerFinished = false
    /// The last answer is still queued above the high watermark: the next request waits for the client to read.
    private var waitingForOutput = false
    private var readingPaused = false
    private var timer: TimerHandle?

    private var configuration: HTTPServerConfiguration { core.configuration }
    var loop: EventLoop { transport.loop }

    /// Takes an accepted socket; TLS (when configured) starts now.
    static func accept(_ channel: StreamChannel, core: HTTPServerCore) {
        let connection = HTTPServerConnection(channel: channel, core: core)
        guard core.register(connection) else {
            channel.close()  // the server is shutting down
            return
        }
        let configuration = core.configuration
        do {
            try connection.transport.start(
                owner: connection, tls: configuration.tls, handshakeTimeout: configuration.handshakeTimeout)
        } catch {
            connection.transport(connection.transport, didCloseWith: error)  // reports the refusal, deregisters
        }
    }

    private init(channel: StreamChannel, core: HTTPServerCore) {
        self.core = core
        self.parser = HTTPRequestParser(limits: core.configuration.effectiveLimits)
        self.transport = HTTPTransport(channel: channel)
    }

    // MARK: Transport events

    func transportIsReady(_ transport: HTTPTransport) {
        guard phase == .handshaking else { return }
        if core.isDraining {
            close()
            return
        }
        becomeIdle()
    }

    func transport(_ transport: HTTPTransport, didRead bytes: UnsafeRawBufferPointer) {
        switch phase {
        case .idle, .readingHead, .readingBody:
            parse(bytes)
        case .awaitingResponse:
            held.append(contentsOf: bytes)
        case .handshaking, .closing, .closed:
            return
        }
        flush()
        updateReading()
    }

    func transportDidReadEOF(_ transport: HTTPTransport) {
        peerFinished = true
        switch phase {
        case .idle:
            closeGracefully()
        case .readingHead where parser.isBetweenRequests:
            closeGracefully()
        case .readingHead, .readingBody:
            // Cut short: nobody is left to read an error (the output may still be open, but the request is lost).
            configuration.onRefusal?(
                transport.remoteAddress,
                HTTPParseError(.truncated, "the client closed the connection in the middle of a request"))
            closeGracefully()
        case .awaitingResponse, .handshaking, .closing, .closed:
            // An awaited answer is still sent; the connection closes after it. A closing one closes once flushed.
            break
        }
    }

    func transportWritabilityChanged(_ transport: HTTPTransport) {
        guard waitingForOutput, transport.isWritable else { return }
        waitingForOutput = false
        continueAfterAnswer()
    }

    func transport(_ transport: HTTPTransport, didCloseWith error: (any Error)?) {
        if phase == .handshaking, let error { configuration.onRefusal?(transport.remoteAddress, error) }
        phase = .closed
        timer?.cancel()
        timer = nil
        held = []
        output = []
        pending = nil
        completed = nil
        core.deregister(self)
    }

    // MARK: Requests

    private func parse(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            guard phase == .idle || phase == .readingHead || phase == .readingBody else {
                if phase == .awaitingResponse { held.append(contentsOf: rest) }
                return
            }
            if phase == .idle {
                phase = .readingHead
                arm(configuration.requestHeadTimeout) { [weak self] in
                    self?.refuse(HTTPServerRefusal(status: 408, reason: "the request head did not arrive in time"))
                }
            }
            do {
                offset += try parser.parse(rest, stopAfterEnd: true) { event in try self.handle(event) }
            } catch let error as HTTPParseError {
                refuse(error, status: error.status, reason: error.reason)
                return
            } catch let refusal as Refusal {
                refuse(HTTPServerRefusal(status: refusal.status, reason: refusal.reason))
                return
            } catch {
                refuse(HTTPServerRefusal(status: 400, reason: "\(error)"))
                return
            }
            if let request = completed {
                completed = nil
                dispatch(request)
            } else if phase == .readingHead, parser.isBetweenRequests {
                becomeIdle()  // only the empty lines a client may send between requests
            }
        }
    }

    /// Inside the parser's call: records what it found; never calls out.
    private func handle(_ event: HTTPRequestParser.Event) throws {
        switch event {
        case .head(let head):
            try check(head)
            var request = Pending(head: head)
            if case .contentLength(let length) = head.framing {
                // What was declared, up to one read's worth: a declaration alone must not cost memory.
                request.body.reserveCapacity(Int(min(length, 64 * 1024)))
            }
            pending = request
            if head.framing != .none {
                phase = .readingBody
                arm(configuration.requestBodyTimeout) { [weak self] in
                    self?.refuse(HTTPServerRefusal(status: 408, reason: "the request body did not arrive in time"))
                }
                if head.expectsContinue, head.version == .http11 {
                    output += HTTPServerConnection.continueResponse
                }
            }
        case .body(let piece):
            pending?.body.append(contentsOf: piece)
        case .end:
            completed = pending
            pending = nil
        }
    }

    static let continueResponse = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// What the parser accepts but this server does not serve.
    private func check(_ head: HTTPRequestHead) throws {
        let target = head.target
        if target == "*" {
            guard head.method == "OPTIONS" else {
                throw Refusal(status: 400, reason: "only OPTIONS may have the target *")
            }
        } else if !target.hasPrefix("/") {
            let lowered = target.lowercased()
            guard lowered.hasPrefix("http://") || lowered.hasPrefix("https://") else {
                throw Refusal(
                    status: 400, reason: "the request target must be a path (/...) or an absolute http(s) URL")
            }
        }
        if head.framing == .chunked {
            let codings = head.values("transfer-encoding").flatMap { $0.split(separator: ",") }
            if codings.count != 1 {
                throw Refusal(status: 501, reason: "only the chunked transfer coding is understood here")
            }
        }
        let expectations = head.values("expect").map { $0.lowercased() }
        if expectations.contains(where: { $0 != "100-continue" }) {
            throw Refusal(status: 417, reason: "the only expectation understood here is 100-continue")
        }
    }

    private func dispatch(_ request: Pending) {
        let head = request.head
        phase = .awaitingResponse
        sequence &+= 1
        let sequence = self.sequence
        answering = (
            method: head.method, keepAlive: head.keepAlive, keepAliveHeader: head.version == .http10 && head.keepAlive
        )
        arm(configuration.responseTimeout) { [weak self] in
            guard let self, self.phase == .awaitingResponse, self.sequence == sequence else { return }
            self.deliver(
                HTTPResponse(status: 503, text: "the service did not answer in time"), sequence: sequence,
                timedOut: true)
        }
        let message = HTTPRequest(
            method: head.method, target: head.target, version: head.version, headers: head.headers,
            body: request.body, peer: transport.peer, remoteAddress: transport.remoteAddress)
        core.handler(message, HTTPResponder(loop: loop, connection: self, sequence: sequence))
    }

    // MARK: Answers

    /// The handler's answer (or the server's stand-in) for request `sequence`; dropped when that request is no
    /// longer the one awaited (timed out, connection closed).
    func deliver(
        _ response: HTTPResponse, sequence: UInt64, handlerDropped: Bool = false, timedOut: Bool = false
    ) {
        guard phase == .awaitingResponse, sequence == self.sequence, let answering else { return }
        self.answering = nil
        var response = response
        if let problem = response.problem {
            response = HTTPResponse(status: 500, text: "the service failed to answer properly")
            configuration.onRefusal?(transport.remoteAddress, HTTPServerRefusal(status: 500, reason: problem))
        } else if handlerDropped || timedOut {
            configuration.onRefusal?(
                transport.remoteAddress,
                HTTPServerRefusal(
                    status: response.status,
                    reason: timedOut
                        ? "the handler did not respond within \(configuration.responseTimeout)"
                        : "the handler dropped its responder without responding"))
        }
        let asksClose = HTTPSyntax.connectionTokens(response.headers).contains("close")
        let closing =
            !answering.keepAlive || asksClose || timedOut || core.isDraining || (peerFinished && held.isEmpty)
        output += response.encoded(
            requestMethod: answering.method, closing: closing, keepAliveHeader: answering.keepAliveHeader,
            date: HTTPDate.now())
        if closing {
            closeGracefully()
            return
        }
        flush()
        becomeIdle()
        continueAfterAnswer()
    }

    /// Goes on with held pipelined bytes once the client has read enough of what was sent.
    private func continueAfterAnswer() {
        guard phase == .idle else { return }
        if !transport.isWritable {
            waitingForOutput = true
            updateReading()
            return
        }
        if !held.isEmpty {
            let bytes = held
            held = []
            bytes.withUnsafeBytes { parse($0) }
            flush()
        }
        if peerFinished, phase == .idle || (phase == .readingHead && parser.isBetweenRequests) {
            closeGracefully()
            return
        }
        updateReading()
    }

    private func refuse(_ error: HTTPParseError, status: Int, reason: String) {
        guard phase != .closing, phase != .closed else { return }
        configuration.onRefusal?(transport.remoteAddress, error)
        sendRefusal(status: status, reason: reason)
    }

    private func refuse(_ refusal: HTTPServerRefusal) {
        guard phase != .closing, phase != .closed else { return }
        configuration.onRefusal?(transport.remoteAddress, refusal)
        sendRefusal(status: refusal.status, reason: refusal.reason)
    }

    /// Answers with `status` and `reason` and closes: the stream cannot be trusted past a refused request.
    private func sendRefusal(status: Int, reason: String) {
        guard phase != .closing, phase != .closed else { return }
        let response = HTTPResponse(status: status, text: reason)
        output += response.encoded(
            requestMethod: pending?.head.method ?? "GET", closing: true, keepAliveHeader: false, date: HTTPDate.now())
        pending = nil
        completed = nil
        closeGracefully()
    }

    // MARK: Phases, reading, closing

    private func becomeIdle() {
        phase = .idle
        arm(configuration.idleTimeout) { [weak self] in self?.close() }
        updateReading()
    }

    /// The server is shutting down: an idle connection closes now; one in the middle of a request finishes it and
    /// answers with `Connection: close`.
    func drain() {
        switch phase {
        case .handshaking: close()
        case .idle: closeGracefully()  // the last answer may still be on its way
        case .readingHead where parser.isBetweenRequests: closeGracefully()
        default: break
        }
    }

    /// Sends what is queued, then close_notify and FIN; reads and drops what still arrives until the client
    /// closes or `closeLinger` passes.
    private func closeGracefully() {
        guard phase != .closing, phase != .closed else { return }
        phase = .closing
        flush()
        held = []
        transport.shutdownOutput()
        guard phase == .closing else { return }  // shutting down may have closed it at once
        arm(configuration.closeLinger) { [weak self] in self?.close() }
        updateReading()
    }

    func close() {
        guard phase != .closed else { return }
        transport.close()
    }

    private func flush() {
        guard !output.isEmpty, phase != .closed else { return }
        let bytes = output
        output = []
        transport.write(bytes)
    }

    /// Reads only while the bytes have somewhere to go: not while an answer is awaited with `heldLimit` bytes held,
    /// and not while the last answer waits for the client to read it.
    private func updateReading() {
        let wanted: Bool
        switch phase {
        case .idle, .readingHead, .readingBody: wanted = !waitingForOutput
        case .awaitingResponse: wanted = held.count < HTTPServerConnection.heldLimit
        case .closing, .handshaking: wanted = true
        case .closed: return
        }
        guard wanted == readingPaused else { return }
        readingPaused = !wanted
        if wanted { transport.resumeReading() } else { transport.pauseReading() }
    }

    /// One deadline at a time: each phase replaces the previous one's.
    private func arm(_ delay: Duration, _ body: @escaping () -> Void) {
        timer?.cancel()
        timer = loop.schedule(after: delay, body)
    }
}
