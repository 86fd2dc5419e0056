import Foundation
import TestSupport
import Testing

extension ProxyEndToEndTests {
    @Suite("proxy --mode http: per-route policy (--routes), its access log, its file errors and reloads")
    struct HTTPProxyRoutes {
        static let financeID = "spiffe://acme.internal/ns/finance/clerk"

        static let routes = """
            {
              "routes": [
                { "name": "orders-read", "methods": ["GET", "HEAD"], "path": "/orders",
                  "allow": [ { "spiffeId": "spiffe://acme.internal/ns/payments/*" } ] },
                { "name": "orders-item", "methods": ["GET"], "path": "/orders/*",
                  "allow": [ { "spiffeId": "spiffe://acme.internal/ns/payments/*" } ] },
                { "name": "refunds", "methods": ["POST"], "pathPrefix": "/refunds",
                  "allow": [ { "name": "finance", "spiffeId": "spiffe://acme.internal/ns/finance/*" } ] },
                { "name": "admin-api", "host": "api.acme.internal", "pathPrefix": "/admin",
                  "allow": [ { "spiffeId": "spiffe://acme.internal/ns/payments/api" } ] },
                { "name": "wild", "host": "*.acme.internal", "path": "/wild", "allow": [ { "any": true } ] },
                { "name": "files", "path": "/files/**", "allow": [ { "any": true } ] },
                { "name": "health", "path": "/healthz", "allow": [ { "any": true } ] }
              ]
            }
            """

        /// A proxy with `routes` (a file in a scratch directory) admitting payments/* and finance/* at the
        /// connection level, and a finance client.
        static func start(
            _ routes: String = routes, _ extra: [String] = []
        ) throws -> (HTTPProxySetup, finance: IssuedLeaf, file: String, TemporaryDirectory) {
            let pki = try ProxyPKI.shared.get()
            let finance = try pki.issueClient("http-finance-\(UUID().uuidString)", spiffeID: financeID)
            let scratch = TemporaryDirectory("symbolon-e2e-http-routes")
            let file = try scratch.write("routes.json", routes)
            let s = try HTTPProxySetup.start(
                ["--routes", file] + extra,
                allow: [
                    "--allow-spiffe-id", ProxyPKI.allowedPattern, "--allow-spiffe-id",
                    "spiffe://acme.internal/ns/finance/*",
                ])
            return (s, finance, file, scratch)
        }

        /// Sends `method path` with curl as `who` (and extra curl options); returns the reply and whether the
        /// backend saw it (by its target, waiting a bounded time only when it is expected).
        static func call(
            _ s: HTTPProxySetup, _ method: String, _ path: String, as who: IssuedLeaf, _ extra: [String] = []
        ) throws -> CurlReply {
            try s.curl(path, as: who, ["-X", method] + (method == "HEAD" ? ["-I"] : []) + extra)
        }

        @Test(
            "A client allowed on GET /orders is refused with 403 on POST /refunds, the body giving the reason; both requests are in the access log (decision, identity, method, path, route, rule, status) and only the allowed one reaches the backend"
        )
        func allowedAndDenied() throws {
            let (s, _, _, scratch) = try Self.start()
            defer { withExtendedLifetime(scratch) { s.stop() } }
            let allowed = try Self.call(s, "GET", "/orders", as: s.pki.client)
            #expect(allowed.status == 200 && allowed.echo?.target == "/orders", "\(allowed)\n\(s.proxy.logText)")
            let ok = try #require(s.proxy.requestLine { $0["path"] == "/orders" }, "\(s.proxy.logText)")
            #expect(ok.decision == "allowed", "\(ok)")
            #expect(ok["status"] == "200", "\(ok)")
            #expect(ok.identity == ProxyPKI.clientID, "\(ok)")
            #expect(ok["method"] == "GET", "\(ok)")
            #expect(ok["route"] == "orders-read", "\(ok)")
            #expect(ok["peer"]?.hasPrefix("127.0.0.1:") == true, "\(ok)")

            let denied = try Self.call(s, "POST", "/refunds", as: s.pki.client, ["--data", "amount=7"])
            #expect(denied.status == 403, "\(denied)")
            #expect(
                denied.body.contains("route \"refunds\" does not allow \(ProxyPKI.clientID)"),
                "the 403 body gives the reason: \(denied)")
            let no = try #require(s.proxy.requestLine { $0["path"] == "/refunds" }, "\(s.proxy.logText)")
            #expect(no.decision == "denied", "\(no)")
            #expect(no["status"] == "403", "\(no)")
            #expect(no.identity == ProxyPKI.clientID, "\(no)")
            #expect(no["method"] == "POST", "\(no)")
            #expect(no["route"] == "refunds", "\(no)")
            #expect(no.reason.contains("does not allow"), "\(no)")
            #expect(
                s.backend.requestLines.count == 1 && s.backend.requestLines[0].contains("target=/orders "),
                "only GET /orders reaches the backend: \(s.backend.requestLines)")
        }

        @Test(
            "The access log names the rule that allowed: its conditions for an unnamed rule (as in docs/http.md), its name for a named one"
        )
        func ruleInLog() throws {
            let (s, finance, _, scratch) = try Self.start()
            defer { withExtendedLifetime(scratch) { s.stop() } }
            _ = try Self.call(s, "GET", "/orders", as: s.pki.client)
            let unnamed = s.proxy.requestLine { $0["path"] == "/orders" }
            #expect(unnamed?["rule"] == "spiffe-id spiffe://acme.internal/ns/payments/*", "\(s.proxy.logText)")
            _ = try Self.call(s, "POST", "/refunds", as: finance, ["--data", "x"])
            let named = s.proxy.requestLine { $0["path"] == "/refunds" }
            #expect(named?["rule"] == "finance", "\(s.proxy.logText)")
        }

        @Test(
            "Methods, exact paths, '*' and '/**' patterns, whole-segment pathPrefix (/refunds and /refunds/7, not /refundsX), the query string ignored; the first matching route decides, no route means 403"
        )
        func matching() throws {
            let (s, finance, _, scratch) = try Self.start()
            defer { withExtendedLifetime(scratch) { s.stop() } }
            let cases: [(String, String, IssuedLeaf, Int, String?)] = [
                ("GET", "/orders?id=7", s.pki.client, 200, "orders-read"),
                ("HEAD", "/orders", s.pki.client, 200, "orders-read"),
                ("DELETE", "/orders", s.pki.client, 403, nil),
                ("GET", "/orders/7", s.pki.client, 200, "orders-item"),
                ("GET", "/orders/7/lines", s.pki.client, 403, nil),
                ("GET", "/orders", finance, 403, "orders-read"),
                ("POST", "/refunds", finance, 200, "refunds"),
                ("POST", "/refunds/7", finance, 200, "refunds"),
                ("POST", "/refunds/7/items?x=1", finance, 200, "refunds"),
                ("POST", "/refundsX", finance, 403, nil),
                ("POST", "/refunds-old", finance, 403, nil),
                ("GET", "/refunds/7", finance, 403, nil),
                ("GET", "/files", finance, 200, "files"),
                ("GET", "/files/a/b/c", finance, 200, "files"),
                ("GET", "/filesystem", finance, 403, nil),
                ("GET", "/healthz", s.pki.client, 200, "health"),
                ("GET", "/", s.pki.client, 403, nil),
            ]
            for (method, path, who, status, route) in cases {
                let mark = s.proxy.log.count
                let reply = try Self.call(s, method, path, as: who, method == "POST" ? ["--data", "x"] : [])
                #expect(reply.status == status, "\(method) \(path): \(reply)")
                let line = s.proxy.requestLine(from: mark)
                #expect(line?["status"] == String(status), "\(method) \(path): \(String(describing: line))")
                #expect(
                    line?.decision == (status == 200 ? "allowed" : "denied"),
                    "\(method) \(path): \(String(describing: line))")
                if let route {
                    #expect(line?["route"] == route, "\(method) \(path): \(String(describing: line))")
                }
            }
            let reached = s.backend.requestLines.count
            #expect(reached == cases.filter { $0.3 == 200 }.count, "\(s.backend.requestLines)")
        }

        @Test(
            "host: the Host header without its port, case-insensitively; '*.acme.internal' matches exactly one label")
        func hostMatching() throws {
            let (s, _, _, scratch) = try Self.start()
            defer { withExtendedLifetime(scratch) { s.stop() } }
            let cases: [(String, String, Int)] = [
                ("/admin/users", "api.acme.internal", 200),
                ("/admin/users", "api.acme.internal:8443", 200),
                ("/admin/users", "API.Acme.INTERNAL", 200),
                ("/admin/users", "other.acme.internal", 403),
                ("/admin/users", "api.acme.internal.evil.example", 403),
                ("/admin", "localhost", 403),
                ("/wild", "a.acme.internal", 200),
                ("/wild", "b.acme.internal:443", 200),
                ("/wild", "a.b.acme.internal", 403),
                ("/wild", "acme.internal", 403),
            ]
            for (path, host, status) in cases {
                let reply = try Self.call(s, "GET", path, as: s.pki.client, ["-H", "Host: " + host])
                #expect(reply.status == status, "GET \(path) Host: \(host): \(reply)")
                if status == 200 { #expect(reply.echo?.headers.value("host") == host, "\(reply)") }
            }
        }

        @Test(
            "Percent-encoded unreserved characters and ;parameters cannot bypass a route: /%73ecret and /secret;x=1 are /secret; encoded dots and slashes are 400; the backend gets the target as sent"
        )
        func encodedBypass() throws {
            let routes = """
                {"routes": [
                  {"name": "secret", "path": "/secret", "allow": [{"name": "finance", "spiffeId": "spiffe://acme.internal/ns/finance/*"}]},
                  {"name": "orders", "path": "/orders", "allow": [{"spiffeId": "spiffe://acme.internal/ns/payments/*"}]},
                  {"name": "catch-all", "pathPrefix": "/", "allow": [{"spiffeId": "spiffe://acme.internal/ns/payments/*"}]}
                ]}
                """
            let (s, finance, _, scratch) = try Self.start(routes)
            defer { withExtendedLifetime(scratch) { s.stop() } }
            let cases: [(String, IssuedLeaf, Int, String?)] = [
                ("/secret", s.pki.client, 403, "secret"),
                ("/%73ecret", s.pki.client, 403, "secret"),
                ("/%73%65%63%72%65%74", s.pki.client, 403, "secret"),
                ("/secret;x=1", s.pki.client, 403, "secret"),
                ("/%73ecret;jsessionid=abc?q=1", s.pki.client, 403, "secret"),
                ("/%6frders", s.pki.client, 200, "orders"),
                ("/%6Frders?id=7", s.pki.client, 200, "orders"),
                ("/public/x", s.pki.client, 200, "catch-all"),
                ("/public/%2e%2e/secret", s.pki.client, 400, nil),
                ("/public/..%2Fsecret", s.pki.client, 400, nil),
                ("/public%2fsecret", s.pki.client, 400, nil),
                ("/%73ecret", finance, 200, "secret"),
            ]
            for (path, who, status, route) in cases {
                let mark = s.proxy.log.count
                let backendMark = s.backend.lines.count
                // --path-as-is: curl must send the target exactly as written.
                let reply = try Self.call(s, "GET", path, as: who, ["--path-as-is"])
                #expect(reply.status == status, "GET \(path): \(reply)")
                let line = s.proxy.requestLine(from: mark)
                if let route { #expect(line?["route"] == route, "GET \(path): \(String(describing: line))") }
                if status == 200 {
                    #expect(reply.echo?.target == path, "the backend gets the target as sent: \(reply)")
                } else {
                    #expect(
                        !s.backend.lines.dropFirst(backendMark).contains { $0.hasPrefix("request ") },
                        "GET \(path) must not reach the backend: \(s.backend.lines.dropFirst(backendMark))")
                }
            }
        }

        struct FileError: Sendable, CustomTestStringConvertible {
            let name: String
            let json: String
            /// What the message must name: the JSON path and the culprit.
            let fragments: [String]
            var testDescription: String { name }
        }

        static let brokenFiles: [FileError] = [
            FileError(
                name: "an unknown key",
                json: #"{"routes": [{"name": "r", "pathprefix": "/a", "allow": [{"any": true}]}]}"#,
                fragments: ["routes[0]", "pathprefix"]),
            FileError(
                name: "both path and pathPrefix",
                json: #"{"routes": [{"name": "r", "path": "/a", "pathPrefix": "/b", "allow": [{"any": true}]}]}"#,
                fragments: ["routes[0]", "path", "pathPrefix"]),
            FileError(
                name: "neither path nor pathPrefix",
                json:
                    #"{"routes": [{"name": "r", "allow": [{"any": true}]}, {"name": "s", "methods": ["GET"], "allow": [{"any": true}]}]}"#,
                fragments: ["routes[0]"]),
            FileError(
                name: "an unknown key in an allow rule",
                json:
                    #"{"routes": [{"name": "r", "path": "/a", "allow": [{"spiffeID": "spiffe://acme.internal/x"}]}]}"#,
                fragments: ["routes[0].allow[0]", "spiffeID"]),
            FileError(name: "not JSON", json: #"{"routes": [ {"name": "r", }"#, fragments: ["JSON"]),
        ]

        @Test(
            "A routes file with a mistake stops the proxy before it listens, non-zero exit, the message naming the file and the JSON path",
            arguments: brokenFiles)
        func fileErrors(_ error: FileError) throws {
            let pki = try ProxyPKI.shared.get()
            let scratch = TemporaryDirectory("symbolon-e2e-http-routes-error")
            let file = try scratch.write("bad-routes.json", error.json)
            let result = try ProcessRunner.run(
                ProcessRunner.symbolonPath,
                ["proxy", "server"] + pki.serverArguments(target: "127.0.0.1:9") + [
                    "--mode", "http", "--allow-all", "--routes", file,
                ], timeout: 10)
            #expect(result.status != 0 && result.status != -9, "\(result)")
            #expect(!result.output.contains("listening"), "\(result)")
            #expect(result.stderr.contains("bad-routes.json"), "\(result)")
            for fragment in error.fragments {
                #expect(result.stderr.contains(fragment), "expected \"\(fragment)\" in: \(result.stderr)")
            }
        }

        @Test(
            "A changed routes file is reloaded (the file watch): a route added takes effect; a broken file is logged and the previous routes stay"
        )
        func reload() throws {
            let only = #"{"routes": [{"name": "orders-read", "path": "/orders", "allow": [{"any": true}]}]}"#
            let (s, _, file, scratch) = try Self.start(only, ["--watch-interval", "1s"])
            defer { withExtendedLifetime(scratch) { s.stop() } }
            #expect(try Self.call(s, "GET", "/refunds", as: s.pki.client).status == 403)
            var mark = s.proxy.log.count
            try replaceFile(
                file,
                with:
                    #"{"routes": [{"name": "orders-read", "path": "/orders", "allow": [{"any": true}]}, {"name": "refunds", "path": "/refunds", "allow": [{"any": true}]}]}"#
            )
            #expect(s.proxy.event("reloaded", from: mark) != nil, "\(s.proxy.logText)")
            let after = try Self.call(s, "GET", "/refunds", as: s.pki.client)
            #expect(after.status == 200, "\(after)\n\(s.proxy.logText)")
            mark = s.proxy.log.count
            try replaceFile(file, with: #"{"routes": [{"name": "x", "pathprefix": "/"}]}"#)
            let failed = s.proxy.event("reload-failed", from: mark)
            #expect(failed?.contains("routes.json") == true, "\(s.proxy.logText)")
            let kept = try Self.call(s, "GET", "/refunds", as: s.pki.client)
            #expect(kept.status == 200, "the previous routes stay: \(kept)")
            #expect(try Self.call(s, "GET", "/admin", as: s.pki.client).status == 403)
        }

        @Test(
            "A routes reload applies from the next request on a connection that is already open (same client connection, before and after)"
        )
        func reloadOnOpenConnection() throws {
            let only = #"{"routes": [{"name": "orders-read", "path": "/orders", "allow": [{"any": true}]}]}"#
            let (s, _, file, scratch) = try Self.start(only, ["--watch-interval", "1s"])
            defer { withExtendedLifetime(scratch) { s.stop() } }
            let session = try HTTPSession(address: s.proxy.address, as: s.pki.client, ca: s.pki.ca.root)
            defer { session.stop() }
            let before = try session.request("GET", "/orders")
            #expect(before.status == 200, "\(before)")
            #expect(try Self.call(s, "GET", "/refunds", as: s.pki.client).status == 403)
            let mark = s.proxy.log.count
            try replaceFile(
                file,
                with:
                    #"{"routes": [{"name": "orders-read", "path": "/orders", "allow": [{"any": true}]}, {"name": "refunds", "path": "/refunds", "allow": [{"any": true}]}]}"#
            )
            #expect(s.proxy.event("reloaded", from: mark) != nil, "\(s.proxy.logText)")
            let after = try session.request("GET", "/refunds")
            #expect(after.status == 200, "\(after)\n\(s.proxy.logText)")
            #expect(after.localPort == before.localPort, "the same client connection: \(before) \(after)")
        }

        @Test(
            "--log-format json: a request is an object with event \"request\" and the keys of the text line; bytes_in counts the request body"
        )
        func jsonAccessLog() throws {
            let (s, _, _, scratch) = try Self.start(Self.routes, ["--log-format", "json"])
            defer { withExtendedLifetime(scratch) { s.stop() } }
            _ = try Self.call(s, "GET", "/orders", as: s.pki.client)
            _ = try Self.call(s, "POST", "/refunds", as: s.pki.client, ["--data-binary", "12345"])
            _ = s.proxy.run.waitForLine(.stderr) { $0.contains("\"denied\"") && $0.contains("\"request\"") }
            var requests: [[String: Any]] = []
            for line in s.proxy.log {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                let parsed = try #require(object, "not a JSON object: \(line)")
                if parsed["event"] as? String == "request" { requests.append(parsed) }
            }
            try #require(requests.count == 2, "\(s.proxy.logText)")
            let keys: Set<String> = [
                "time", "event", "peer", "identity", "method", "path", "status", "bytes_in", "bytes_out",
                "duration_ms", "decision", "route", "rule", "reason",
            ]
            for request in requests {
                #expect(keys.isSubset(of: Set(request.keys)), "missing \(keys.subtracting(request.keys)): \(request)")
            }
            #expect(requests[0]["decision"] as? String == "allowed" && requests[0]["route"] as? String == "orders-read")
            #expect((requests[0]["status"] as? NSNumber)?.intValue == 200, "\(requests[0])")
            #expect(requests[1]["decision"] as? String == "denied", "\(requests[1])")
            #expect((requests[1]["status"] as? NSNumber)?.intValue == 403, "\(requests[1])")
            #expect(requests[1]["identity"] as? String == ProxyPKI.clientID, "\(requests[1])")
        }
    }
}
