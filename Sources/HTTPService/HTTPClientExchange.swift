import HTTP1
import NetCore
import Synchronization
import TLS

/// One request and its response on a connection of its own: connect, TLS, write, parse, close — with one deadline
/// over all of it. Completes exactly once, on its loop.
///
/// `@unchecked Sendable`: created on the caller's thread, then touched only on `loop` (`run` and `cancel` hop
/// there through `EventLoop.execute`); the one cross-thread flag is an Atomic.
final class HTTPClientExchange: HTTPTransportOwner, @unchecked Sendable {
    typealias Completion = (Result<HTTPClientResponse, HTTPClientError>) -> Void

    let loop: EventLoop
    let address: SocketAddress
    let tls: TLSContext?
    let timeout: Duration
    let bodyLimit: Int
    let request: [UInt8]
    private let cancelRequested = Atomic<Bool>(false)

    // Loop-confined from `start` on.
    private var completion: Completion?
    private var started = false
    private var finished = false
    private var transport: HTTPTransport?
    private var parser: HTTPResponseParser
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var complete = false
    private var receivedBytes = 0
    private var timer: TimerHandle?

    init(
        loop: EventLoop, address: SocketAddress, tls: TLSContext?, timeout: Duration, limits: HTTPLimits,
        method: String, request: [UInt8]
    ) {
        self.loop = loop
        self.address = address
        self.tls = tls
        self.timeout = timeout
        self.bodyLimit = limits.bodyBytes ?? 1024 * 1024
        self.request = request
        self.parser = HTTPResponseParser(limits: limits)
        parser.requestMethod = method
    }

    /// Starts the exchange on its loop; `completion` runs there, once.
    func run(_ completion: @escaping Completion) {
        // Set before the hop: `execute` orders it before anything the loop does with it.
        self.completion = completion
        loop.execute { self.start() }
    }

    /// Thread-safe: ends the exchange with `.cancelled` if it has not ended.
    func cancel() {
        cancelRequested.store(true, ordering: .releasing)
        loop.execute {
            guard self.started else { return }  // `start` sees the flag itself
            self.finish(.failure(HTTPClientError(.cancelled, "the request to \(self.address) was cancelled")))
        }
    }

    private func start() {
        started = true
        if cancelRequested.load(ordering: .acquiring) {
            finish(.failure(HTTPClientError(.cancelled, "the request to \(address) was cancelled")))
            return
        }
        timer = loop.schedule(after: timeout) { [weak self] in
            guard let self else { return }
            let stage =
                self.transport == nil
                ? "connecting" : self.transport?.isReady == true ? "waiting for the response" : "in the TLS handshake"
            self.finish(
                .failure(
                    HTTPClientError(
                        .timedOut,
                        "no complete response from \(self.address) within \(self.timeout) (stopped \(stage)) — "
                            + "is the server up and answering? Raise the timeout if it is just slow")))
        }
        StreamChannel.connect(to: address, on: loop, timeout: timeout) { [self] result in
            switch result {
            case .failure(let error):
                finish(.failure(connectFailure(error)))
            case .success(let channel):
                guard !finished else {
                    channel.close()
                    return
                }
                let transport = HTTPTransport(channel: channel)
                self.transport = transport
                do {
                    try transport.start(owner: self, tls: tls, handshakeTimeout: timeout)
                } catch {
                    finish(
                        .failure(
                            HTTPClientError(
                                .tlsFailed, "cannot start TLS to \(address): \(error)", underlying: error as? TLSError))
                    )
                }
            }
        }
    }

    private func connectFailure(_ error: NetError) -> HTTPClientError {
        switch error.code {
        case .connectionRefused:
            return HTTPClientError(
                .connectionRefused,
                "connection refused by \(address) — is the server running and listening there?", underlying: error)
        case .timedOut:
            return HTTPClientError(
                .timedOut, "connecting to \(address) timed out after \(timeout) — is the host up and the port open?",
                underlying: error)
        default:
            return HTTPClientError(.connectFailed, "cannot connect to \(address): \(error.reason)", underlying: error)
        }
    }

    // MARK: Transport events

    func transportIsReady(_ transport: HTTPTransport) {
        transport.write(request)
    }

    func transport(_ transport: HTTPTransport, didRead bytes: UnsafeRawBufferPointer) {
        guard !finished else { return }
        receivedBytes += bytes.count
        var offset = 0
        do {
            while offset < bytes.count, !complete {
                let consumed = try parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...])) { event in
                    try self.handle(event)
                }
                guard consumed > 0 else { break }
                offset += consumed
            }
        } catch let error as HTTPClientError {
            finish(.failure(error))
            return
        } catch let error as HTTPParseError {
            finish(.failure(parseFailure(error)))
            return
        } catch {
            finish(.failure(HTTPClientError(.malformedResponse, "the response from \(address) is malformed: \(error)")))
            return
        }
        if complete { succeed() }
    }

    /// Inside the parser's call: records what it found; never completes from here.
    private func handle(_ event: HTTPResponseParser.Event) throws {
        switch event {
        case .head(let received):
            if received.status == 101 {
                throw HTTPClientError(
                    .malformedResponse, "\(address) switched protocols (101) though the request asked for no upgrade")
            }
            if received.status < 200 { return }  // interim (100 Continue, 103 Early Hints)
            head = received
        case .body(let piece):
            guard body.count + piece.count <= bodyLimit else {
                throw HTTPClientError(
                    .bodyTooLarge,
                    "the response body from \(address) is larger than \(bodyLimit) bytes — raise "
                        + "HTTPClient.limits.bodyBytes if that much is expected")
            }
            body.append(contentsOf: piece)
        case .end:
            if head != nil { complete = true }
        }
    }

    private func parseFailure(_ error: HTTPParseError) -> HTTPClientError {
        if error.code == .bodyTooLarge {
            return HTTPClientError(
                .bodyTooLarge,
                "the response body from \(address) is larger than \(bodyLimit) bytes — raise "
                    + "HTTPClient.limits.bodyBytes if that much is expected", underlying: error)
        }
        return HTTPClientError(
            .malformedResponse,
            "the response from \(address) is not valid HTTP/1.1 (\(error.reason)) — is it an HTTP server, and is "
                + "TLS \(tls == nil ? "off" : "on") on both sides?", underlying: error)
    }

    func transportDidReadEOF(_ transport: HTTPTransport) {
        guard !finished else { return }
        if !complete {
            do {
                try parser.finish { event in
                    if case .end = event, self.head != nil { self.complete = true }
                }
            } catch {
                // Reported below as a close in the middle of the response.
            }
        }
        if complete {
            succeed()
        } else {
            finish(.failure(closedEarly(nil)))
        }
    }

    func transportWritabilityChanged(_ transport: HTTPTransport) {}

    func transport(_ transport: HTTPTransport, didCloseWith error: (any Error)?) {
        guard !finished else { return }
        if let error = error as? TLSError, head == nil {
            let when = transport.isReady ? "after the handshake (the server refused us?)" : "in the handshake"
            finish(
                .failure(
                    HTTPClientError(
                        .tlsFailed, "TLS with \(address) failed \(when): \(error.reason)", underlying: error)))
            return
        }
        if tls != nil, transport.isReady, receivedBytes == 0, error != nil {
            // TLS 1.3 finishes the client's handshake before the server has checked the client's certificate; a
            // refusal then arrives as an alert, often lost to the reset that follows it.
            let detail = error.map { "\($0)" } ?? "closed"
            finish(
                .failure(
                    HTTPClientError(
                        .tlsFailed,
                        "\(address) dropped the TLS connection right after the handshake, before answering (\(detail)) "
                            + "— this is how a TLS 1.3 server refuses a client certificate: check that ours is issued "
                            + "by a CA it trusts, unexpired, unrevoked, and allowed by its policy",
                        underlying: error)))
            return
        }
        finish(.failure(closedEarly(error)))
    }

    private func closedEarly(_ error: (any Error)?) -> HTTPClientError {
        let detail = error.map { ": \($0)" } ?? ""
        let what =
            head == nil
            ? "closed the connection without answering"
            : "closed the connection in the middle of its response"
        return HTTPClientError(
            .connectionClosed, "\(address) \(what)\(detail)", underlying: error)
    }

    // MARK: Ending

    private func succeed() {
        guard let head else { return }
        finish(
            .success(
                HTTPClientResponse(
                    version: head.version, status: head.status, reason: head.reason, headers: head.headers,
                    body: body)))
    }

    private func finish(_ result: Result<HTTPClientResponse, HTTPClientError>) {
        guard !finished else { return }
        finished = true
        timer?.cancel()
        timer = nil
        if let transport, !transport.isClosed { transport.close() }
        transport = nil
        let completion = self.completion
        self.completion = nil
        completion?(result)
    }
}
