import Foundation
import X509

/// What to certify: the public key (from a CSR, or a key the CA generates) and the names, under a profile.
public struct IssuanceRequest: Sendable {
    /// Where the certificate's key comes from.
    public enum KeySource: Sendable {
        /// A CSR; its self-signature must verify (proof of possession).
        case csr(CertificateSigningRequest)
        /// The CA generates a key of this type and returns it with the certificate.
        case generate(KeyAlgorithm)
        /// A public key whose possession was proven some other way (the agent's renewal over mTLS, a bench).
        case publicKey(PublicKey)
    }

    public var profile: String
    public var keySource: KeySource
    public var commonName: String?
    public var spiffeID: String?
    public var dnsNames: [String]
    public var ipAddresses: [String]
    public var email: String?
    /// Device serial for the `device` profile, written as the subject's `serialNumber` attribute.
    public var deviceSerial: String?
    /// Requested lifetime; nil for the profile's default.
    public var lifetime: TimeInterval?

    public init(
        profile: String, keySource: KeySource = .generate(.ecdsaP256), commonName: String? = nil,
        spiffeID: String? = nil,
        dnsNames: [String] = [], ipAddresses: [String] = [], email: String? = nil, deviceSerial: String? = nil,
        lifetime: TimeInterval? = nil
    ) {
        self.profile = profile
        self.keySource = keySource
        self.commonName = commonName
        self.spiffeID = spiffeID
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.email = email
        self.deviceSerial = deviceSerial
        self.lifetime = lifetime
    }
}

/// A certificate the CA issued, with the chain to present and, when the CA generated it, the private key.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    /// The intermediate (what a TLS peer needs besides the leaf).
    public let chain: [Certificate]
    /// Set when the CA generated the key.
    public let privateKey: PrivateKey?
    public let record: CertificateRecord
    /// Warnings for the operator (e.g. lifetime shortened to the intermediate's expiry).
    public let warnings: [String]

    /// Leaf followed by the intermediate, PEM: the file TLS software wants as its certificate.
    public var chainPEM: String { ([certificate] + chain).map(\.pemEncoded).joined() }
}
