import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy server: CRLs that cannot be trusted fail closed")
    struct CRLs {
        /// An empty CRL made by `openssl ca -gencrl` with `key` under the name of `issuer`, valid for `seconds`.
        static func openSSLCRL(
            issuer: String, key: String, seconds: Int, in scratch: TemporaryDirectory, as name: String
        ) throws -> String {
            try scratch.write("index.txt", "")
            try scratch.write("crlnumber", "1000\n")
            let config = try scratch.write(
                "crl.cnf",
                """
                [ca]
                default_ca = crl
                [crl]
                database = \(scratch.file("index.txt"))
                crlnumber = \(scratch.file("crlnumber"))
                default_md = sha256

                """)
            let out = scratch.file(name)
            let result = try E2E.openssl([
                "ca", "-gencrl", "-config", config, "-cert", issuer, "-keyfile", key, "-crlsec", String(seconds),
                "-out", out,
            ])
            guard result.status == 0 else { throw SetupError("openssl ca -gencrl failed: \(result)") }
            return out
        }

        struct Setup {
            let pki: ProxyPKI
            let scratch = TemporaryDirectory("symbolon-e2e-proxy-crl")
            let rootCRL: String

            init() throws {
                pki = try ProxyPKI.shared.get()
                rootCRL = try pki.ca.publishCRL(issuer: "root", to: "root-crl-\(UUID().uuidString).pem")
            }

            func serve(intermediateCRL: String, _ extra: [String] = []) throws -> PKIAndProxy {
                let backend = try Backend("echo")
                let proxy = try ProxyUnderTest.server(
                    pki.serverArguments(target: backend.address) + [
                        "--crl", intermediateCRL, "--crl", rootCRL, "--allow-spiffe-id", ProxyPKI.allowedPattern,
                    ] + extra)
                return PKIAndProxy(pki: pki, backend: backend, proxy: proxy)
            }
        }

        @Test("A CRL past its nextUpdate refuses every client (revocationUnknown); --allow-stale-crl accepts it")
        func staleCRL() throws {
            let setup = try Setup()
            let stale = try Self.openSSLCRL(
                issuer: setup.pki.ca.intermediate, key: setup.pki.ca.intermediateKey, seconds: 1, in: setup.scratch,
                as: "stale.crl.pem")
            usleep(2_100_000)
            let strict = try setup.serve(intermediateCRL: stale)
            defer { strict.stop() }
            let refused = try ProxyTools.echo(
                strict.proxy.address, "stale", ProxyTools.tls(setup.pki.client, ca: setup.pki.ca.root))
            #expect(!refused.stdout.contains("echo stale"), "\(refused)")
            let line = strict.proxy.connection()
            #expect(line?.decision == "denied", "\(strict.proxy.logText)")
            #expect(line?.reason.contains("revocationUnknown") == true, "\(strict.proxy.logText)")

            let lenient = try setup.serve(intermediateCRL: stale, ["--allow-stale-crl"])
            defer { lenient.stop() }
            let admitted = try ProxyTools.echo(
                lenient.proxy.address, "stale", ProxyTools.tls(setup.pki.client, ca: setup.pki.ca.root))
            #expect(admitted.stdout.contains("echo stale"), "\(admitted)\n\(lenient.proxy.logText)")
        }

        @Test("A CRL that goes stale while the proxy runs starts refusing clients without any reload")
        func crlGoesStale() throws {
            let setup = try Setup()
            let shortLived = try Self.openSSLCRL(
                issuer: setup.pki.ca.intermediate, key: setup.pki.ca.intermediateKey, seconds: 3, in: setup.scratch,
                as: "short.crl.pem")
            let s = try setup.serve(intermediateCRL: shortLived)
            defer { s.stop() }
            let tls = ProxyTools.tls(setup.pki.client, ca: setup.pki.ca.root)
            let before = try ProxyTools.echo(s.proxy.address, "fresh", tls)
            #expect(before.stdout.contains("echo fresh"), "\(before)\n\(s.proxy.logText)")
            usleep(3_500_000)
            let after = try ProxyTools.echo(s.proxy.address, "stale", tls)
            #expect(!after.stdout.contains("echo stale"), "\(after)")
            #expect(s.proxy.connectionLines.last?.reason.contains("revocationUnknown") == true, "\(s.proxy.logText)")
        }

        @Test(
            "An empty CRL signed by an impostor key under the intermediate's name does not unrevoke anyone: every client is refused (badSignature)"
        )
        func forgedCRL() throws {
            let setup = try Setup()
            let impostorKey = setup.scratch.file("impostor-key.pem")
            let impostor = setup.scratch.file("impostor.pem")
            let subject = try E2E.openssl([
                "x509", "-in", setup.pki.ca.intermediate, "-noout", "-subject", "-nameopt", "compat",
            ])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "subject=", with: "")
            for step in [
                ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", impostorKey],
                ["req", "-x509", "-new", "-key", impostorKey, "-subj", subject, "-days", "2", "-out", impostor],
            ] {
                let result = try E2E.openssl(step)
                try #require(result.status == 0, "\(result)")
            }
            let forged = try Self.openSSLCRL(
                issuer: impostor, key: impostorKey, seconds: 86_400, in: setup.scratch, as: "forged.crl.pem")
            let s = try setup.serve(intermediateCRL: forged)
            defer { s.stop() }
            let result = try ProxyTools.echo(
                s.proxy.address, "forged", ProxyTools.tls(setup.pki.client, ca: setup.pki.ca.root))
            #expect(!result.stdout.contains("echo forged"), "\(result)")
            let line = s.proxy.connection()
            #expect(line?.decision == "denied", "\(s.proxy.logText)")
            #expect(line?.reason.contains("badSignature") == true, "\(s.proxy.logText)")
        }
    }
}
