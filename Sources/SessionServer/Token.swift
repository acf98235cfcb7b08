import ArgumentParser
import Auth
import Foundation

/// `sessiond token`: prints an HS256 JWT signed with the server's secret, for local use.
struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a signed JWT for local use.",
        discussion: "Signs with the same secret `serve` uses: --jwt-secret-file, SESSIOND_JWT_SECRET, or <data-dir>/jwt-secret."
    )

    static let roles = ["tester", "researcher", "admin", "service"]

    @Option(help: "The token's subject (`sub`): the user or service ID.")
    var sub: String

    @Option(help: "One of tester, researcher, admin, service.")
    var role: String

    @Option(help: "The organization (`org`) the caller belongs to.")
    var org: String

    @Option(help: "Lifetime in seconds.")
    var ttl: Int = 3600

    @Option(name: .customLong("data-dir"), help: "Where `serve` keeps its secret. (env: SESSIOND_DATA_DIR; default ./data)")
    var dataDirectory: String?

    @Option(name: .customLong("jwt-secret-file"), help: "File holding the HMAC secret. (env: SESSIOND_JWT_SECRET_FILE)")
    var jwtSecretFile: String?

    func validate() throws {
        guard Self.roles.contains(self.role) else {
            throw ValidationError("--role must be one of \(Self.roles.joined(separator: ", ")), not '\(self.role)'")
        }
        guard !self.sub.isEmpty, !self.org.isEmpty else { throw ValidationError("--sub and --org must not be empty") }
        guard (1...31_536_000).contains(self.ttl) else {
            throw ValidationError("--ttl must be between 1 and 31536000 seconds (a year), not \(self.ttl)")
        }
    }

    func run() throws {
        let secret = try JWTSecret.load(
            file: self.jwtSecretFile ?? EnvironmentValue.string("SESSIOND_JWT_SECRET_FILE"),
            environment: ProcessInfo.processInfo.environment,
            dataDirectory: self.dataDirectory ?? EnvironmentValue.string("SESSIOND_DATA_DIR") ?? "./data",
            createIfMissing: false
        )
        let token = TokenSigner(secret: secret.secret)
            .token(subject: self.sub, role: self.role, org: self.org, issuedAt: Date(), lifetime: TimeInterval(self.ttl))
        FileHandle.standardOutput.write(Data((token + "\n").utf8))
    }
}
