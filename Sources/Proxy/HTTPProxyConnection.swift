import HTTP1
import MTLS
import NetCore
import Policy
import TLS

/// One client connection in `--mode http`: mTLS from the client (admitted as in `tcp` mode), then each request read
/// by the strict parser, checked against the route policy, its identity headers replaced, and forwarded — head
/// rewritten, body re-framed as parsed — over one kept-alive backend connection (re-opened when the backend closes
/// it). Responses are parsed as strictly and re-framed on the way back. Requests are served one at a time, in
/// order; pipelined bytes wait. A `101 Switching Protocols` turns the connection into a byte pipe.
///
/// Loop-confined: created and used on one event loop thread.
final class HTTPProxyConnection: ProxySideOwner, ProxiedConnection {
    /// One request and its response, from the request's head to the end of the response.
    private struct Exchange {
        var record: RequestRecord
        let started: UInt64
        let requestFraming: HTTPFraming
        let clientVersion: HTTPVersion
        let clientKeepAlive: Bool
        let upgrade: String?
        /// Refused by the route policy: the body is read and dropped.
        var discardingBody = false
        var requestComplete = false
        var responseStarted = false
        var responseComplete = false
        var rechunkResponse = false
        var backendKeepAlive = true
        /// The client connection closes after this response.
        var closeAfter = false
    }

    /// A request refused before it reaches the backend.
    private struct Refusal: Error {
        let status: Int
        let reason: String
        let decision: RequestRecord.Decision
    }

    let environment: ProxyEnvironment
    let registry: ConnectionRegistry
    let loop: EventLoop
    let credentials: ProxyCredentials
    private let options: HTTPProxyOptions
    private let identityHeaders: IdentityHeaders
    let downstream = ProxySide(role: .downstream)
    private var upstream: ProxySide?
    private var record: ConnectionRecord
    private let started: UInt64
    private var finished = false
    private var facts: PeerCertificateFacts?

    private var requestParser: HTTPRequestParser
    private var responseParser = HTTPResponseParser()
    private var exchange: Exchange?
    /// Client bytes read while a response is pending (pipelined requests), parsed when it is done.
    private var held: [UInt8] = []
    /// Output gathered during one event and written once.
    private var toClient: [UInt8] = []
    private var toBackend: [UInt8] = []
    /// A bodiless request sent on a reused backend connection, kept until the first byte of its answer: a
    /// backend that closed that idle connection just as the request went out gets it again on a new one.
    private var replay: [UInt8]?
    /// After a `101`: bytes pass through unparsed.
    private var upgraded = false
    /// A refusal was sent and the output shut: input is dropped until the client closes (bounded).
    private var closingClient = false
    private lazy var idle = IdleWatch(
        loop: loop, limit: { [unowned self] in configuration.idleTimeout },
        pending: { [unowned self] in downstream.pendingWriteBytes + (upstream?.pendingWriteBytes ?? 0) },
        expired: { [weak self] limit in self?.idleExpired(after: limit) })
    /// Running while a request head is incomplete (see `HTTPProxyOptions.requestHeadTimeout`).
    private var headTimer: TimerHandle?

    /// Held pipelined bytes above which the client is no longer read until its earlier requests are answered.
    static let heldLimit = 64 * 1024
    /// Gathered output above which it is written at once.
    static let flushThreshold = 64 * 1024
    /// Longest wait, after a refusal, for the client to read it and close.
    static let refusalLinger: Duration = .seconds(5)
    static let hopByHop: Set<String> = IdentityHeaders.hopByHop.union(["transfer-encoding"])

    private init(
        environment: ProxyEnvironment, registry: ConnectionRegistry, loop: EventLoop, credentials: ProxyCredentials,
        options: HTTPProxyOptions, identityHeaders: IdentityHeaders, peer: String
    ) {
        self.environment = environment
        self.registry = registry
        self.loop = loop
        self.credentials = credentials
        self.options = options
        self.identityHeaders = identityHeaders
        self.record = ConnectionRecord(peer: peer)
        self.started = loop.nowNanoseconds()
        self.requestParser = HTTPRequestParser(limits: options.limits)
        downstream.connection = self
    }

    private var configuration: ProxyConfiguration { environment.configuration }

    /// An accepted socket: the TLS handshake starts now.
    static func accept(
        _ channel: StreamChannel, environment: ProxyEnvironment, registry: ConnectionRegistry,
        credentials: ProxyCredentials
    ) {
        guard let options = environment.configuration.http, let identityHeaders = credentials.identityHeaders else {
            channel.close()
            environment.connectionEnded()
            return
        }
        let connection = HTTPProxyConnection(
            environment: environment, registry: registry, loop: channel.loop, credentials: credentials,
            options: options, identityHeaders: identityHeaders, peer: channel.remoteAddress?.description ?? "-")
        registry.add(connection)
        connection.downstream.attach(channel)
        do {
            try connection.downstream.startTLS(
                context: credentials.context, handshakeTimeout: environment.configuration.handshakeTimeout)
        } catch {
            connection.record.reason = "cannot start TLS: \(error)"
            connection.closeAll()
        }
    }

    // MARK: Sides

    func sideDidHandshake(_ side: ProxySide) {
        guard let tls = side.tls else { return }
        if side === downstream {
            record.noteAdmitted(tls)
            facts = tls.connection.peer.flatMap { identityHeaders.facts(for: $0) }
            idle.start()
        } else if side === upstream {
            flushBackend()
            updateClientReading()
        }
    }

    func side(_ side: ProxySide, didRead bytes: UnsafeRawBufferPointer) {
        idle.touch()
        if side === downstream {
            record.bytesIn += bytes.count
            if closingClient { return }
            if upgraded {
                toBackend.append(contentsOf: bytes)
            } else if exchange?.requestComplete == true {
                held.append(contentsOf: bytes)
            } else {
                parseClient(bytes)
            }
        } else if side === upstream {
            if upgraded {
                toClient.append(contentsOf: bytes)
            } else {
                parseBackend(bytes)
            }
        }
        flush()
    }

    func sideWritabilityChanged(_ side: ProxySide) {
        if side === downstream {
            if downstream.isWritable { upstream?.resumeReading() }
        } else if side === upstream {
            updateClientReading()
        }
    }

    func sideDidReadEOF(_ side: ProxySide) {
        if side === downstream {
            if upgraded {
                upstream?.shutdownOutput()
                if upstream?.receivedEOF != false { closeAll() }
            } else if closingClient {
                // The output is shut (or shutting once flushed): the socket closes itself when both directions
                // are done, without dropping the answer still queued.
                return
            } else if exchange == nil && held.isEmpty {
                // Between requests: done. What is still queued for the client goes out before the close.
                closeClientGracefully()
            } else if exchange?.requestComplete != true {
                do { try requestParser.finish() } catch {}
                exchange?.record.decision = .failed
                exchange?.record.reason = "the client closed before sending the whole request"
                closeAll()
            }
            // Otherwise the client half-closed after its request: answer, then close (see completeExchange).
        } else if side === upstream {
            if upgraded {
                downstream.shutdownOutput()
                if downstream.receivedEOF { closeAll() }
                return
            }
            guard exchange != nil, exchange?.responseComplete == false else {
                dropUpstream()  // an idle kept-alive backend connection ended
                return
            }
            do {
                try responseParser.finish { event in try self.responseEvent(event) }
            } catch {}
            if exchange != nil, exchange?.responseComplete == false {
                backendFailed(
                    exchange?.responseStarted == true
                        ? "the backend closed the connection in the middle of its response"
                        : "the backend closed the connection without answering")
            }
            completeIfDone()
            flush()
        }
    }

    func side(_ side: ProxySide, didCloseWith error: (any Error)?) {
        if side === downstream {
            if let tls = side.tls, !tls.isHandshakeComplete, !finished {
                record.noteRefusal(tls, error: error)
            } else if exchange != nil, exchange?.responseComplete == false, !closingClient {
                exchange?.record.decision = .failed
                exchange?.record.reason = "the client connection closed" + (error.map { ": \($0)" } ?? "")
            }
            closeAll()
        } else if side === upstream {
            upstream = nil
            if upgraded {
                closeAll()
            } else if exchange != nil, exchange?.responseComplete == false {
                if let tls = side.tls, !tls.isHandshakeComplete {
                    let reason = (error.map { "\($0)" }) ?? tls.connection.rejection?.reason ?? "closed"
                    backendFailed("TLS to the backend failed: \(reason)")
                } else {
                    backendFailed("the backend connection failed" + (error.map { ": \($0)" } ?? ""))
                }
                flush()
            }
        }
    }

    // MARK: Requests

    private func parseClient(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count, !finished, !closingClient {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            if exchange?.requestComplete == true {
                held.append(contentsOf: rest)
                return
            }
            do {
                offset += try requestParser.parse(rest, stopAfterEnd: true) { event in try self.requestEvent(event) }
            } catch let refusal as Refusal {
                refuse(refusal)
                return
            } catch let error as HTTPParseError {
                refuse(Refusal(status: error.status, reason: error.reason, decision: .rejected))
                return
            } catch {
                refuse(Refusal(status: 400, reason: "\(error)", decision: .rejected))
                return
            }
            completeIfDone()
        }
        watchHead()
    }

    /// Starts the head timer when a request head was begun but not finished; a finished head stops it.
    private func watchHead() {
        let waiting = exchange == nil && !requestParser.isBetweenRequests && !closingClient && !finished
        if waiting, headTimer == nil {
            headTimer = loop.schedule(after: options.requestHeadTimeout) { [weak self] in
                guard let self, self.headTimer != nil else { return }
                self.headTimer = nil
                self.refuse(
                    Refusal(
                        status: 408,
                        reason:
                            "the request head did not arrive within \(Int(self.options.requestHeadTimeout.seconds))s",
                        decision: .rejected))
            }
        } else if !waiting, let timer = headTimer {
            timer.cancel()
            headTimer = nil
        }
    }

    private func requestEvent(_ event: HTTPRequestParser.Event) throws {
        switch event {
        case .head(let head): try startExchange(head)
        case .body(let piece):
            exchange?.record.bytesIn += piece.count
            guard let exchange, !exchange.discardingBody else { return }
            HTTPChunkedEncoding.append(piece, to: &toBackend, chunked: exchange.requestFraming == .chunked)
            if toBackend.count >= HTTPProxyConnection.flushThreshold { flushBackend() }
        case .end:
            guard exchange != nil else { return }
            if exchange?.discardingBody == false, exchange?.requestFraming == .chunked {
                toBackend += HTTPChunkedEncoding.end
            }
            exchange?.requestComplete = true
        }
    }

    private func startExchange(_ head: HTTPRequestHead) throws {
        let tokens = HTTPSyntax.connectionTokens(head.headers)
        var request = RequestRecord(peer: record.peer, identity: record.identity)
        request.method = head.method
        request.path = String(head.target.prefix(512))
        exchange = Exchange(
            record: request, started: loop.nowNanoseconds(), requestFraming: head.framing,
            clientVersion: head.version, clientKeepAlive: head.keepAlive(connectionTokens: tokens),
            upgrade: head.upgrade(connectionTokens: tokens))
        let path: RequestPath
        do { path = try RequestPath(target: head.target) } catch let error as RequestPath.Ambiguous {
            throw Refusal(status: 400, reason: error.reason, decision: .rejected)
        }
        if path.isAsterisk, head.method != "OPTIONS" {
            throw Refusal(status: 400, reason: "only OPTIONS may have the target *", decision: .rejected)
        }
        // The current snapshot, not the one from the handshake: a reloaded routes file or signing key applies to
        // the next request, also on kept-alive connections.
        let current = environment.credentials
        if let routes = current.routes {
            let decision = routes.evaluate(
                method: head.method, host: head.values("host").first, path: path,
                leaf: downstream.tls?.connection.peer?.leaf)
            exchange?.record.route = decision.route ?? "-"
            guard decision.isAllowed else {
                let reason = decision.authorization.reason
                // A client waiting for 100 Continue, or asking to switch protocols, gets the refusal and a close:
                // whether it would send its body next is unknowable.
                if head.expectsContinue || exchange?.upgrade != nil || exchange?.clientKeepAlive == false {
                    throw Refusal(status: 403, reason: reason, decision: .denied)
                }
                exchange?.record.status = 403
                exchange?.record.decision = .denied
                exchange?.record.reason = reason
                let response = HTTPResponseHead.simple(status: 403, text: "symbolon: \(reason)", closing: false)
                exchange?.record.bytesOut = response.count
                toClient += response
                exchange?.discardingBody = true
                exchange?.responseComplete = true
                return
            }
            exchange?.record.rule = decision.authorization.rule ?? "-"
        }
        let rewritten = try (current.identityHeaders ?? identityHeaders).rewrite(
            head, peer: facts, upgrade: exchange?.upgrade, connectionTokens: tokens)
        let start = toBackend.count
        rewritten.encode(into: &toBackend)
        let reused = upstream.map { !$0.isClosed } ?? false
        replay = reused && head.framing == .none && exchange?.upgrade == nil ? Array(toBackend[start...]) : nil
        responseParser.requestMethod = head.method
        connectUpstreamIfNeeded()
    }

    // MARK: Backend

    private func connectUpstreamIfNeeded() {
        if let upstream, !upstream.isClosed { return }
        let side = ProxySide(role: .upstream)
        side.connection = self
        upstream = side
        let method = responseParser.requestMethod
        responseParser = HTTPResponseParser()
        responseParser.requestMethod = method
        let target = configuration.target
        StreamChannel.connect(to: target, on: loop, timeout: configuration.connectTimeout) { [self] result in
            guard side === upstream, !finished else {
                if case .success(let channel) = result { channel.close() }
                return
            }
            switch result {
            case .failure(let error):
                upstream = nil
                backendFailed("cannot connect to the backend \(target): \(error)")
            case .success(let channel):
                side.attach(channel)
                if let context = credentials.upstreamContext {
                    do { try side.startTLS(context: context, handshakeTimeout: configuration.handshakeTimeout) } catch {
                        dropUpstream()
                        backendFailed("cannot start TLS to the backend: \(error)")
                    }
                }
            }
            flush()
        }
    }

    private func parseBackend(_ bytes: UnsafeRawBufferPointer) {
        replay = nil
        guard exchange != nil, exchange?.responseComplete == false else {
            // Bytes nobody asked for: the backend is out of step; never let them reach a later request.
            dropUpstream()
            return
        }
        var offset = 0
        do {
            while offset < bytes.count {
                offset += try responseParser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...])) { event in
                    try self.responseEvent(event)
                }
                if upgraded {
                    toClient.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    return
                }
                if exchange == nil || exchange?.responseComplete == true {
                    if offset < bytes.count { dropUpstream() }
                    break
                }
            }
        } catch let error as Refusal {
            backendFailed(error.reason)
        } catch {
            backendFailed("the backend's response is malformed: \(error)")
        }
        completeIfDone()
    }

    private func responseEvent(_ event: HTTPResponseParser.Event) throws {
        guard var current = exchange else { return }
        switch event {
        case .head(let head):
            if head.status == 101 {
                guard let upgrade = current.upgrade, current.requestComplete else {
                    throw Refusal(status: 502, reason: "the backend switched protocols unasked", decision: .failed)
                }
                var headers = head.headers.removing(HTTPProxyConnection.hopByHop)
                headers += [
                    HTTPField("Connection", "Upgrade"), HTTPField("Upgrade", head.values("upgrade").first ?? upgrade),
                ]
                HTTPResponseHead(status: 101, reason: head.reason, headers: headers, framing: .none).encode(
                    into: &toClient)
                current.record.status = 101
                exchange = current
                switchProtocols()
                return
            }
            if head.status < 200 {
                // Interim (100 Continue, 103 Early Hints): passed on to HTTP/1.1 clients.
                if current.clientVersion == .http11 {
                    toClient += HTTPResponseHead(
                        status: head.status, reason: head.reason,
                        headers: head.headers.removing(HTTPProxyConnection.hopByHop), framing: .none
                    ).encoded()
                }
                return
            }
            current.responseStarted = true
            current.record.status = head.status
            let tokens = HTTPSyntax.connectionTokens(head.headers)
            current.backendKeepAlive = head.keepAlive(connectionTokens: tokens)
            var names = HTTPProxyConnection.hopByHop
            for token in tokens where !IdentityHeaders.protected.contains(token) {
                names.insert(token)
            }
            var headers = head.headers.removing(names)
            switch head.framing {
            case .chunked where current.clientVersion == .http11:
                // Re-chunked as parsed: the backend's codings before the final chunked (gzip, …) still apply.
                headers.append(HTTPField("Transfer-Encoding", head.values("transfer-encoding").joined(separator: ", ")))
                current.rechunkResponse = true
            case .untilClose where current.clientVersion == .http11:
                headers.append(HTTPField("Transfer-Encoding", "chunked"))
                current.rechunkResponse = true
            case .chunked, .untilClose:
                current.closeAfter = true  // an HTTP/1.0 client reads to the close
            case .contentLength, .none:
                break
            }
            if !current.clientKeepAlive || !current.requestComplete || downstream.receivedEOF {
                current.closeAfter = true
            }
            if current.closeAfter {
                headers.append(HTTPField("Connection", "close"))
            } else if current.clientVersion == .http10 {
                headers.append(HTTPField("Connection", "keep-alive"))
            }
            HTTPResponseHead(status: head.status, reason: head.reason, headers: headers, framing: head.framing)
                .encode(into: &toClient)
            exchange = current
        case .body(let piece):
            exchange?.record.bytesOut += piece.count
            HTTPChunkedEncoding.append(piece, to: &toClient, chunked: current.rechunkResponse)
            if toClient.count >= HTTPProxyConnection.flushThreshold { flushClient() }
        case .end:
            if current.rechunkResponse { toClient += HTTPChunkedEncoding.end }
            exchange?.responseComplete = true
            if !current.backendKeepAlive { dropUpstream() }
        }
    }

    private func switchProtocols() {
        upgraded = true
        if var current = exchange {
            current.record.durationMilliseconds = Double(loop.nowNanoseconds() &- current.started) / 1_000_000
            registry.logBatch.log(current.record)
        }
        exchange = nil
        toBackend += held
        held = []
        updateClientReading()
    }

    /// The backend could not be reached or answered badly: 502 when nothing of the response was sent yet, else
    /// the client connection is cut (a half-sent response cannot be taken back).
    private func backendFailed(_ reason: String) {
        dropUpstream()
        guard let current = exchange else { return }
        if let request = replay, !current.responseStarted {
            // The kept-alive connection was closed under us before any answer: once more, on a new connection.
            replay = nil
            toBackend = request
            connectUpstreamIfNeeded()
            return
        }
        if current.responseStarted {
            exchange?.record.decision = .failed
            exchange?.record.reason = reason
            closeAll()
        } else {
            refuse(Refusal(status: 502, reason: reason, decision: .failed))
        }
    }

    private func dropUpstream() {
        guard let side = upstream else { return }
        upstream = nil
        toBackend.removeAll(keepingCapacity: true)
        side.close()
    }

    // MARK: Ending requests and the connection

    /// Ends the exchange once its response is complete and its request too (or the connection closes anyway).
    /// Called after a parser returns, never from inside one: ending an exchange may start parsing the next request.
    private func completeIfDone() {
        guard let current = exchange, current.responseComplete, current.requestComplete || current.closeAfter else {
            return
        }
        completeExchange()
    }

    private func completeExchange() {
        guard var current = exchange else { return }
        current.record.durationMilliseconds = Double(loop.nowNanoseconds() &- current.started) / 1_000_000
        registry.logBatch.log(current.record)
        exchange = nil
        if current.closeAfter || (current.discardingBody && !current.requestComplete) {
            closeClientGracefully()
            return
        }
        if !held.isEmpty {
            let pending = held
            held = []
            pending.withUnsafeBytes { parseClient($0) }
        }
        if downstream.receivedEOF, exchange == nil { closeClientGracefully() }
        updateClientReading()
    }

    /// Answers `refusal` with `Connection: close`, logs it, and closes once the client has read it.
    private func refuse(_ refusal: Refusal) {
        var request = exchange?.record ?? RequestRecord(peer: record.peer, identity: record.identity)
        if exchange?.responseStarted == true {
            closeAll()
            return
        }
        let response = HTTPResponseHead.simple(
            status: refusal.status, text: "symbolon: \(refusal.reason)", closing: true)
        request.status = refusal.status
        request.decision = refusal.decision
        request.reason = refusal.reason
        request.bytesOut = response.count
        request.durationMilliseconds = Double(loop.nowNanoseconds() &- (exchange?.started ?? started)) / 1_000_000
        registry.logBatch.log(request)
        exchange = nil
        held = []
        toClient += response
        dropUpstream()
        closeClientGracefully()
    }

    /// Sends what is queued, then close_notify and FIN; input is dropped until the client closes, at most
    /// `refusalLinger`: closing at once could reset the connection before the client read its answer.
    private func closeClientGracefully() {
        guard !closingClient, !finished else { return }
        closingClient = true
        flushClient()
        downstream.shutdownOutput()
        downstream.resumeReading()
        dropUpstream()
        // The socket closes itself once the answer is out and the client's end is done; this bounds the wait.
        loop.schedule(after: HTTPProxyConnection.refusalLinger) { [weak self] in self?.closeAll() }
    }

    func recheck(with verifier: PeerVerifier) {
        guard let failure = ConnectionRecord.revocation(of: downstream.tls, by: verifier) else { return }
        record.decision = .revoked
        record.reason = "closed after reload: \(failure)"
        downstream.close(refuse: true)
        closeAll()
    }

    private func closeAll() {
        downstream.close()
        dropUpstream()
        finish()
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        if var current = exchange {
            exchange = nil
            if current.record.status == 0 { current.record.decision = .failed }
            current.record.durationMilliseconds = Double(loop.nowNanoseconds() &- current.started) / 1_000_000
            registry.logBatch.log(current.record)
        }
        idle.stop()
        headTimer?.cancel()
        headTimer = nil
        record.durationMilliseconds = Double(loop.nowNanoseconds() &- started) / 1_000_000
        registry.logBatch.log(record)
        registry.remove(self)
        environment.connectionEnded()
    }

    // MARK: Output, backpressure, idleness

    private func flush() {
        flushBackend()
        flushClient()
        updateClientReading()
    }

    private func flushBackend() {
        guard !toBackend.isEmpty, let upstream, upstream.isReady else { return }
        toBackend.withUnsafeBytes { upstream.write($0) }
        toBackend.removeAll(keepingCapacity: toBackend.count <= HTTPProxyConnection.flushThreshold)
    }

    private func flushClient() {
        guard !toClient.isEmpty, !finished else { return }
        record.bytesOut += toClient.count
        toClient.withUnsafeBytes { downstream.write($0) }
        toClient.removeAll(keepingCapacity: toClient.count <= HTTPProxyConnection.flushThreshold)
        if !downstream.isWritable { upstream?.pauseReading() }
    }

    /// Reads from the client only while its bytes have somewhere to go: the backend is connected and keeping up,
    /// and no more than `heldLimit` pipelined bytes wait for earlier answers. (Pausing and resuming are no-ops when
    /// nothing changes.)
    private func updateClientReading() {
        guard !finished, !closingClient else { return }
        var wanted = held.count < HTTPProxyConnection.heldLimit
        if wanted, toBackend.count >= HTTPProxyConnection.flushThreshold { wanted = false }
        if wanted, let upstream, exchange != nil || upgraded {
            wanted = upstream.isReady && upstream.isWritable
        }
        if wanted { downstream.resumeReading() } else { downstream.pauseReading() }
    }

    private func idleExpired(after limit: Duration) {
        guard !finished else { return }
        record.reason += "; closed after \(Int(limit.seconds))s without progress (idle timeout)"
        closeAll()
    }
}
