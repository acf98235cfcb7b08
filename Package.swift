// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Generic code across our modules (message codecs, HTTP bindings) gets specialized in the
    // modules that use it instead of resolving type metadata on every call.
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
]

let package = Package(
    name: "sessiond",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sessiond", targets: ["SessionServer"]),
        .executable(name: "protogen", targets: ["protogen"]),
        .executable(name: "interop-server", targets: ["InteropServer"]),
        .executable(name: "store-bench", targets: ["StoreBench"]),
        .executable(name: "auth-bench", targets: ["AuthBench"]),
        .executable(name: "create-bench", targets: ["CreateBench"]),
    ],
    // The PostgreSQL store pulls in postgres-nio, swift-nio-ssl (BoringSSL) and swift-crypto, about
    // five minutes of a cold build on two cores. The embedded default (SQLite) does without it:
    // `swift build --traits PostgreSQL` (what ./tools/test and the deployment guide use) adds it.
    traits: [
        .trait(name: "PostgreSQL", description: "The PostgreSQL store (--database-url), for several instances on one database."),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C libraries, each behind a module map and a shim header.
        .systemLibrary(
            name: "CNghttp2",
            pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),

        // Shared vocabulary.
        .target(name: "ProtoWire", swiftSettings: strictSettings),
        .target(name: "ServiceErrors", swiftSettings: strictSettings),
        .target(
            name: "RPCCore",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),"ProtoWire", "ServiceErrors", .product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: strictSettings
        ),
        .target(name: "ProtoJSON", dependencies: ["ProtoWire", "RPCCore", "ServiceErrors"], swiftSettings: strictSettings),
        .target(
            name: "SessionAPI",
            dependencies: ["ProtoJSON", "ProtoWire", "RPCCore"],
            exclude: [],
            swiftSettings: strictSettings
        ),
        .target(
            name: "StandardServices",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),"ProtoWire", "RPCCore", "ServiceErrors"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "InteropService",
            dependencies: ["ProtoWire", "RPCCore", "ServiceErrors"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SessionCore",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "ServiceErrors", .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // A VFS over SQLite's default that gathers WAL writes (C: SQLite's VFS is a C interface).
        .target(name: "CSQLiteWAL", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(
            name: "SessionStoreSQLite",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),"CSQLite", "CSQLiteWAL", "SessionCore", "ServiceErrors"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SessionRPC",
            dependencies: ["SessionCore", "SessionAPI", "RPCCore", "ServiceErrors", "ProtoWire"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "SessionStorePostgres",
            dependencies: [
                "SessionCore", "ServiceErrors",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(name: "Auth", dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),"COpenSSL", "ProtoWire", "RPCCore", "ServiceErrors"], swiftSettings: strictSettings),
        .target(
            name: "HTTPMessages",
            dependencies: ["ProtoJSON", "ServiceErrors"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "HTTP2Transport",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "HTTPMessages", "ProtoJSON", "RPCCore", "ServiceErrors", "ProtoWire", "CNghttp2", "COpenSSL", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // gRPC-Web and Connect on the same port: calls through the same router as gRPC and REST.
        .target(
            name: "BrowserRPC",
            dependencies: [
                "HTTP2Transport", "HTTPMessages", "ProtoJSON", "RPCCore", "ServiceErrors",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Helpers shared by tests: running servers, the Python test environment.
        .target(
            name: "RESTGateway",
            dependencies: [
                "HTTPMessages", "ProtoJSON", "ProtoWire", "RPCCore", "ServiceErrors",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "Auth", "HTTP2Transport", "HTTPMessages", "ProtoJSON", "ProtoWire", "RPCCore", "ServiceErrors", "SessionCore",
                "SessionServerKit", "SessionStoreSQLite", "SessionStorePostgres",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // The whole server as a library: configuration in, a running ServiceGroup out.
        .target(
            name: "SessionServerKit",
            dependencies: [
                "Auth", "BrowserRPC", "HTTP2Transport", "HTTPMessages", "ProtoJSON", "RESTGateway", "RPCCore", "SessionAPI",
                "ServiceErrors", "StandardServices",
                "SessionCore", "SessionRPC", "SessionStoreSQLite",
                .target(name: "SessionStorePostgres", condition: .when(traits: ["PostgreSQL"])),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),

        // `BuildInfo.commit` for `sessiond --version`.
        .plugin(name: "BuildInfo", capability: .buildTool(), path: "tools/plugins/BuildInfo"),

        // The server executable: flags and environment in, SessionServerKit runs it.
        .executableTarget(
            name: "SessionServer",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "Auth", "HTTP2Transport", "SessionServerKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strictSettings,
            plugins: ["BuildInfo"]
        ),

        // The gRPC interop test server (grpc.testing.TestService) on our transport.
        .executableTarget(
            name: "InteropServer",
            dependencies: [
                "InteropService", "HTTP2Transport", "HTTPMessages", "RPCCore", "StandardServices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // Store benchmark (tools/bench/store.sh).
        // JWT verification cost per call (tools/bench/jwt.sh).
        .executableTarget(name: "AuthBench", dependencies: ["Auth", "RPCCore"], swiftSettings: strictSettings),
        // Durable CreateSession calls per second through a running server (tools/bench/creates.sh).
        .executableTarget(
            name: "CreateBench",
            dependencies: [
                "HTTP2Transport", "RPCCore", "SessionAPI", .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "StoreBench",
            dependencies: [
                "SessionCore", "SessionStoreSQLite", "SessionStorePostgres",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),

        // The schema compiler: schema/*.proto → Sources/*/Generated.
        .target(
            name: "ProtoGen",
            dependencies: ["ProtoWire"],
            path: "tools/protogen/Library",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "protogen",
            dependencies: ["ProtoGen"],
            path: "tools/protogen/CLI",
            swiftSettings: strictSettings
        ),

        // libFuzzer entry points, built by tools/fuzz with -sanitize=fuzzer,address and -DFUZZING into
        // their own scratch path; the normal build makes the same binary a corpus replayer.
        .executableTarget(
            name: "FuzzTargets",
            dependencies: [
                "Auth", "BrowserRPC", "HTTP2Transport", "InteropService", "ProtoGen", "ProtoJSON", "ProtoWire",
                "RESTGateway", "RPCCore", "SessionAPI", "SessionCore", "SessionRPC", "ServiceErrors", "StandardServices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "tools/fuzzing/Targets",
            swiftSettings: strictSettings
        ),

        // Tests, one target per module.
        .testTarget(name: "ProtoWireTests", dependencies: ["ProtoWire"], swiftSettings: strictSettings),
        .testTarget(name: "ProtoJSONTests", dependencies: ["ProtoJSON", "ProtoWire", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "ProtoGenTests",
            dependencies: ["ProtoGen", "ProtoJSON", "ProtoWire", "RPCCore", "SessionAPI", "StandardServices", "InteropService", "TestSupport"],
            exclude: ["Schema", "CrossCheck"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SessionAPITests",
            dependencies: ["SessionAPI", "ProtoWire", "RPCCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "AuthTests", dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),"Auth", "ServiceErrors"], swiftSettings: strictSettings),
        .testTarget(
            name: "BrowserRPCTests",
            dependencies: ["BrowserRPC", "HTTP2Transport", "ServiceErrors"],
            swiftSettings: strictSettings
        ),
        .testTarget(name: "RESTGatewayTests", dependencies: ["HTTPMessages", "RESTGateway", "TestSupport"], swiftSettings: strictSettings),
        .testTarget(
            name: "SessionCoreTests",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),"SessionCore", "SessionStoreSQLite", "ServiceErrors", "TestSupport"],
            exclude: ["Analysis/labelled-notes.tsv"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SessionRPCTests",
            dependencies: ["SessionRPC", "SessionCore", "ServiceErrors", "SessionAPI", "RPCCore", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SessionStorePostgresTests",
            dependencies: [
                "SessionStorePostgres", "ServiceErrors", "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SessionStoreSQLiteTests",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),"SessionCore", "SessionStoreSQLite", "ServiceErrors", "TestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SessionServerTests",
            dependencies: [
                "TestSupport", "SessionServerKit", "SessionAPI", "RPCCore", "HTTP2Transport",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            exclude: ["standard_services.py", "lifecycle_grpc.py", "crash_loop.py", "rest_gateway.py", "rest_openapi.py", "jwt_keys.py", "session_stubs.py",
                "hostile_clients.py", "instances_test.py", "well_behaved_clients.py", "connect_clients.py", "browser_page.py"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "InteropTests",
            dependencies: ["InteropService", "HTTP2Transport", "RPCCore", "ServiceErrors", "StandardServices", "TestSupport", .product(name: "NIOPosix", package: "swift-nio")],
            exclude: [],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HTTP2TransportTests",
            dependencies: [
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                "HTTP2Transport", "HTTPMessages", "RPCCore", "ServiceErrors", "TestSupport", "InteropService", "StandardServices",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            exclude: ["Protocol"],
            swiftSettings: strictSettings
        ),
    ]
)
