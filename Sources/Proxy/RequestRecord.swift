/// What one proxied HTTP request did, for its access-log line.
public struct RequestRecord: Sendable {
    public enum Decision: String, Sendable {
        /// Forwarded (whatever the backend answered).
        case allowed
        /// Refused by the route policy (403).
        case denied
        /// Refused by the parser (400, 413, 414, 431, 505).
        case rejected
        /// The backend could not be reached or answered badly (502).
        case failed
    }

    public var peer: String
    public var identity: String
    public var method = "-"
    public var path = "-"
    public var status = 0
    public var bytesIn = 0
    public var bytesOut = 0
    public var durationMilliseconds = 0.0
    public var decision: Decision = .allowed
    public var route = "-"
    public var rule = "-"
    public var reason = "-"

    public init(peer: String, identity: String) {
        self.peer = peer
        self.identity = identity
    }
}
