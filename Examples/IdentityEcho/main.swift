// An example service that terminates mTLS itself with Symbolon's library: every client must present a
// certificate from the bundle; the service greets it by its verified identity and echoes what it sends.
//
//   swift run symbolon-example-identity-echo 127.0.0.1:9443 server-chain.pem server-key.pem root.pem
//   curl --cacert root.pem --cert client.pem --key client-key.pem -k https://127.0.0.1:9443/   (or openssl s_client)
import Foundation
import MTLS
import NetCore
import TLS
import X509

/// One unbuffered line on standard output.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

let arguments = CommandLine.arguments
guard arguments.count == 5 else {
    FileHandle.standardError.write(
        Data("usage: symbolon-example-identity-echo ADDR CHAIN.pem KEY.pem BUNDLE.pem\n".utf8))
    exit(2)
}
do {
    let chain = try Certificate.load(file: arguments[2])
    let key = try PrivateKey(pemEncoded: String(contentsOfFile: arguments[3], encoding: .utf8))
    let bundle = try Certificate.load(file: arguments[4])
    let server = try MTLSServer(
        configuration: .makeServerConfigurationWithMTLS(certificateChain: chain, privateKey: key, trustBundle: bundle),
        onRefusal: { address, error in say("refused \(address?.description ?? "-"): \(error)") })
    let bound = try server.listen(on: try SocketAddress.parse(arguments[1])) { connection in
        say("admitted \(connection.peer) via \(connection.sessionInfo.protocolVersion)")
        connection.write("hello \(connection.peer)\n")
        connection.onRead = { connection, bytes in connection.write(Array(bytes)) }
    }
    say("listening on \(bound)")
    while true { sleep(3600) }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
