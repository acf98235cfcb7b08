import Auth
import Foundation
import RPCCore

/// `auth-bench DIR`: what JWT verification costs per call. DIR holds `secret`, PEM public keys
/// (`*.pem`) and `tokens.txt` (lines `ALG TOKEN`), as `tools/bench/jwt.sh` writes them. For each
/// token it times a full verification and the authentication interceptor with its cache of
/// verified tokens (what a repeated token costs), in microseconds per call.
@main
struct AuthBench {
    static func main() throws {
        guard CommandLine.arguments.count == 2 else {
            FileHandle.standardError.write(Data("usage: auth-bench DIR\n".utf8))
            exit(2)
        }
        let directory = URL(fileURLWithPath: CommandLine.arguments[1])
        let secret = try String(contentsOf: directory.appendingPathComponent("secret"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var keys = [JWTKey(.hmac(Array(secret.utf8)))]
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where file.hasSuffix(".pem") {
            let pem = try Data(contentsOf: directory.appendingPathComponent(file))
            keys.append(JWTKey(.publicKey(try PublicKey(pem: [UInt8](pem)))))
        }
        let verifier = JWTVerifier(keys: JWTKeyRing(keys))
        let tokens = try String(contentsOf: directory.appendingPathComponent("tokens.txt"), encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).map(String.init) }
        print("alg      verify µs/call   cached µs/call")
        for entry in tokens where entry.count == 2 {
            let (algorithm, token) = (entry[0], entry[1])
            let now = Date()
            _ = try verifier.verify(token, now: now)
            let rounds = algorithm.hasPrefix("HS") ? 20_000 : 2_000
            let clock = ContinuousClock()
            let verifyTime = try clock.measure {
                for _ in 0..<rounds { _ = try verifier.verify(token, now: now) }
            }
            let interceptor = AuthInterceptor(verifier: verifier)
            var metadata = Metadata()
            metadata.add("authorization", "Bearer \(token)")
            let method = RPCMethod(service: "sessions.v1.SessionService", name: "GetSession", kind: .unary)
            let cachedRounds = 200_000
            let cachedTime = try clock.measure {
                for _ in 0..<cachedRounds {
                    var context = CallContext(method: method, metadata: metadata)
                    try interceptor.intercept(&context)
                }
            }
            func micros(_ duration: Duration, _ count: Int) -> Double {
                (Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12) / Double(count)
            }
            let name = algorithm.padding(toLength: 8, withPad: " ", startingAt: 0)
            print(name + String(format: " %15.2f %16.3f", micros(verifyTime, rounds), micros(cachedTime, cachedRounds)))
        }
    }
}
