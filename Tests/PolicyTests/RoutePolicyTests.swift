import Foundation
import Policy
import Testing
import X509

@Suite("request paths as routes see them")
struct RequestPathTests {
    @Test("segments, with unreserved escapes decoded and ;parameters dropped")
    func normalised() throws {
        #expect(try RequestPath(target: "/").segments == [""])
        #expect(try RequestPath(target: "/orders?id=7").segments == ["orders"])
        #expect(try RequestPath(target: "/a/b/").segments == ["a", "b", ""])
        #expect(try RequestPath(target: "/%6Frders").segments == ["orders"])
        #expect(try RequestPath(target: "/admin;jsessionid=1/x").segments == ["admin", "x"])
        #expect(try RequestPath(target: "/a%20b").segments == ["a%20b"])
        #expect(try RequestPath(target: "/a%c3%a9").segments == ["a%C3%A9"])
        #expect(try RequestPath(target: "*").isAsterisk)
    }

    @Test(
        "paths backends read differently are refused",
        arguments: [
            "/../admin", "/a/./b", "/a/%2e%2e/b", "/a/%2E/b", "/a%2Fb", "/a%2fb", "/a%5Cb", "/a\\b", "//admin", "/a//b",
            "/a/..;/b", "/a%", "/a%zz", "/a%4", "http://evil/x", "example.com:443", "", "/a#frag",
        ])
    func refused(target: String) {
        #expect(throws: RequestPath.Ambiguous.self, "\(target)") { try RequestPath(target: target) }
    }
}

@Suite("route policy")
struct RoutePolicyTests {
    static let document = """
        {
          "routes": [
            { "name": "orders-read", "methods": ["GET", "HEAD"], "path": "/orders",
              "allow": [ { "spiffeId": "spiffe://acme.internal/ns/shop/*" } ] },
            { "name": "order-items", "path": "/orders/*/items/**", "allow": [ { "spiffeId": "spiffe://acme.internal/ns/shop/*" } ] },
            { "name": "refunds", "methods": ["POST"], "pathPrefix": "/refunds", "host": "api.acme.internal",
              "allow": [ { "name": "finance", "ou": "finance" } ] },
            { "name": "health", "path": "/healthz", "allow": [ { "any": true } ] }
          ]
        }
        """

    let policy = try! RoutePolicy.parse(json: Data(document.utf8))
    let shop = try! Fixtures.svid("spiffe://acme.internal/ns/shop/web")
    let finance = try! Fixtures.leaf(subject: [("OU", "finance"), ("CN", "fin")])

    func decide(_ method: String, _ target: String, host: String? = "api.acme.internal", _ leaf: Certificate?)
        throws -> RoutePolicy.Decision
    {
        policy.evaluate(method: method, host: host, path: try RequestPath(target: target), leaf: leaf)
    }

    @Test("an identity allowed on GET /orders is refused on POST /refunds, with the route and identity in the reason")
    func ordersAndRefunds() throws {
        let allowed = try decide("GET", "/orders?page=2", shop)
        #expect(allowed.isAllowed && allowed.route == "orders-read")
        #expect(allowed.authorization.rule == "spiffe-id spiffe://acme.internal/ns/shop/*")
        let refused = try decide("POST", "/refunds/7", shop)
        #expect(!refused.isAllowed && refused.route == "refunds")
        #expect(
            refused.authorization.reason.contains("route \"refunds\" does not allow spiffe://acme.internal/ns/shop/web")
        )
        #expect(try decide("POST", "/refunds/7", finance).authorization.rule == "finance")
    }

    @Test("methods, hosts (port ignored, case-insensitive) and path shapes decide which route applies")
    func matching() throws {
        #expect(try !decide("POST", "/orders", shop).isAllowed)  // no route for POST /orders
        #expect(try decide("POST", "/orders", shop).route == nil)
        #expect(try decide("POST", "/refunds", host: "API.acme.internal:8443", finance).isAllowed)
        #expect(try !decide("POST", "/refunds", host: "other.example", finance).isAllowed)
        #expect(try !decide("POST", "/refunds", host: nil, finance).isAllowed)
        #expect(try !decide("POST", "/refundsX", finance).isAllowed)  // a prefix is whole segments
        #expect(try decide("GET", "/orders/7/items", shop).isAllowed)  // final /** is zero or more
        #expect(try decide("GET", "/orders/7/items/1/2", shop).isAllowed)
        #expect(try !decide("GET", "/orders/7/8/items", shop).isAllowed)
        #expect(try decide("GET", "/%6Frders", shop).route == "orders-read")  // encoded spelling, same route
        #expect(try decide("GET", "/healthz", finance).isAllowed)
        #expect(try !decide("GET", "/healthz", nil).isAllowed)  // every rule needs a certificate
    }

    @Test(
        "mistakes in the file are errors naming the JSON path",
        arguments: [
            (
                #"{"routes":[{"path":"/a","pathPrefix":"/a","allow":[{"any":true}]}]}"#, "routes[0]",
                PolicyError.Code.conflictingKeys
            ),
            (#"{"routes":[{"path":"/a","allow":[{"any":true}],"method":["GET"]}]}"#, "routes[0].method", .unknownKey),
            (#"{"routes":[{"allow":[{"any":true}]}]}"#, "routes[0]", .missingKey),
            (#"{"routes":[{"path":"/a"}]}"#, "routes[0]", .missingKey),
            (#"{"routes":[{"path":"/a","allow":[]}]}"#, "routes[0].allow", .emptyRule),
            (#"{"routes":[{"path":"a","allow":[{"any":true}]}]}"#, "routes[0].path", .invalidValue),
            (#"{"routes":[{"path":"/a/**/b","allow":[{"any":true}]}]}"#, "routes[0].path", .invalidValue),
            (#"{"routes":[{"pathPrefix":"/a/*","allow":[{"any":true}]}]}"#, "routes[0].pathPrefix", .invalidValue),
            (
                #"{"routes":[{"path":"/a","methods":["get"],"allow":[{"any":true}]}]}"#, "routes[0].methods[0]",
                .invalidValue
            ),
            (#"{"routes":[{"path":"/a","host":"*.*.x","allow":[{"any":true}]}]}"#, "routes[0].host", .invalidValue),
            (
                #"{"routes":[{"path":"/a","allow":[{"spifeId":"spiffe://a/b"}]}]}"#, "routes[0].allow[0].spifeId",
                .unknownKey
            ),
            (#"{"routes":[{"path":"/a","path":"/b","allow":[{"any":true}]}]}"#, "routes[0]", .duplicateKey),
        ])
    func mistakes(json: String, path: String, code: PolicyError.Code) {
        do {
            _ = try RoutePolicy.parse(json: Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch let error as PolicyError {
            #expect(error.code == code, "\(json): \(error)")
            #expect(error.path == path, "\(json): \(error)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
