import ArgumentParser
import Foundation

/// `sessiond`: the Sessions API server and its local tools.
@main
struct Sessiond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessiond",
        abstract: "The Sessions API server: gRPC and REST on one port.",
        discussion: """
            Every option can also be set through the environment variable named in its help; \
            a flag on the command line wins over the environment.
            """,
        version: "\(Self.version) (commit \(BuildInfo.commit))",
        subcommands: [Serve.self, Token.self],
        defaultSubcommand: Serve.self
    )

    /// This build's version (`sessiond --version`).
    static let version = "0.3.0"

    /// Runs the command; a setting that does not parse or is out of its range exits with
    /// status 2 and a message naming it (usage errors, as getopt tools do), before anything
    /// starts.
    static func main() async {
        do {
            var command = try Self.parseAsRoot()
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            if Self.exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((Self.fullMessage(for: error) + "\n").utf8))
                Self.exit(withError: ExitCode(2))
            }
            Self.exit(withError: error)
        }
    }
}
