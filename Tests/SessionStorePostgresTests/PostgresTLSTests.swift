import Foundation
import Logging
import PostgresNIO
import ServiceErrors
import TestSupport
import Testing

@testable import SessionStorePostgres

/// `sslmode` and `sslrootcert` in the database URL, as libpq users write them, against the
/// PostgreSQL that `./tools/test` starts with TLS on (`SESSIONS_TEST_POSTGRES_CA` is its CA).
@Suite("PostgreSQL over TLS")
struct PostgresTLSTests {
    static var authority: String {
        get throws {
            guard let ca = ProcessInfo.processInfo.environment["SESSIONS_TEST_POSTGRES_CA"], !ca.isEmpty else {
                throw PythonScript.Failure(description: "SESSIONS_TEST_POSTGRES_CA is not set: run ./tools/test")
            }
            return ca
        }
    }

    /// A fresh database's URL without the suite's `sslmode=disable`.
    static func database() async throws -> String {
        String(try await StoreKind.freshDatabase().prefix { $0 != "?" })
    }

    /// Whether the store's connection is encrypted, as the server sees it.
    static func encrypted(_ url: String, timeout: Duration = .seconds(30)) async throws -> Bool {
        var logger = Logger(label: "test-postgres-tls")
        logger.logLevel = .critical  // the refused handshakes are expected
        let store = try await PostgresSessionStore.connect(url: url, logger: logger, timeout: timeout)
        defer { store.close() }
        let rows = try await store.client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: logger)
        for try await ssl in rows.decode(Bool.self) { return ssl }
        return false
    }

    @Test("verify-full with the server's CA, require, and the default (prefer) encrypt; disable does not", arguments: [
        ("sslmode=verify-full&sslrootcert=CA", true),
        ("sslmode=verify-ca&sslrootcert=CA", true),
        ("sslmode=require", true),
        ("", true),
        ("sslmode=disable", false),
    ])
    func connectWhenModeGiven(query: String, expected: Bool) async throws {
        let base = try await Self.database()
        let query = query.replacingOccurrences(of: "CA", with: try Self.authority)
        let url = query.isEmpty ? base : base + "?" + query
        #expect(try await Self.encrypted(url) == expected)
    }

    @Test("verify-full refuses a server whose certificate another CA signed")
    func connectWhenCertificateUntrusted() async throws {
        let directory = try PythonScript.temporaryDirectory()
        let other = directory.appendingPathComponent("other-ca.pem").path
        let status = try await runCommand("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", directory.appendingPathComponent("k").path,
            "-out", other, "-days", "1", "-subj", "/CN=not the server's CA",
        ]).status
        try #require(status == 0)
        let url = try await Self.database() + "?sslmode=verify-full&sslrootcert=\(other)"
        let started = ContinuousClock.now
        await #expect {
            _ = try await Self.encrypted(url, timeout: .seconds(3))
        } throws: { error in
            (error as? ServiceError)?.code == .unavailable
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("an unknown sslmode or an unreadable sslrootcert is refused, naming the setting", arguments: [
        ("sslmode=allow", "sslmode must be"),
        ("sslmode=verify_full", "sslmode must be"),
        ("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem", "sslrootcert '/nonexistent/ca.pem'"),
    ])
    func configurationWhenInvalid(query: String, message: String) throws {
        #expect {
            _ = try PostgresSessionStore.configuration("postgres://u@127.0.0.1:5432/db?" + query)
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}
