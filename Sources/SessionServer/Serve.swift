import ArgumentParser
import Auth
import Foundation
import HTTP2Transport
import Logging
import Metrics
import Prometheus
import SessionServerKit

/// `sessiond serve`: runs the server until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve gRPC and REST on one port.",
        discussion: "The first line on standard output says where it listens, e.g. `listening on 127.0.0.1:43817`."
    )

    @Option(name: .customLong("config"), help: "A JSON file of settings named like these flags, e.g. {\"port\": 9000, \"access-log\": true}; a flag wins over the environment, the environment over the file. (env: SESSIOND_CONFIG)")
    var configFile: String?

    @Option(help: "Address to listen on. (env: SESSIOND_HOST; default 127.0.0.1)")
    var host: String?

    @Option(help: "Port for gRPC and REST; 0 picks a free one. (range 0–65535; env: SESSIOND_PORT; default 8080)")
    var port: Int?

    @Option(name: .customLong("data-dir"), help: "Directory for the SQLite database and the local JWT secret. (env: SESSIOND_DATA_DIR; default ./data)")
    var dataDirectory: String?

    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (postgres://user:pass@host:port/db) instead of the embedded SQLite store; needs a build with `--traits PostgreSQL`. (env: SESSIOND_DATABASE_URL)")
    var databaseURL: String?

    @Option(name: .customLong("database-timeout"), help: "Seconds start-up waits for PostgreSQL, retrying and logging every 5 s, before it stops with an error. (range 1–600; env: SESSIOND_DATABASE_TIMEOUT; default 30)")
    var databaseTimeout: Int?

    @Option(name: .customLong("jwt-secret-file"), help: "File holding the HMAC secret for HS256 tokens; surrounding whitespace is trimmed. Without it, SESSIOND_JWT_SECRET, else <data-dir>/jwt-secret (created on first start). (env: SESSIOND_JWT_SECRET_FILE)")
    var jwtSecretFile: String?

    @Option(name: .customLong("jwt-public-keys"), help: "Comma-separated PEM public key files (RSA ≥ 2048 bits for RS256/384/512, EC P-256 for ES256, P-384 for ES384) accepted besides the HMAC secret. (env: SESSIOND_JWT_PUBLIC_KEYS)")
    var jwtPublicKeys: String?

    @Option(name: .customLong("jwks-file"), help: "A JWKS file (RSA, EC and oct keys with kid); re-read within seconds when it changes, so keys rotate without a restart. (env: SESSIOND_JWKS_FILE)")
    var jwksFile: String?

    @Option(name: .customLong("jwt-issuer"), help: "Accept only tokens whose iss is this. (env: SESSIOND_JWT_ISSUER)")
    var jwtIssuer: String?

    @Option(name: .customLong("jwt-audience"), help: "Accept only tokens whose aud is (or contains) this. (env: SESSIOND_JWT_AUDIENCE)")
    var jwtAudience: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; with --tls-key, serve TLS (ALPN h2 and http/1.1). (env: SESSIOND_TLS_CERT)")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert. (env: SESSIOND_TLS_KEY)")
    var tlsKey: String?

    @Option(name: .customLong("max-connections"), help: "Open connections at most; more are refused. (range 1–1000000; env: SESSIOND_MAX_CONNECTIONS; default 10000)")
    var maxConnections: Int?

    @Option(name: .customLong("max-connections-per-client"), help: "Open connections from one client IP address at most; more are refused. (range 1–1000000, at most --max-connections; env: SESSIOND_MAX_CONNECTIONS_PER_CLIENT; default a tenth of --max-connections)")
    var maxConnectionsPerClient: Int?

    @Option(name: .customLong("handshake-timeout"), help: "Seconds a new connection has to finish TLS and send the HTTP/2 preface or its first HTTP/1.1 request head. (range 1–300; env: SESSIOND_HANDSHAKE_TIMEOUT; default 5)")
    var handshakeTimeout: Int?

    @Option(name: .customLong("max-buffered-request-bytes"), help: "Request bytes one HTTP/2 connection may hold for its client (partial and queued messages, decompressed; REST bodies); past it, flow-control credit waits until handlers take them. (range 65536–1073741824; env: SESSIOND_MAX_BUFFERED_REQUEST_BYTES; default 16777216)")
    var maxBufferedRequestBytes: Int?

    @Option(name: .customLong("max-queued-response-bytes"), help: "Response bytes one HTTP/2 connection may have waiting for the client's flow-control windows before new streams are refused (REFUSED_STREAM). (range 65536–1073741824; env: SESSIOND_MAX_QUEUED_RESPONSE_BYTES; default 16777216)")
    var maxQueuedResponseBytes: Int?

    @Option(name: .customLong("max-concurrent-streams"), help: "HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS). (range 1–100000; env: SESSIOND_MAX_CONCURRENT_STREAMS; default 256)")
    var maxConcurrentStreams: Int?

    @Option(name: .customLong("max-message-bytes"), help: "Largest gRPC request message; larger is RESOURCE_EXHAUSTED. (range 1024–268435456; env: SESSIOND_MAX_MESSAGE_BYTES; default 4194304)")
    var maxMessageBytes: Int?

    @Option(name: .customLong("idle-timeout"), help: "Seconds an HTTP/2 connection may sit without streams or traffic before GOAWAY. (range 1–86400; env: SESSIOND_IDLE_TIMEOUT; default 300)")
    var idleTimeout: Int?

    @Option(name: .customLong("keepalive-interval"), help: "Seconds of silence before a keepalive PING; a peer silent 20 s more is dropped. (range 1–86400; env: SESSIOND_KEEPALIVE_INTERVAL; default 120)")
    var keepaliveInterval: Int?

    @Option(name: .customLong("cors-origins"), help: "Comma-separated browser origins allowed to call the REST API (CORS), e.g. https://app.example.com, or * for any; none by default. (env: SESSIOND_CORS_ORIGINS)")
    var corsOrigins: String?

    @Option(help: "Run only the REST gateway, forwarding every call over gRPC to the sessiond at this URL, e.g. http://10.0.0.5:8080. (env: SESSIOND_UPSTREAM)")
    var upstream: String?

    @Option(name: .customLong("log-level"), help: "Least severe log level written: trace, debug, info, notice, warning, error, critical. (env: SESSIOND_LOG_LEVEL; default info)")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text (one readable line per event) or json (one JSON object per line, for log collectors). (env: SESSIOND_LOG_FORMAT; default text)")
    var logFormat: String?

    @Flag(name: .customLong("access-log"), help: "Log every call and request at info: protocol, method or path, status, duration, request ID, peer. (env: SESSIOND_ACCESS_LOG=1)")
    var accessLog = false

    @Option(name: .customLong("rate-limits"), help: "Calls per second and burst per role, e.g. tester=20/40,researcher=200/400,admin=200/400; a role left out is unlimited. (env: SESSIOND_RATE_LIMITS; default as in the example, service unlimited)")
    var rateLimits: String?

    @Option(name: .customLong("job-lease"), help: "Seconds a claimed payout or analysis stays with this instance; after that another instance takes it over. Longer than one delivery or analysis takes. (range 1–3600; env: SESSIOND_JOB_LEASE; default 30)")
    var jobLease: Int?

    /// The lease of claimed jobs (`--job-lease`), 1 s to 1 hour.
    func jobLeaseSeconds() throws -> Int {
        try Self.setting(self.jobLease, "SESSIOND_JOB_LEASE", "job-lease") ?? 30
    }

    /// A numeric setting from its flag or environment variable, checked against its documented
    /// range (`ranges`); nil when neither is given.
    static func setting(_ flag: Int?, _ variable: String, _ name: String) throws -> Int? {
        let range = Self.ranges[name]!
        guard let value = try flag ?? EnvironmentValue.integer(variable, flag: name, range: range) else { return nil }
        guard range.contains(value) else {
            throw ValidationError("--\(name) must be between \(range.lowerBound) and \(range.upperBound), not \(value)")
        }
        return value
    }

    /// Per-role rate limits from `--rate-limits` (or the defaults).
    func rateLimitSettings() throws -> [String: RateLimiter.Limit] {
        guard let text = self.rateLimits ?? EnvironmentValue.string("SESSIOND_RATE_LIMITS") else { return RateLimiter.defaultLimits }
        var limits: [String: RateLimiter.Limit] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=")
            let numbers = parts.count == 2 ? parts[1].split(separator: "/").compactMap { Double($0) } : []
            guard parts.count == 2, numbers.count == 2, Token.roles.contains(String(parts[0])) else {
                throw ValidationError("--rate-limits: '\(entry)' is not ROLE=RATE/BURST with a known role")
            }
            // Finite and bounded: a token bucket converts them to whole calls.
            guard numbers[0].isFinite, numbers[0] > 0, numbers[0] <= Self.maxRate,
                numbers[1].isFinite, numbers[1] >= 1, numbers[1] <= Self.maxRate
            else {
                throw ValidationError(
                    "--rate-limits: '\(entry)': RATE must be above 0 and BURST at least 1, both at most \(Int(Self.maxRate))"
                )
            }
            limits[String(parts[0])] = RateLimiter.Limit(rate: numbers[0], burst: numbers[1])
        }
        return limits
    }

    /// Calls per second (and burst) one role may be given at most.
    static let maxRate = 1_000_000.0

    /// The documented range of every numeric setting (README, "Settings"); a value outside it
    /// stops the server at start, naming the setting and the range.
    static let ranges: [String: ClosedRange<Int>] = [
        "max-connections": 1...1_000_000,
        "max-connections-per-client": 1...1_000_000,
        "handshake-timeout": 1...300,
        "max-buffered-request-bytes": 65_536...1 << 30,
        "max-queued-response-bytes": 65_536...1 << 30,
        "max-concurrent-streams": 1...100_000,
        "max-message-bytes": 1_024...256 << 20,
        "idle-timeout": 1...86_400,
        "keepalive-interval": 1...86_400,
        "job-lease": 1...3_600,
        "database-timeout": 1...600,
    ]

    /// Transport limits from flags and environment, over the transport's safe defaults.
    func transportConfiguration(host: String, port: Int) throws -> TransportConfiguration {
        var transport = TransportConfiguration(host: host, port: port)
        if let value = try Self.setting(self.maxConnections, "SESSIOND_MAX_CONNECTIONS", "max-connections") {
            transport.maxConnections = value
        }
        if let value = try Self.setting(self.maxConnectionsPerClient, "SESSIOND_MAX_CONNECTIONS_PER_CLIENT", "max-connections-per-client") {
            guard value <= transport.maxConnections else {
                throw ValidationError(
                    "--max-connections-per-client must be at most --max-connections (\(transport.maxConnections)), not \(value)"
                )
            }
            transport.maxConnectionsPerClient = value
        }
        if let value = try Self.setting(self.handshakeTimeout, "SESSIOND_HANDSHAKE_TIMEOUT", "handshake-timeout") {
            transport.handshakeTimeout = .seconds(value)
        }
        if let value = try Self.setting(self.maxBufferedRequestBytes, "SESSIOND_MAX_BUFFERED_REQUEST_BYTES", "max-buffered-request-bytes") {
            transport.maxBufferedBytesPerConnection = value
        }
        if let value = try Self.setting(self.maxQueuedResponseBytes, "SESSIOND_MAX_QUEUED_RESPONSE_BYTES", "max-queued-response-bytes") {
            transport.maxQueuedOutputBytesPerConnection = value
        }
        if let value = try Self.setting(self.maxConcurrentStreams, "SESSIOND_MAX_CONCURRENT_STREAMS", "max-concurrent-streams") {
            transport.maxConcurrentStreams = value
        }
        if let value = try Self.setting(self.maxMessageBytes, "SESSIOND_MAX_MESSAGE_BYTES", "max-message-bytes") {
            transport.maxReceiveMessageSize = value
        }
        if let value = try Self.setting(self.idleTimeout, "SESSIOND_IDLE_TIMEOUT", "idle-timeout") {
            transport.idleTimeout = .seconds(value)
        }
        if let value = try Self.setting(self.keepaliveInterval, "SESSIOND_KEEPALIVE_INTERVAL", "keepalive-interval") {
            transport.keepaliveInterval = .seconds(value)
        }
        return transport
    }

    /// Every setting from flags and environment, each checked against its documented range;
    /// nothing is created or opened here.
    func resolvedConfiguration() throws -> ServerConfiguration {
        if let file = self.configFile ?? EnvironmentValue.string("SESSIOND_CONFIG") { try ConfigFile.apply(file) }
        var configuration = ServerConfiguration()
        configuration.host = self.host ?? EnvironmentValue.string("SESSIOND_HOST") ?? "127.0.0.1"
        configuration.port = try self.port ?? EnvironmentValue.integer("SESSIOND_PORT") ?? 8080
        configuration.dataDirectory = self.dataDirectory ?? EnvironmentValue.string("SESSIOND_DATA_DIR") ?? "./data"
        configuration.databaseURL = self.databaseURL ?? EnvironmentValue.string("SESSIOND_DATABASE_URL")
        configuration.jwtSecretFile = self.jwtSecretFile ?? EnvironmentValue.string("SESSIOND_JWT_SECRET_FILE")
        configuration.tlsCertificate = self.tlsCertificate ?? EnvironmentValue.string("SESSIOND_TLS_CERT")
        configuration.tlsKey = self.tlsKey ?? EnvironmentValue.string("SESSIOND_TLS_KEY")
        guard (0...65_535).contains(configuration.port) else {
            throw ValidationError("--port must be between 0 and 65535, not \(configuration.port)")
        }
        guard (configuration.tlsCertificate == nil) == (configuration.tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together")
        }
        if let origins = self.corsOrigins ?? EnvironmentValue.string("SESSIOND_CORS_ORIGINS") {
            configuration.corsOrigins = origins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for origin in configuration.corsOrigins where origin != "*" {
                guard let url = URLComponents(string: origin), url.scheme == "http" || url.scheme == "https", url.host != nil,
                    url.path.isEmpty
                else {
                    throw ValidationError("--cors-origins: '\(origin)' is not an origin such as https://app.example.com")
                }
            }
        }
        if let upstream = self.upstream ?? EnvironmentValue.string("SESSIOND_UPSTREAM") {
            guard let url = URLComponents(string: upstream), url.scheme == "http", let host = url.host, !host.isEmpty,
                let port = url.port, url.path.isEmpty || url.path == "/"
            else {
                throw ValidationError("--upstream must be http://HOST:PORT, not '\(upstream)'")
            }
            configuration.upstream = (host, port)
        }
        configuration.transport = try self.transportConfiguration(host: configuration.host, port: configuration.port)
        configuration.rateLimits = try self.rateLimitSettings()
        configuration.jobLeaseSeconds = try self.jobLeaseSeconds()
        configuration.databaseTimeoutSeconds = try Self.setting(self.databaseTimeout, "SESSIOND_DATABASE_TIMEOUT", "database-timeout") ?? 30
        configuration.jwt = self.jwtSettings()
        return configuration
    }

    /// The JWT verification settings: public key files, JWKS file, issuer and audience.
    func jwtSettings() -> JWTConfiguration {
        let files = (self.jwtPublicKeys ?? EnvironmentValue.string("SESSIOND_JWT_PUBLIC_KEYS") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return JWTConfiguration(
            publicKeyFiles: files,
            jwksFile: self.jwksFile ?? EnvironmentValue.string("SESSIOND_JWKS_FILE"),
            issuer: self.jwtIssuer ?? EnvironmentValue.string("SESSIOND_JWT_ISSUER"),
            audience: self.jwtAudience ?? EnvironmentValue.string("SESSIOND_JWT_AUDIENCE")
        )
    }

    /// Every call is counted and timed (swift-metrics over Prometheus); returns what `/metrics` serves.
    static func exportMetrics() -> @Sendable () -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Calls take microseconds to milliseconds; the library's defaults start at 5 ms.
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2.5), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
        ]
        MetricsSystem.bootstrap(factory)
        return { registry.emitToBuffer() }
    }

    /// Logging from `--log-level` and `--log-format`, checked like every setting.
    func bootstrapLogging() throws -> Bool {
        let levelText = self.logLevel ?? EnvironmentValue.string("SESSIOND_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw ValidationError(
                "--log-level must be trace, debug, info, notice, warning, error or critical, not '\(levelText)'"
            )
        }
        let format = self.logFormat ?? EnvironmentValue.string("SESSIOND_LOG_FORMAT") ?? "text"
        guard format == "text" || format == "json" else {
            throw ValidationError("--log-format must be text or json, not '\(format)'")
        }
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json"
                ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return self.accessLog || EnvironmentValue.string("SESSIOND_ACCESS_LOG") == "1"
    }

    func run() async throws {
        // Every setting is checked before anything is created or opened (the JWT secret, the
        // data directory, the database): a typo stops the server with a message, and no trace.
        var configuration = try self.resolvedConfiguration()
        configuration.transport.accessLog = try self.bootstrapLogging()
        let logger = Logger(label: "sessiond")
        let server = try await Server.start(configuration, logger: logger, metrics: Self.exportMetrics())
        // Watched before the first line, so a SIGTERM sent as soon as it appears stops gracefully.
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM])
        // The documented first line of output: scripts read the port from it.
        FileHandle.standardOutput.write(Data("listening on \(server.localAddress)\n".utf8))
        logger.info(
            "serving gRPC and REST",
            metadata: ["address": "\(server.localAddress)", "event_loops": "\(server.eventLoopCount)"]
        )
        let stopOnSignal = Task {
            let signal = await signals.next()
            logger.info("shutting down", metadata: ["signal": "\(signal)"])
            await server.shutDown()
        }
        defer { stopOnSignal.cancel() }
        try await server.run()
        logger.info("stopped")
    }
}
