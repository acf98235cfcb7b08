import Auth
import Foundation
import HTTP2Transport

/// Everything a server needs, resolved once: `sessiond serve` builds it from flags and the
/// environment and checks every value before anything starts; tests build it directly.
package struct ServerConfiguration: Sendable {
    package var host = "127.0.0.1"
    /// 0 picks a free port (`Server.localAddress` tells which).
    package var port = 8080
    package var dataDirectory = "./data"
    /// PostgreSQL instead of the embedded SQLite store (needs the `PostgreSQL` trait).
    package var databaseURL: String?
    /// How long start-up waits for PostgreSQL (retrying, with a log line every 5 s) before it gives up.
    package var databaseTimeoutSeconds = 30
    /// The HMAC secret's file; without it `SESSIOND_JWT_SECRET` in `environment`, else
    /// `<dataDirectory>/jwt-secret` (created on first start).
    package var jwtSecretFile: String?
    package var jwt = JWTConfiguration()
    package var tlsCertificate: String?
    package var tlsKey: String?
    /// Browser origins allowed by CORS (`*` for any); empty: CORS off.
    package var corsOrigins: [String] = []
    /// `host:port` of a remote sessiond: serve only the REST gateway and forward to it.
    package var upstream: (host: String, port: Int)?
    /// Connection, stream and message limits (its host and port are set from the two above).
    package var transport = TransportConfiguration(host: "127.0.0.1", port: 8080)
    /// Calls per second and burst per role; a role left out is unlimited.
    package var rateLimits = RateLimiter.defaultLimits
    /// Seconds a claimed payout or analysis stays with this instance.
    package var jobLeaseSeconds = 30
    package var eventLoops = UsableCores.count
    /// Where `SESSIOND_JWT_SECRET` is looked up.
    package var environment: [String: String] = ProcessInfo.processInfo.environment

    package init() {}
}
