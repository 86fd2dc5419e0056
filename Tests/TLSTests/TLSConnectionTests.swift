import Foundation
import TestSupport
import Testing
import X509

@testable import TLS

/// A PKI with a server and a client identity, and contexts for both sides.
struct TLSFixture {
    let pki: FixturePKI
    let serverChain: [Certificate]
    let serverKey: PrivateKey
    let clientChain: [Certificate]
    let clientKey: PrivateKey

    init() throws {
        pki = try FixturePKI(dnsConstraints: ["localhost"])
        let (server, serverKey) = try pki.leaf(
            names: [.uri("spiffe://acme.internal/server"), .dns("localhost")], commonName: "server",
            usages: [.serverAuth])
        serverChain = [server, pki.intermediate]
        self.serverKey = serverKey
        let (client, clientKey) = try pki.leaf(
            names: [.uri("spiffe://acme.internal/ns/payments/api")], commonName: "api", usages: [.clientAuth])
        clientChain = [client, pki.intermediate]
        self.clientKey = clientKey
    }

    func crl(revoking serials: [String] = [], nextUpdate: Date? = nil, issuer: Certificate? = nil) throws
        -> CertificateRevocationList
    {
        try CertificateRevocationList.create(
            issuer: issuer ?? pki.intermediate, issuerKey: issuer == nil ? pki.intermediateKey : pki.rootKey,
            number: 1, thisUpdate: Date().addingTimeInterval(-60),
            nextUpdate: nextUpdate ?? Date().addingTimeInterval(3600),
            entries: serials.map { .init(serial: $0, revocationDate: Date().addingTimeInterval(-30), reasonCode: nil) })
    }

    func server(
        clientAuthentication: TLSConfiguration.ClientAuthentication = .require,
        crls: [CertificateRevocationList]? = nil, acceptsStaleCRLs: Bool = false,
        authorizer: PeerAuthorizer? = nil, ticketKey: SessionTicketKey? = nil, bundle: [Certificate]? = nil
    ) throws -> TLSContext {
        var configuration = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: serverChain, privateKey: serverKey, trustBundle: bundle ?? [pki.root], crls: crls,
            clientAuthentication: clientAuthentication)
        configuration.acceptsStaleCRLs = acceptsStaleCRLs
        return try TLSContext(configuration: configuration, authorizer: authorizer, ticketKey: ticketKey)
    }

    func client(
        chain: [Certificate]? = nil, key: PrivateKey? = nil, expecting names: [SubjectAlternativeName] = [],
        bundle: [Certificate]? = nil, skipKeyCheck: Bool = false
    ) throws -> TLSContext {
        var configuration = TLSConfiguration.makeClientConfigurationWithMTLS(
            certificateChain: chain ?? clientChain, privateKey: key ?? clientKey, trustBundle: bundle ?? [pki.root],
            expectedServerNames: names)
        if chain?.isEmpty == true { configuration.privateKey = nil }
        configuration.skipsKeyMatchCheckForTesting = skipKeyCheck
        return try TLSContext(configuration: configuration)
    }
}

extension TLSConnection.HandshakeStatus {
    var isComplete: Bool {
        if case .complete = self { return true }
        return false
    }
    var failure: TLSError? {
        if case .failed(let error) = self { return error }
        return nil
    }
}

@Suite("TLS connection (GnuTLS, in memory)")
struct TLSConnectionTests {
    @Test("a client with a valid certificate completes the mTLS handshake and both sides exchange data")
    func mutualHandshake() throws {
        let fixture = try TLSFixture()
        let pair = try TLSPair(
            client: try fixture.client(expecting: [.uri("spiffe://acme.internal/server")]),
            server: try fixture.server())
        let (client, server) = pair.handshake()
        #expect(client.isComplete)
        #expect(server.isComplete)
        #expect(pair.server.peer?.spiffeID?.description == "spiffe://acme.internal/ns/payments/api")
        #expect(pair.server.peer?.chain.count == 3)
        #expect(pair.client.peer?.leaf == fixture.serverChain[0])
        #expect(pair.server.sessionInfo.protocolVersion == "TLS1.3")
        #expect(pair.server.sessionInfo.group == "X25519")
        #expect(try pair.send("ping", fromClient: true).get() == "ping")
        #expect(try pair.send("pong", fromClient: false).get() == "pong")
    }

    @Test("a client without a certificate is refused when the server requires one")
    func missingCertificateRefused() throws {
        let fixture = try TLSFixture()
        let pair = try TLSPair(client: try fixture.client(chain: []), server: try fixture.server())
        let (_, server) = pair.handshake()
        #expect(server.failure?.code == .peerCertificateMissing)
        #expect(pair.server.peer == nil)
    }

    @Test("request mode admits a client without a certificate, marked unauthenticated")
    func requestModeAdmitsUnauthenticated() throws {
        let fixture = try TLSFixture()
        let pair = try TLSPair(
            client: try fixture.client(chain: []), server: try fixture.server(clientAuthentication: .request))
        let (client, server) = pair.handshake()
        #expect(client.isComplete && server.isComplete)
        #expect(pair.server.peer?.isAuthenticated == false)
        #expect(pair.server.peer?.description == "unauthenticated")
    }

    @Test("a client certificate from another CA is refused as an unknown issuer")
    func otherCARefused() throws {
        let fixture = try TLSFixture()
        let other = try FixturePKI()
        let (leaf, key) = try other.leaf(names: [.uri("spiffe://acme.internal/intruder")], usages: [.clientAuth])
        let pair = try TLSPair(
            client: try fixture.client(chain: [leaf, other.intermediate], key: key), server: try fixture.server())
        let (_, server) = pair.handshake()
        #expect(server.failure?.code == .peerCertificateRejected)
        #expect(server.failure?.reason.contains("unknownIssuer") == true)
    }

    @Test("an expired client certificate is refused")
    func expiredRefused() throws {
        let fixture = try TLSFixture()
        let (leaf, key) = try fixture.pki.leaf(
            names: [.uri("spiffe://acme.internal/old")], usages: [.clientAuth],
            notBefore: Date().addingTimeInterval(-7200), notAfter: Date().addingTimeInterval(-3600))
        let pair = try TLSPair(
            client: try fixture.client(chain: [leaf, fixture.pki.intermediate], key: key), server: try fixture.server())
        #expect(pair.handshake().server.failure?.reason.contains("expired") == true)
    }

    @Test("a serverAuth-only certificate is refused as a client certificate")
    func serverAuthOnlyRefused() throws {
        let fixture = try TLSFixture()
        let (leaf, key) = try fixture.pki.leaf(names: [.uri("spiffe://acme.internal/srv")], usages: [.serverAuth])
        let pair = try TLSPair(
            client: try fixture.client(chain: [leaf, fixture.pki.intermediate], key: key), server: try fixture.server())
        #expect(pair.handshake().server.failure?.reason.contains("wrongPurpose") == true)
    }

    @Test("a valid chain presented with the wrong private key is refused, verified-chain cache cold and warm")
    func wrongKeyRefused() throws {
        let fixture = try TLSFixture()
        let server = try fixture.server()
        let impostor = try fixture.client(key: try PrivateKey.generate(), skipKeyCheck: true)
        // Cold cache: the chain was never verified.
        let cold = try TLSPair(client: impostor, server: server)
        #expect(!cold.handshake().server.isComplete)
        #expect(cold.server.peer == nil)
        // Warm the cache with the real owner, then try again with the wrong key.
        let owner = try TLSPair(client: try fixture.client(), server: server)
        #expect(owner.handshake().server.isComplete)
        #expect(server.peerVerifier.cacheStatistics.count >= 1)
        let warm = try TLSPair(client: impostor, server: server)
        let status = warm.handshake().server
        #expect(!status.isComplete)
        #expect(status.failure != nil)
        #expect(warm.server.peer == nil)
    }

    @Test("a returning client is answered from the verified-chain cache")
    func cacheHit() throws {
        let fixture = try TLSFixture()
        let server = try fixture.server()
        let client = try fixture.client()
        for _ in 0..<3 { #expect(try TLSPair(client: client, server: server).handshake().server.isComplete) }
        let statistics = server.peerVerifier.cacheStatistics
        #expect(statistics.hits >= 2)
        #expect(statistics.count == 1)
    }

    @Test("distinct clients of one intermediate are each verified (second-level cache) and each admitted")
    func distinctClients() throws {
        let fixture = try TLSFixture()
        let server = try fixture.server()
        for index in 0..<5 {
            let (leaf, key) = try fixture.pki.leaf(
                names: [.uri("spiffe://acme.internal/device/\(index)")], usages: [.clientAuth])
            let pair = try TLSPair(
                client: try fixture.client(chain: [leaf, fixture.pki.intermediate], key: key), server: server)
            #expect(pair.handshake().server.isComplete)
            #expect(pair.server.peer?.spiffeID?.path == "/device/\(index)")
            #expect(pair.server.peer?.chain.last == fixture.pki.root)
        }
    }

    @Test("a revoked client is refused; others of the same CA are not")
    func revokedRefused() throws {
        let fixture = try TLSFixture()
        let (revoked, revokedKey) = try fixture.pki.leaf(
            names: [.uri("spiffe://acme.internal/gone")], usages: [.clientAuth])
        let crls = [try fixture.crl(revoking: [revoked.serial]), try fixture.crl(issuer: fixture.pki.root)]
        let server = try fixture.server(crls: crls)
        let refused = try TLSPair(
            client: try fixture.client(chain: [revoked, fixture.pki.intermediate], key: revokedKey), server: server)
        #expect(refused.handshake().server.failure?.reason.contains("revoked") == true)
        #expect(try TLSPair(client: try fixture.client(), server: server).handshake().server.isComplete)
    }

    @Test("a missing CRL for the intermediate fails closed")
    func missingCRLFailsClosed() throws {
        let fixture = try TLSFixture()
        let server = try fixture.server(crls: [try fixture.crl(issuer: fixture.pki.root)])
        let status = try TLSPair(client: try fixture.client(), server: server).handshake().server
        #expect(status.failure?.reason.contains("revocationUnknown") == true)
    }

    @Test("a stale CRL fails closed unless stale CRLs are accepted")
    func staleCRL() throws {
        let fixture = try TLSFixture()
        let stale = [
            try fixture.crl(nextUpdate: Date().addingTimeInterval(-10)),
            try fixture.crl(issuer: fixture.pki.root),
        ]
        let strict = try TLSPair(client: try fixture.client(), server: try fixture.server(crls: stale))
        #expect(!strict.handshake().server.isComplete)
        let lenient = try TLSPair(
            client: try fixture.client(), server: try fixture.server(crls: stale, acceptsStaleCRLs: true))
        #expect(lenient.handshake().server.isComplete)
    }

    @Test("the authorizer's denial fails the handshake and carries its reason")
    func authorizerDenies() throws {
        let fixture = try TLSFixture()
        let server = try fixture.server(authorizer: { peer in
            peer.spiffeID?.path.hasPrefix("/ns/web/") == true ? .allow("web") : .deny("\(peer) is not in /ns/web/")
        })
        let status = try TLSPair(client: try fixture.client(), server: server).handshake().server
        #expect(status.failure?.code == .peerNotAuthorized)
        #expect(status.failure?.reason.contains("spiffe://acme.internal/ns/payments/api is not in /ns/web/") == true)
    }

    @Test("a client expecting identity X refuses a server presenting Y")
    func clientChecksServerIdentity() throws {
        let fixture = try TLSFixture()
        let pair = try TLSPair(
            client: try fixture.client(expecting: [.uri("spiffe://acme.internal/other-server")]),
            server: try fixture.server())
        let (client, _) = pair.handshake()
        #expect(client.failure?.code == .peerCertificateRejected)
        #expect(client.failure?.reason.contains("nameMismatch") == true)
    }

    @Test("a resumed session is re-checked: authorization and revocation apply to resumed connections too")
    func resumptionRechecks() throws {
        let fixture = try TLSFixture()
        let key = try SessionTicketKey()
        let client = try fixture.client()
        let first = try TLSPair(client: client, server: try fixture.server(ticketKey: key))
        #expect(first.handshake().server.isComplete)
        #expect(try first.send("hello", fromClient: false).get() == "hello")
        let ticket = try #require(first.client.exportSession())

        // Same policy: resumes.
        let resumed = try TLSPair(client: client, server: try fixture.server(ticketKey: key), resume: ticket)
        #expect(resumed.handshake().server.isComplete)
        #expect(resumed.server.sessionInfo.resumed)
        #expect(resumed.server.peer?.spiffeID?.path == "/ns/payments/api")

        // New policy that denies this client, same ticket key: the resumed session is refused.
        let denying = try fixture.server(authorizer: { _ in .deny("policy changed") }, ticketKey: key)
        let refused = try TLSPair(client: client, server: denying, resume: ticket)
        let status = refused.handshake().server
        #expect(status.failure?.code == .peerNotAuthorized)

        // New CRL revoking the client, same ticket key: refused too.
        let crls = [
            try fixture.crl(revoking: [fixture.clientChain[0].serial]), try fixture.crl(issuer: fixture.pki.root),
        ]
        let revoking = try fixture.server(crls: crls, ticketKey: key)
        let revoked = try TLSPair(client: client, server: revoking, resume: ticket)
        #expect(revoked.handshake().server.failure?.reason.contains("revoked") == true)
    }

    @Test("a context refuses a key that does not belong to its certificate, naming the certificate")
    func keyMismatch() throws {
        let fixture = try TLSFixture()
        #expect(throws: TLSError.self) {
            _ = try TLSContext(
                configuration: .makeServerConfigurationWithMTLS(
                    certificateChain: fixture.serverChain, privateKey: try PrivateKey.generate(),
                    trustBundle: [fixture.pki.root]))
        }
    }

    @Test("a bundle without a root is refused with a message saying what to give")
    func bundleWithoutRoot() throws {
        let fixture = try TLSFixture()
        do {
            _ = try fixture.server(bundle: [fixture.pki.intermediate])
            Issue.record("expected an error")
        } catch let error as TLSError {
            #expect(error.reason.contains("root"))
        }
    }

    @Test("garbage instead of a ClientHello fails the handshake without crashing")
    func garbageClientHello() throws {
        let fixture = try TLSFixture()
        let server = try TLSConnection(context: try fixture.server()) { _ in }
        let garbage = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        garbage.withUnsafeBytes { server.receive($0) }
        let status = server.handshake()
        #expect(status.failure != nil)
        var http = Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let second = try TLSConnection(context: try fixture.server()) { _ in }
        http.withUnsafeMutableBytes { second.receive(UnsafeRawBufferPointer($0)) }
        #expect(second.handshake().failure != nil)
    }
}
