import Foundation
import PackagePlugin

/// Writes `BuildInfo.swift` (`BuildInfo.commit`: the git commit the target is built from, with
/// `-dirty` for uncommitted changes, or `unknown` outside a git work tree) before each build, so
/// `sessiond --version` names the commit. The file is rewritten only when the text changes.
@main
struct BuildInfoPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildInfo")
        let script = #"""
            mkdir -p "$2"
            commit=$(git -C "$1" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
            if [ "$commit" != unknown ] && [ -n "$(git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
                commit="$commit-dirty"
            fi
            text="enum BuildInfo { static let commit = \"$commit\" }"
            [ "$(cat "$2/BuildInfo.swift" 2>/dev/null)" = "$text" ] || printf '%s\n' "$text" > "$2/BuildInfo.swift"
            """#
        return [
            .prebuildCommand(
                displayName: "Recording the git commit for --version",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "build-info", context.package.directoryURL.path, output.path],
                outputFilesDirectory: output
            )
        ]
    }
}
