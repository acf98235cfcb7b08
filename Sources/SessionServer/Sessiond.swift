import ArgumentParser

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
        subcommands: [Serve.self, Token.self],
        defaultSubcommand: Serve.self
    )
}
