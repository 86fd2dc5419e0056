import Foundation
import X509

@testable import TLS

/// A client and a server TLSConnection wired to each other in memory: what one outputs, the other receives.
final class TLSPair {
    let client: TLSConnection
    let server: TLSConnection
    private let toServer = Outbox()
    private let toClient = Outbox()
    var clientStatus: TLSConnection.HandshakeStatus = .wantInput
    var serverStatus: TLSConnection.HandshakeStatus = .wantInput

    final class Outbox {
        var bytes: [UInt8] = []
    }

    init(client clientContext: TLSContext, server serverContext: TLSContext, resume: [UInt8]? = nil) throws {
        let toServer = self.toServer
        let toClient = self.toClient
        client = try TLSConnection(context: clientContext) { toServer.bytes.append(contentsOf: $0) }
        server = try TLSConnection(context: serverContext) { toClient.bytes.append(contentsOf: $0) }
        if let resume { try client.resumeSession(resume) }
    }

    /// Runs both handshakes until each completes or fails (bounded).
    @discardableResult
    func handshake() -> (client: TLSConnection.HandshakeStatus, server: TLSConnection.HandshakeStatus) {
        clientStatus = client.handshake()
        for _ in 0..<20 {
            deliver()
            if case .wantInput = serverStatus { serverStatus = server.handshake() }
            deliver()
            if case .wantInput = clientStatus { clientStatus = client.handshake() }
            if !isWaiting(clientStatus), !isWaiting(serverStatus) { break }
            // One side is done and nothing is in flight: the other waits for bytes that will never come.
            if toServer.bytes.isEmpty, toClient.bytes.isEmpty, isWaiting(clientStatus) != isWaiting(serverStatus) {
                break
            }
        }
        deliver()
        return (clientStatus, serverStatus)
    }

    private func isWaiting(_ status: TLSConnection.HandshakeStatus) -> Bool {
        if case .wantInput = status { return true }
        return false
    }

    func deliver() {
        if !toServer.bytes.isEmpty {
            let bytes = toServer.bytes
            toServer.bytes = []
            bytes.withUnsafeBytes { server.receive($0) }
        }
        if !toClient.bytes.isEmpty {
            let bytes = toClient.bytes
            toClient.bytes = []
            bytes.withUnsafeBytes { client.receive($0) }
        }
    }

    /// Sends `text` from one side and returns what the other side reads (or the read failure).
    func send(_ text: String, fromClient: Bool) throws -> Result<String, TLSError> {
        let (sender, receiver) = fromClient ? (client, server) : (server, client)
        try Array(text.utf8).withUnsafeBytes { try sender.write($0) }
        deliver()
        var received: [UInt8] = []
        for _ in 0..<100 {
            switch receiver.read({ received.append(contentsOf: $0) }) {
            case .data: continue
            case .wantInput, .closed: return .success(String(decoding: received, as: UTF8.self))
            case .failed(let error): return .failure(error)
            }
        }
        return .success(String(decoding: received, as: UTF8.self))
    }

    /// Lets the client read whatever the server sent after the handshake (TLS 1.3 tickets, alerts).
    func clientReadsPending() -> TLSConnection.ReadStatus {
        deliver()
        var last: TLSConnection.ReadStatus = .wantInput
        for _ in 0..<10 {
            last = client.read { _ in }
            if case .data = last { continue }
            break
        }
        return last
    }
}
