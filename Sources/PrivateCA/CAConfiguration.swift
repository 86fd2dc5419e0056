import Foundation

/// The CA's settings, kept as `ca.json` in its directory.
public struct CAConfiguration: Sendable, Codable, Equatable {
    /// Version of this file's format.
    public var formatVersion: Int = 1
    /// The organisation name written into the CA certificates (`O=`).
    public var name: String
    /// The SPIFFE trust domain the intermediate is constrained to.
    public var trustDomain: String
    /// DNS names the intermediate may certify (with their subdomains). Empty: DNS names are not constrained.
    public var dnsConstraints: [String]
    /// CRL distribution point URL written into issued certificates, if any.
    public var crlURL: String?
    /// OCSP responder URL written into issued certificates, if any.
    public var ocspURL: String?
    /// How long a CRL of the intermediate is valid (nextUpdate − thisUpdate), seconds.
    public var crlValidity: TimeInterval = 86_400
    /// How long the root's CRL is valid, seconds.
    public var rootCRLValidity: TimeInterval = 30 * 86_400

    public init(
        name: String, trustDomain: String, dnsConstraints: [String] = [], crlURL: String? = nil, ocspURL: String? = nil
    ) {
        self.name = name
        self.trustDomain = trustDomain
        self.dnsConstraints = dnsConstraints
        self.crlURL = crlURL
        self.ocspURL = ocspURL
    }
}

/// Where a CA keeps its files. Everything is relative to one directory (default `./symbolon-data`).
public struct CADirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public var configuration: String { path + "/ca.json" }
    public var rootCertificate: String { path + "/root.pem" }
    /// Encrypted PKCS#8; absent when the root is kept offline.
    public var rootKey: String { path + "/root-key.pem" }
    public var intermediateCertificate: String { path + "/intermediate.pem" }
    /// Unencrypted PKCS#8, mode 0600: the online issuing key.
    public var intermediateKey: String { path + "/intermediate-key.pem" }
    public var database: String { path + "/symbolon.db" }
    /// Custom profiles (optional).
    public var profiles: String { path + "/profiles.json" }
    /// Latest CRLs written by `ca crl` (also written wherever `--out` says).
    public var intermediateCRL: String { path + "/intermediate.crl.pem" }
    public var rootCRL: String { path + "/root.crl.pem" }

    /// Whether a CA lives here (any of its defining files exists).
    public var holdsCA: Bool {
        [configuration, rootCertificate, intermediateCertificate, database].contains {
            FileManager.default.fileExists(atPath: $0)
        }
    }
}
