import Auth
import BrowserRPC
import Foundation
import HTTP2Transport
import HTTPMessages
import Logging
import NIOCore
import NIOPosix
import RESTGateway
import RPCCore
import SessionAPI
import SessionCore
import SessionRPC
import ServiceLifecycle
#if PostgreSQL
import SessionStorePostgres
#endif
import SessionStoreSQLite
import StandardServices

/// The whole sessiond, assembled from a `ServerConfiguration`: the store, the RPC router with
/// its interceptors, the REST gateway, reflection and health, the listener, and the workers
/// (analysis, payouts, idempotency pruning, cross-instance events, JWKS reloads) in one
/// `ServiceGroup`.
///
/// `start` returns once the listener is bound (so `localAddress` is known) and nothing runs
/// yet but the listener; `run()` runs everything until `shutDown()`, which stops the listener
/// first (health NOT_SERVING, in-flight calls drained for up to 10 s), then the workers in the
/// reverse of their start order, then the event loops.
package final class Server: Sendable {
    /// `host:port` the listener is bound to.
    package let localAddress: String
    package let eventLoopCount: Int
    private let services: ServiceGroup
    private let eventLoops: MultiThreadedEventLoopGroup
    /// Held until the end: the data directory stays claimed while the server runs.
    private let dataDirectory: DataDirectory?
    /// Stops the store's connection pool (PostgreSQL) once every service has stopped.
    private let closeStore: @Sendable () -> Void

    private init(
        localAddress: String,
        eventLoopCount: Int,
        services: ServiceGroup,
        eventLoops: MultiThreadedEventLoopGroup,
        dataDirectory: DataDirectory?,
        closeStore: @escaping @Sendable () -> Void
    ) {
        self.localAddress = localAddress
        self.eventLoopCount = eventLoopCount
        self.services = services
        self.eventLoops = eventLoops
        self.dataDirectory = dataDirectory
        self.closeStore = closeStore
    }

    /// Builds every part and binds the listener. Fails with a `StartupFailure` naming what the
    /// operator can fix; a JWT secret this start created is removed again when it fails.
    package static func start(
        _ configuration: ServerConfiguration,
        logger: Logger,
        metrics: @escaping @Sendable () -> [UInt8] = { [] }
    ) async throws -> Server {
        #if !PostgreSQL
        // A configuration this build cannot serve stops before anything is created.
        if configuration.databaseURL != nil { throw Self.noPostgreSQL }
        #endif
        let eventLoops = MultiThreadedEventLoopGroup(numberOfThreads: configuration.eventLoops)
        do {
            return try await Self.assemble(configuration, logger: logger, metrics: metrics, eventLoops: eventLoops)
        } catch {
            try? await eventLoops.shutdownGracefully()
            throw error
        }
    }

    private static func assemble(
        _ configuration: ServerConfiguration,
        logger: Logger,
        metrics: @escaping @Sendable () -> [UInt8],
        eventLoops: MultiThreadedEventLoopGroup
    ) async throws -> Server {
        var transport = configuration.transport
        transport.host = configuration.host
        transport.port = configuration.port
        let health = HealthService()
        var router = RPCRouter(routes: health.routes)
        let channel: any RPCChannel
        var authenticator: AuthInterceptor?
        var workers: [(name: String, run: @Sendable () async -> Void)] = []
        var dataDirectory: DataDirectory?
        var closeStore: @Sendable () -> Void = {}
        // A JWT secret this start created is removed again if start-up then fails, so a failed
        // start leaves no credentials behind.
        var createdSecret: String?
        var listening = false
        defer {
            if !listening, let createdSecret { try? FileManager.default.removeItem(atPath: createdSecret) }
        }

        if let upstream = configuration.upstream {
            // Gateway only: the upstream checks tokens and owns the data. With the secret at hand
            // (a secret file or SESSIOND_JWT_SECRET), a malformed body from a caller without
            // valid credentials is still answered 401 first, as in process.
            channel = GRPCChannel(host: upstream.host, port: upstream.port, group: eventLoops)
            if configuration.jwtSecretFile != nil || configuration.environment["SESSIOND_JWT_SECRET"]?.isEmpty == false {
                let secret = try JWTSecret.load(
                    file: configuration.jwtSecretFile,
                    environment: configuration.environment,
                    dataDirectory: configuration.dataDirectory,
                    createIfMissing: false
                )
                authenticator = AuthInterceptor(verifier: try configuration.jwt.verifier(secret: secret.secret).verifier)
            }
            logger.info("forwarding REST to the upstream sessiond", metadata: ["upstream": "\(upstream.host):\(upstream.port)"])
        } else {
            // One server per data directory, claimed before anything in it is created or opened.
            dataDirectory = try DataDirectory.claim(configuration.dataDirectory)
            let secret = try JWTSecret.load(
                file: configuration.jwtSecretFile,
                environment: configuration.environment,
                dataDirectory: configuration.dataDirectory,
                createIfMissing: true
            )
            if case .created(let path) = secret.source { createdSecret = path }

            let store = try await Self.openStore(configuration, logger: logger)
            let clock = SystemWallClock()
            let sessions = SessionService(store: store, clock: clock)
            let provider = SessionRPCProvider(service: sessions, store: store, clock: clock)
            let (verifier, ring) = try configuration.jwt.verifier(secret: secret.secret)
            let tokenCache = VerifiedTokenCache()
            let auth = AuthInterceptor(
                verifier: verifier,
                rateLimiter: RateLimiter(limits: configuration.rateLimits),
                cache: tokenCache
            )
            // The owner of this process's job leases; a restart is a new owner.
            let instanceID = IDGenerator.instanceID()
            let policy = RetryPolicy(leaseDuration: TimeInterval(configuration.jobLeaseSeconds))
            let journal = try PayoutJournal(
                path: URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("payout-ledger.jsonl").path,
                logger: logger)
            // The ledger's records name the data directory, which outlives the process: at start
            // the ledger file catches up with the records a killed predecessor had not copied yet
            // (at most the few it was delivering when it died, so the newest thousand suffice).
            let node = "\(ProcessInfo.processInfo.hostName):\(URL(fileURLWithPath: configuration.dataDirectory).standardizedFileURL.path)"
            let caughtUp = try await journal.catchUp(with: store.payoutDeliveries(recordedBy: node, limit: 1000).reversed())
            if caughtUp > 0 { logger.notice("copied ledger records to the ledger file", metadata: ["records": "\(caughtUp)"]) }
            let sink = LedgerPayoutSink(
                ledger: StorePayoutLedger(store: store, node: node, clock: clock), journal: journal, logger: logger)
            let analysisWorker = AnalysisWorker(
                service: sessions, analyzer: LocalAnalyzer(), owner: instanceID, policy: policy, logger: logger)
            let payoutDispatcher = PayoutDispatcher(
                store: store, sink: sink, clock: clock, owner: instanceID, policy: policy, logger: logger)
            logger.info("claiming queued work", metadata: ["instance_id": "\(instanceID)", "lease_seconds": "\(policy.leaseDuration)"])
            let pruner = IdempotencyPruner(store: store, clock: clock, logger: logger)
            workers.append(("analysis", { @Sendable in await analysisWorker.run() }))
            workers.append(("payouts", { @Sendable in await payoutDispatcher.run() }))
            workers.append(("idempotency-pruner", { @Sendable in await pruner.run() }))
            #if PostgreSQL
            if let shared = store as? PostgresSessionStore {
                closeStore = { shared.close() }
                // Watchers here see every instance's changes; after a dropped notification
                // connection, each watched session is read again (changes may have been missed).
                let events = sessions.events
                workers.append(("session-events", { @Sendable in
                    await shared.watchChanges(
                        onChange: { id, version in await events.sessionChanged(id, version: version, in: shared) },
                        onReconnect: {
                            for id in events.watchedSessionIDs { await events.sessionChanged(id, version: 0, in: shared) }
                        }
                    )
                }))
            }
            #endif
            if let file = configuration.jwt.jwksFile {
                let secretBytes = secret.secret
                let jwt = configuration.jwt
                workers.append(("jwks", { @Sendable in
                    await jwt.watchJWKS(file, secret: secretBytes, ring: ring, cache: tokenCache, logger: logger)
                }))
            }

            router.register(provider.routesWithImmediatePaths.map { $0.intercepted(by: auth) })
            // REST calls go through the same router (and so the same interceptor) in process.
            channel = InProcessChannel(router: router)
            // Before a body is read, the gateways check credentials only: the call itself, once
            // through the router, counts against the rate limits (checking them here as well
            // counted every request with a body twice).
            authenticator = AuthInterceptor(verifier: verifier, cache: tokenCache)
        }
        let gateway = RESTGateway(
            channel: channel,
            bindings: SessionServiceHTTPRoutes.bindings,
            openAPIDocument: SessionAPIOpenAPI.document,
            authenticator: authenticator,
            cors: CORSPolicy(origins: configuration.corsOrigins),
            metrics: metrics,
            logger: logger,
            accessLog: transport.accessLog
        )
        let reflection = ReflectionService(
            files: SessionAPISchema.files + StandardServicesSchema.files,
            // v1alpha answers too, but only v1 is listed: its descriptor is the one served.
            services: router.serviceNames + ["grpc.reflection.v1.ServerReflection"]
        )
        router.register(reflection.allRoutes)
        // gRPC-Web and Connect in front of the REST gateway: calls through the same router (with
        // health and reflection now registered), or to the upstream when this is a gateway.
        let browserChannel: any RPCChannel = configuration.upstream == nil ? InProcessChannel(router: router) : channel
        let browser = BrowserRPCService(
            channel: browserChannel,
            methods: router.methods + SessionServiceMethods.all,
            codecs: SessionServiceJSONCodecs.all,
            authenticator: authenticator,
            cors: CORSPolicy(origins: configuration.corsOrigins),
            fallback: gateway,
            maxMessageSize: transport.maxReceiveMessageSize,
            logger: logger,
            accessLog: transport.accessLog
        )
        // Health answers for the whole server ("") and for every service it serves by name
        // (a Kubernetes gRPC probe names one); all turn NOT_SERVING on shutdown.
        for service in router.serviceNames { health.setStatus(.serving, for: service) }
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            transport.tls = try TLSContext(certificateChainFile: certificate, privateKeyFile: key)
        }
        let listener: TransportServer
        do {
            listener = try await TransportServer.start(
                configuration: transport,
                router: router,
                httpService: browser,
                group: eventLoops,
                logger: logger
            )
        } catch let error as IOError {
            throw StartupFailure(
                "cannot listen on \(configuration.host):\(configuration.port): \(String(cString: strerror(error.errnoCode)))"
            )
        } catch {
            throw StartupFailure("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        listening = true
        if let createdSecret { logger.notice("created a new JWT secret", metadata: ["path": "\(createdSecret)"]) }

        // Graceful shutdown runs in reverse order: the listener (last here) drains first, then
        // the workers stop, newest first. A listener that closes on its own stops the group.
        var services = workers.map { worker in
            ServiceGroupConfiguration.ServiceConfiguration(
                service: WorkerService(name: worker.name, work: worker.run),
                successTerminationBehavior: .ignore,
                failureTerminationBehavior: .gracefullyShutdownGroup
            )
        }
        services.append(
            .init(
                service: ListenerService(listener: listener, health: health),
                successTerminationBehavior: .gracefullyShutdownGroup,
                failureTerminationBehavior: .gracefullyShutdownGroup
            )
        )
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, logger: logger))
        return Server(
            localAddress: listener.localAddress,
            eventLoopCount: configuration.eventLoops,
            services: group,
            eventLoops: eventLoops,
            dataDirectory: dataDirectory,
            closeStore: closeStore
        )
    }

    /// The store the configuration names: PostgreSQL for a database URL, else SQLite in the data
    /// directory.
    private static func openStore(_ configuration: ServerConfiguration, logger: Logger) async throws -> any SessionStore {
        guard let url = configuration.databaseURL else {
            let path = URL(fileURLWithPath: configuration.dataDirectory).appendingPathComponent("sessions.sqlite").path
            return try SQLiteSessionStore(path: path)
        }
        #if PostgreSQL
        let store = try await PostgresSessionStore.connect(
            url: url, logger: logger, timeout: .seconds(configuration.databaseTimeoutSeconds))
        logger.info("using PostgreSQL", metadata: ["host": "\(URLComponents(string: url)?.host ?? "?")"])
        return store
        #else
        _ = url
        throw Self.noPostgreSQL
        #endif
    }

    private static let noPostgreSQL = StartupFailure(
        "this sessiond was built without the PostgreSQL store; build it with `swift build -c release --traits PostgreSQL --static-swift-stdlib`"
    )

    /// Runs the listener and the workers until `shutDown()` (or the listener closes), then stops
    /// them in order and closes the event loops.
    package func run() async throws {
        defer { withExtendedLifetime(self.dataDirectory) {} }
        do {
            try await self.services.run()
        } catch {
            self.closeStore()
            try? await self.eventLoops.shutdownGracefully()
            throw error
        }
        // The store outlives the workers that use it, and is closed last.
        self.closeStore()
        try await self.eventLoops.shutdownGracefully()
    }

    /// Starts the graceful shutdown; `run()` returns when it is done. Safe before `run()` starts
    /// (the group then starts and stops at once) and more than once.
    package func shutDown() async {
        await self.services.triggerGracefulShutdown()
    }
}

/// The listener as a service: serves until graceful shutdown, then turns health NOT_SERVING and
/// drains (GOAWAY, in-flight calls get up to 10 s).
private struct ListenerService: Service {
    let listener: TransportServer
    let health: HealthService

    func run() async throws {
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                // Returns at graceful shutdown; throws only when the task is cancelled.
                guard (try? await gracefulShutdown()) != nil else { return }
                self.health.shutDown()
                await self.listener.shutdown(gracePeriod: .seconds(10))
            }
            tasks.addTask { await self.listener.waitUntilClosed() }
            await tasks.next()  // the listener closed (after a graceful shutdown, or on its own)
            tasks.cancelAll()
        }
    }
}

/// A background loop (analysis, payouts, …) as a service: cancelled at graceful shutdown; each
/// loop stops at its next cancellation check and leaves claimed jobs to their leases.
private struct WorkerService: Service, CustomStringConvertible {
    let name: String
    let work: @Sendable () async -> Void

    var description: String { self.name }

    func run() async throws {
        try await cancelWhenGracefulShutdown { await self.work() }
    }
}
