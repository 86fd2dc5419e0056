import Foundation
import X509

/// A private CA: a root (possibly offline) and an online intermediate, constrained to one trust domain, issuing
/// certificates under profiles and recording everything in its store.
///
/// Thread-safe: the state is immutable after opening and the store serialises its own transactions, so one
/// authority can issue from several threads (the bench does).
public final class CertificateAuthority: Sendable {
    public let directory: CADirectory
    public let configuration: CAConfiguration
    public let root: Certificate
    public let intermediate: Certificate
    let intermediateKey: PrivateKey
    public let store: any CertificateStore
    /// Profiles by name: the built-in ones, then custom ones from `profiles.json` (which may replace them).
    public let profiles: [String: CertificateProfile]
    /// Who is acting, for the audit log.
    public let actor: String
    /// The verifier every issued certificate must pass before it is recorded: the relying parties' verifier,
    /// anchored at the intermediate after checking it against the root once (see `ChainVerifier.anchored`).
    let selfCheck: Result<ChainVerifier, VerificationFailure>

    init(
        directory: CADirectory, configuration: CAConfiguration, root: Certificate, intermediate: Certificate,
        intermediateKey: PrivateKey, store: any CertificateStore, profiles: [String: CertificateProfile], actor: String
    ) {
        self.directory = directory
        self.configuration = configuration
        self.root = root
        self.intermediate = intermediate
        self.intermediateKey = intermediateKey
        self.store = store
        self.profiles = profiles
        self.actor = actor
        self.selfCheck = ChainVerifier(trustRoots: [root]).anchored(at: intermediate)
    }

    /// Opens the CA in `directory`.
    public static func open(directory: CADirectory, actor: String = CertificateAuthority.currentUser()) throws
        -> CertificateAuthority
    {
        guard FileManager.default.fileExists(atPath: directory.configuration) else {
            throw CAError(
                .notInitialized,
                "no CA in \(directory.path) (no ca.json); create one with `symbolon ca init --dir \(directory.path) …` or pass the right --dir"
            )
        }
        let configuration: CAConfiguration
        do {
            configuration = try JSONDecoder().decode(
                CAConfiguration.self, from: SecureFile.read(directory.configuration))
        } catch let error as X509Error {
            throw error
        } catch {
            throw CAError(.badConfiguration, "\(directory.configuration): not a valid CA configuration: \(error)")
        }
        let root = try Certificate.load(file: directory.rootCertificate)[0]
        let intermediate = try Certificate.load(file: directory.intermediateCertificate)[0]
        let key: PrivateKey
        do {
            key = try PrivateKey(pemEncoded: SecureFile.readText(directory.intermediateKey))
        } catch let error as X509Error {
            throw error.about(file: directory.intermediateKey)
        }
        guard key.matches(intermediate.publicKey) else {
            throw CAError(
                .badConfiguration,
                "\(directory.intermediateKey) does not belong to \(directory.intermediateCertificate)")
        }
        let profiles = try loadProfiles(directory)
        let store = try SQLiteCertificateStore(path: directory.database, createIfMissing: false)
        return CertificateAuthority(
            directory: directory, configuration: configuration, root: root, intermediate: intermediate,
            intermediateKey: key, store: store, profiles: profiles, actor: actor)
    }

    static func loadProfiles(_ directory: CADirectory) throws -> [String: CertificateProfile] {
        var profiles = Dictionary(uniqueKeysWithValues: CertificateProfile.builtIn.map { ($0.name, $0) })
        guard FileManager.default.fileExists(atPath: directory.profiles) else { return profiles }
        for profile in try loadCustomProfiles(file: directory.profiles) { profiles[profile.name] = profile }
        return profiles
    }

    /// Reads and checks custom profiles from a JSON file holding an array of profiles.
    public static func loadCustomProfiles(file: String) throws -> [CertificateProfile] {
        let custom: [CertificateProfile]
        do {
            custom = try JSONDecoder().decode([CertificateProfile].self, from: SecureFile.read(file))
        } catch let error as X509Error {
            throw error
        } catch {
            throw CAError(.badConfiguration, "\(file): not a valid profile list: \(error)")
        }
        for profile in custom { try profile.validate() }
        return custom
    }

    /// The profile called `name`, or an error listing the known ones.
    public func profile(named name: String) throws -> CertificateProfile {
        guard let profile = profiles[name] else {
            throw CAError(
                .unknownProfile,
                "unknown profile \"\(name)\"; known profiles: \(profiles.keys.sorted().joined(separator: ", "))")
        }
        return profile
    }

    /// The OS user running this process, for the audit log.
    public static func currentUser() -> String {
        if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return "uid \(geteuid())"
    }

    func audit(_ action: String, serial: String? = nil, details: [String: String] = [:], at time: Date) -> AuditEvent {
        AuditEvent(time: time, action: action, actor: actor, serial: serial, details: details)
    }
}
