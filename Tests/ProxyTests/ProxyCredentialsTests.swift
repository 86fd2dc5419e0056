import Foundation
import NetCore
import Policy
import Proxy
import TestSupport
import Testing
import X509

@Suite("proxy credentials: loading, and errors that name the file")
struct ProxyCredentialsTests {
    let directory = TemporaryDirectory("symbolon-proxy-credentials")
    let pki: FixturePKI
    let chainFile: String
    let keyFile: String
    let rootFile: String

    init() throws {
        pki = try FixturePKI(dnsConstraints: ["localhost"])
        let (leaf, key) = try pki.leaf(names: [.dns("localhost")], usages: [.serverAuth])
        chainFile = try directory.write("chain.pem", leaf.pemEncoded + pki.intermediate.pemEncoded)
        keyFile = try directory.write("key.pem", try key.pemEncoded())
        rootFile = try directory.write("root.pem", pki.root.pemEncoded)
    }

    func configuration(
        cert: String? = nil, key: String? = nil, bundle: String? = nil, crls: [String] = [],
        policy: AuthorizationPolicy? = nil, policyFile: String? = nil
    ) throws -> ProxyConfiguration {
        ProxyConfiguration(
            mode: .server, listen: try SocketAddress.parse("127.0.0.1:0"),
            target: try SocketAddress.parse("127.0.0.1:1"), certificateFile: cert ?? chainFile,
            keyFile: key ?? keyFile, bundleFile: bundle ?? rootFile, crlFiles: crls,
            policy: .init(flags: try policy ?? AuthorizationPolicy.fromFlags(allowAll: true), policyFile: policyFile))
    }

    func failure(_ configuration: ProxyConfiguration) -> ProxyError? {
        do {
            _ = try ProxyCredentials(configuration: configuration)
            return nil
        } catch let error as ProxyError {
            return error
        } catch {
            Issue.record("unexpected error type: \(error)")
            return nil
        }
    }

    @Test("valid files load into a context and a policy")
    func loads() throws {
        let credentials = try ProxyCredentials(configuration: try configuration())
        #expect(credentials.policy?.isEmpty == false)
        #expect(credentials.context.configuration.certificateChain.count == 2)
    }

    @Test("a missing certificate file is named")
    func missingCertificate() throws {
        let error = failure(try configuration(cert: directory.file("nope.pem")))
        #expect(error?.file == directory.file("nope.pem"))
        #expect(error?.reason.contains("does not exist") == true)
    }

    @Test("garbage in the key file is named and says what is expected")
    func garbageKey() throws {
        let bad = try directory.write("bad-key.pem", "not a key\n")
        let error = failure(try configuration(key: bad))
        #expect(error?.file == bad)
        #expect(error?.reason.contains("PKCS#8") == true)
    }

    @Test("a key of another certificate is refused, naming the certificate")
    func keyMismatch() throws {
        let other = try directory.write("other-key.pem", try PrivateKey.generate().pemEncoded())
        let error = failure(try configuration(key: other))
        #expect(error?.reason.contains("does not belong") == true)
    }

    @Test("a bundle without a root is refused with what to give instead")
    func bundleWithoutRoot() throws {
        let intermediateOnly = try directory.write("intermediate.pem", pki.intermediate.pemEncoded)
        let error = failure(try configuration(bundle: intermediateOnly))
        #expect(error?.file == intermediateOnly)
        #expect(error?.reason.contains("root") == true)
    }

    @Test("a CRL file that holds no CRL is refused")
    func emptyCRL() throws {
        let empty = try directory.write("empty.crl.pem", "")
        #expect(failure(try configuration(crls: [empty]))?.file == empty)
    }

    @Test("a policy that allows nobody is refused with the flags that would")
    func emptyPolicy() throws {
        let error = failure(try configuration(policy: AuthorizationPolicy(rules: [])))
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.reason.contains("--allow-all") == true)
    }

    @Test("a broken policy file is named with the policy's own reason")
    func brokenPolicyFile() throws {
        let file = try directory.write("policy.json", #"{"rules": [{"spifeId": "spiffe://acme.internal/x"}]}"#)
        let error = failure(try configuration(policy: AuthorizationPolicy(rules: []), policyFile: file))
        #expect(error?.file == file)
        #expect(error?.reason.contains("spifeId") == true)
    }
}
