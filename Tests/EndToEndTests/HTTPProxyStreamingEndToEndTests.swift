import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy --mode http: bodies are streamed, never held whole")
    struct HTTPProxyStreaming {
        static let gibibyte = 1 << 30
        /// Peak RSS the proxy may reach while 1 GiB goes through it each way.
        static let peakLimitKiB = 100 * 1024

        @Test(
            "A 1 GiB chunked upload and a 1 GiB chunked download pass through intact (byte count and SHA-256 on both ends), and the proxy's peak RSS (VmHWM) stays under 100 MiB"
        )
        func oneGibibyteEachWay() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let tls = HTTPTools.tls(s.pki.client, ca: s.pki.ca.root)
            let startPeak = s.proxy.peakRSSKiB ?? -1

            // Upload: the client sends 1 GiB chunked; the backend counts and hashes what it received.
            let uploadStarted = Date()
            let upload = try HTTPTools.json(
                try HTTPTools.run(["upload", s.proxy.address, String(Self.gibibyte)] + tls, timeout: 900))
            let uploadSeconds = Date().timeIntervalSince(uploadStarted)
            let afterUpload = s.proxy.peakRSSKiB ?? -1
            #expect(upload["error"] == nil, "\(upload)\n\(s.proxy.logText)")
            #expect((upload["status"] as? NSNumber)?.intValue == 200, "\(upload)")
            #expect((upload["sent"] as? NSNumber)?.intValue == Self.gibibyte, "\(upload)")
            let echo = try #require(Echo(upload["echo"]), "\(upload)")
            #expect(echo.bodyLength == Self.gibibyte, "the backend received \(echo.bodyLength) bytes")
            #expect(echo.bodySHA256 == upload["sha256"] as? String, "the backend's SHA-256 differs: \(upload)")
            #expect(echo.headers.values("transfer-encoding").map { $0.lowercased() } == ["chunked"], "\(echo)")

            // Download: the backend streams 1 GiB chunked; the client counts and hashes it.
            let downloadStarted = Date()
            let download = try HTTPTools.json(
                try HTTPTools.run(["download", s.proxy.address, String(Self.gibibyte)] + tls, timeout: 900))
            let downloadSeconds = Date().timeIntervalSince(downloadStarted)
            let afterDownload = s.proxy.peakRSSKiB ?? -1
            #expect(download["error"] == nil, "\(download)\n\(s.proxy.logText)")
            #expect((download["status"] as? NSNumber)?.intValue == 200, "\(download)")
            #expect((download["received"] as? NSNumber)?.intValue == Self.gibibyte, "\(download)")
            let sent = s.backend.waitForLine { $0.hasPrefix("download ") }
            let backendDigest = sent?.split(separator: " ").first { $0.hasPrefix("sha256=") }.map {
                String($0.dropFirst(7))
            }
            #expect(
                backendDigest != nil && backendDigest == download["sha256"] as? String,
                "\(String(describing: sent)) vs \(download)")

            print(
                "proxy peak RSS (VmHWM): at start \(startPeak / 1024) MiB, after the 1 GiB upload \(afterUpload / 1024) MiB, after the 1 GiB download \(afterDownload / 1024) MiB; upload \(String(format: "%.1f", uploadSeconds)) s, download \(String(format: "%.1f", downloadSeconds)) s (debug build)"
            )
            #expect(afterUpload > 0 && afterUpload < Self.peakLimitKiB, "peak RSS after the upload: \(afterUpload) KiB")
            #expect(
                afterDownload > 0 && afterDownload < Self.peakLimitKiB,
                "peak RSS after the download: \(afterDownload) KiB")

            // The access log counts the body bytes.
            let uploadLine = s.proxy.requestLine { $0["method"] == "POST" }
            #expect(uploadLine?["bytes_in"] == String(Self.gibibyte), "\(String(describing: uploadLine))")
            let downloadLine = s.proxy.requestLine { $0["method"] == "GET" }
            #expect(downloadLine?["bytes_out"] == String(Self.gibibyte), "\(String(describing: downloadLine))")
        }

        @Test(
            "A Content-Length upload of 64 MiB with curl arrives byte for byte (same SHA-256), forwarded with its Content-Length"
        )
        func contentLengthUpload() throws {
            let s = try HTTPProxySetup.start()
            defer { s.stop() }
            let scratch = TemporaryDirectory("symbolon-e2e-http-upload")
            let file = scratch.file("payload.bin")
            let made = try E2E.sh("head -c \(64 << 20) /dev/urandom > \(E2E.quote(file))")
            try #require(made.status == 0, "\(made)")
            let digest = try E2E.sh("openssl dgst -sha256 -r \(E2E.quote(file))").stdout.split(separator: " ").first
                .map(String.init)
            let reply = try s.curl(
                "/upload", ["--data-binary", "@" + file, "-H", "Content-Type: application/octet-stream"])
            #expect(reply.status == 200, "\(reply)\n\(s.proxy.logText)")
            let echo = try #require(reply.echo, "\(reply)")
            #expect(echo.bodyLength == 64 << 20 && echo.bodySHA256 == digest, "\(echo.bodyLength) \(echo.bodySHA256)")
            #expect(echo.headers.values("content-length") == [String(64 << 20)], "\(echo.headers)")
            #expect(!echo.headers.has("transfer-encoding"), "\(echo.headers)")
        }
    }
}
