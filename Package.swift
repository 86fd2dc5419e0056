// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Symbolon",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "symbolon", targets: ["symbolon"]),
        .library(name: "X509", targets: ["X509"]),
        .library(name: "PrivateCA", targets: ["PrivateCA"]),
        .library(name: "TLS", targets: ["TLS"]),
        .library(name: "Policy", targets: ["Policy"]),
        .library(name: "NetCore", targets: ["NetCore"]),
        .library(name: "MTLS", targets: ["MTLS"]),
        .library(name: "Proxy", targets: ["Proxy"]),
        .library(name: "HTTPService", targets: ["HTTPService"]),
    ],
    targets: [
        // C libraries from Debian packages, behind the wall.
        .systemLibrary(
            name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CGnuTLS", pkgConfig: "gnutls", providers: [.apt(["libgnutls28-dev"])]),
        .systemLibrary(
            name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The only C: one-line wrappers for macros the importer cannot see.
        .target(name: "CShims", dependencies: ["COpenSSL"]),

        .target(name: "X509", dependencies: ["COpenSSL", "CShims"]),
        .target(name: "PrivateCA", dependencies: ["X509", "CSQLite"]),
        .target(name: "TLS", dependencies: ["X509", "CGnuTLS"]),
        .target(name: "Policy", dependencies: ["X509"]),
        .target(name: "HTTP1"),
        .target(name: "MTLS", dependencies: ["NetCore", "TLS", "X509"]),
        .target(name: "Proxy", dependencies: ["HTTP1", "MTLS", "NetCore", "TLS", "Policy", "X509"]),
        .target(name: "HTTPService", dependencies: ["HTTP1", "MTLS", "NetCore", "TLS", "X509"]),
        .target(name: "CLIKit"),
        .target(name: "NetCore", dependencies: ["CShims"]),
        .executableTarget(
            name: "symbolon", dependencies: ["X509", "PrivateCA", "CLIKit", "NetCore", "TLS", "Policy", "Proxy", "HTTP1"]),
        // The bench measures OpenSSL directly (raw sign rate, prototypes of proposed changes): measurement only.
        .executableTarget(
            name: "symbolon-bench", dependencies: ["X509", "PrivateCA", "COpenSSL"], path: "bench/Sources/symbolon-bench"),
        // The library in use: a service that terminates mTLS itself.
        .executableTarget(
            name: "symbolon-example-identity-echo", dependencies: ["MTLS", "NetCore", "TLS", "X509"],
            path: "Examples/IdentityEcho"),
        // The mTLS load generator for bench/proxy.sh (Symbolon's proxy against nginx).
        .executableTarget(
            name: "symbolon-loadgen", dependencies: ["TLS", "X509"], path: "bench/Sources/symbolon-loadgen"),
        .target(name: "TestSupport", dependencies: ["X509", "PrivateCA"]),

        .testTarget(name: "X509Tests", dependencies: ["X509", "TestSupport"]),
        .testTarget(name: "PrivateCATests", dependencies: ["PrivateCA", "X509", "TestSupport"]),
        .testTarget(name: "TLSTests", dependencies: ["TLS", "X509", "TestSupport"]),
        .testTarget(name: "PolicyTests", dependencies: ["Policy", "X509", "TestSupport"]),
        .testTarget(name: "MTLSTests", dependencies: ["MTLS", "NetCore", "TLS", "X509", "TestSupport"]),
        .testTarget(name: "ProxyTests", dependencies: ["Proxy", "HTTP1", "NetCore", "Policy", "TLS", "X509", "TestSupport"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(
            name: "HTTPServiceTests",
            dependencies: ["HTTPService", "HTTP1", "MTLS", "NetCore", "TLS", "X509", "TestSupport"]),
        .testTarget(name: "CLIKitTests", dependencies: ["CLIKit"]),
        .testTarget(name: "NetCoreTests", dependencies: ["NetCore"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
