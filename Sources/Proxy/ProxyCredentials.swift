import Foundation
import Policy
import TLS
import X509

/// One consistent snapshot of everything the proxy loaded from files: the TLS context (our chain and key, the
/// bundle, the CRLs, the verifier and its cache) and the authorization policy. Reload builds a new snapshot and
/// swaps it in whole; a snapshot that fails to build leaves the old one in place.
public final class ProxyCredentials: Sendable {
    /// Server mode: the server context clients connect to. Client mode: the client context toward the upstream.
    public let context: TLSContext
    /// Server mode with TLS to the target: the client context toward the target.
    public let targetContext: TLSContext?
    public let policy: AuthorizationPolicy?
    /// HTTP mode: who may call which route; nil lets every admitted client call every route.
    public let routes: RoutePolicy?
    /// HTTP mode: how request heads are rewritten with the client's identity.
    let identityHeaders: IdentityHeaders?
    /// Identifies the file contents this snapshot was built from (size, mtime, inode per file).
    let fingerprint: [FileFingerprint]
    /// Identifies the trust and revocation inputs: when these change, open connections are re-checked.
    let trustFingerprint: [FileFingerprint]

    /// Reads every file named by `configuration` and builds the context. Errors name the file.
    public init(configuration: ProxyConfiguration, ticketKey: SessionTicketKey? = nil) throws {
        let fingerprint = configuration.watchedFiles.map(FileFingerprint.init(path:))
        let chain = try ProxyCredentials.certificates(configuration.certificateFile, what: "certificate chain")
        let key: PrivateKey
        do {
            let text = try ProxyCredentials.read(configuration.keyFile, what: "private key")
            key = try PrivateKey(pemEncoded: text)
        } catch let error as ProxyError { throw error } catch {
            throw ProxyError(
                .badFile, "cannot use the private key: \(error) (an unencrypted PKCS#8 PEM key is expected)",
                file: configuration.keyFile)
        }
        guard key.matches(chain[0].publicKey) else {
            throw ProxyError(
                .badFile,
                "the private key does not belong to the certificate \(chain[0].subject) in \(configuration.certificateFile)",
                file: configuration.keyFile)
        }
        let bundle = try ProxyCredentials.certificates(configuration.bundleFile, what: "trust bundle")
        guard bundle.contains(where: \.isSelfSigned) else {
            throw ProxyError(
                .badFile, "the trust bundle holds no root (self-signed) certificate; give the CA's root.pem",
                file: configuration.bundleFile)
        }
        var crls: [CertificateRevocationList]? = nil
        if !configuration.crlFiles.isEmpty {
            var loaded: [CertificateRevocationList] = []
            for file in configuration.crlFiles {
                do {
                    let found = try CertificateRevocationList.parseAll(
                        pemEncoded: try ProxyCredentials.read(file, what: "CRL"))
                    guard !found.isEmpty else { throw ProxyError(.badFile, "holds no CRL", file: file) }
                    loaded += found
                } catch let error as ProxyError { throw error } catch {
                    throw ProxyError(.badFile, "cannot parse the CRL: \(error)", file: file)
                }
            }
            crls = loaded
        }
        var policy: AuthorizationPolicy? = nil
        if configuration.mode == .server, configuration.clientAuthentication != .none {
            var combined = configuration.policy.flags
            if let file = configuration.policy.policyFile {
                do { combined = combined.merged(with: try AuthorizationPolicy.load(file: file)) } catch {
                    throw ProxyError(.badFile, "cannot use the policy: \(error)", file: file)
                }
            }
            guard !combined.isEmpty || combined.allowUnauthenticated else {
                throw ProxyError(
                    .invalidConfiguration,
                    "no authorization rule allows any client; add --allow-spiffe-id, --allow-dns, … , a --policy file, "
                        + "or --allow-all to admit every client the bundle verifies")
            }
            policy = combined
        }
        let tlsConfiguration = TLSConfiguration(
            role: configuration.mode == .server ? .server : .client, certificateChain: chain, privateKey: key,
            trustBundle: bundle, crls: crls, acceptsStaleCRLs: configuration.acceptsStaleCRLs,
            clientAuthentication: configuration.clientAuthentication, minimumVersion: configuration.minimumVersion,
            expectedServerNames: configuration.expectedServerNames)
        var authorizer: PeerAuthorizer? = nil
        if let policy {
            authorizer = { peer in
                let decision = policy.evaluate(peer.leaf)
                return decision.isAllowed ? .allow(decision.rule ?? decision.reason) : .deny(decision.reason)
            }
        }
        do {
            context = try TLSContext(configuration: tlsConfiguration, authorizer: authorizer, ticketKey: ticketKey)
        } catch {
            throw ProxyError(.badFile, "cannot build the TLS context: \(error)", file: configuration.certificateFile)
        }
        if let target = configuration.targetTLS, configuration.mode == .server {
            let targetBundle = try ProxyCredentials.certificates(target.bundleFile, what: "target trust bundle")
            do {
                targetContext = try TLSContext(
                    configuration: TLSConfiguration(
                        role: .client, certificateChain: chain, privateKey: key, trustBundle: targetBundle,
                        minimumVersion: configuration.minimumVersion, expectedServerNames: target.expectedNames))
            } catch {
                throw ProxyError(.badFile, "cannot use it for TLS to the target: \(error)", file: target.bundleFile)
            }
        } else {
            targetContext = nil
        }
        self.policy = policy
        if let http = configuration.http {
            routes = try http.routesFile.map { file in
                do { return try RoutePolicy.load(file: file) } catch {
                    throw ProxyError(.badFile, "cannot use the routes: \(error)", file: file)
                }
            }
            let signer = try http.signingKeyFile.map { file in
                do {
                    return try IdentitySigner(
                        key: try PrivateKey(pemEncoded: try ProxyCredentials.read(file, what: "identity signing key")),
                        ttl: http.identityTokenTTL)
                } catch let error as ProxyError { throw ProxyError(error.code, error.reason, file: file) } catch {
                    throw ProxyError(
                        .badFile, "cannot use the identity signing key: \(error) (an unencrypted PEM key is expected)",
                        file: file)
                }
            }
            let proxyURI = chain[0].subjectAlternativeNames.lazy.compactMap { name -> String? in
                if case .uri(let uri) = name { return uri }
                return nil
            }.first
            identityHeaders = IdentityHeaders(options: http, proxyURI: proxyURI, signer: signer)
        } else {
            routes = nil
            identityHeaders = nil
        }
        self.fingerprint = fingerprint
        self.trustFingerprint = ([configuration.bundleFile] + configuration.crlFiles).map(FileFingerprint.init(path:))
    }

    /// The context for the upstream side of a connection, when it runs TLS.
    var upstreamContext: TLSContext? { context.configuration.role == .client ? context : targetContext }

    static func read(_ path: String, what: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ProxyError(
                .badFile, exists ? "cannot read the \(what) (permissions?)" : "the \(what) file does not exist",
                file: path)
        }
        guard data.count <= 16 << 20 else { throw ProxyError(.badFile, "the \(what) file is over 16 MiB", file: path) }
        return String(decoding: data, as: UTF8.self)
    }

    static func certificates(_ path: String, what: String) throws -> [Certificate] {
        let text = try read(path, what: what)
        let certificates: [Certificate]
        do { certificates = try Certificate.parseBundle(pemEncoded: text) } catch {
            throw ProxyError(.badFile, "cannot parse the \(what): \(error)", file: path)
        }
        guard !certificates.isEmpty else {
            throw ProxyError(.badFile, "the \(what) holds no PEM certificate", file: path)
        }
        return certificates
    }
}

/// Size, modification time and inode of a file: cheap change detection for hot reload (a rename-into-place
/// changes the inode even when size and mtime match).
struct FileFingerprint: Hashable, Sendable {
    let path: String
    let size: Int64
    let modified: Int64
    let inode: UInt64

    init(path: String) {
        self.path = path
        var info = stat()
        if stat(path, &info) == 0 {
            size = Int64(info.st_size)
            modified = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
            inode = UInt64(info.st_ino)
        } else {
            size = -1
            modified = -1
            inode = 0
        }
    }
}
