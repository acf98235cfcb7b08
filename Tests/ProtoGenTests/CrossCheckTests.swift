import Foundation
import ProtoWire
import RPCCore
import InteropService
import ProtoGen
import SessionAPI
import StandardServices
import TestSupport
import Testing

/// Our generated code against the official protobuf library (Python `protobuf`, classes made by
/// grpcio-tools' protoc from the same schema), in both directions.
@Suite("cross-check against the official protobuf implementation")
struct CrossCheckTests {
    static let script = "Tests/ProtoGenTests/CrossCheck/crosscheck.py"

    @Test("our bytes equal the official bytes, and each side decodes the other's output")
    func messagesRoundTripBothWays() async throws {
        let directory = try PythonScript.temporaryDirectory()
        try await PythonScript.check(Self.script, ["write", directory.path])
        let expectedNames = try String(contentsOf: directory.appendingPathComponent("cases.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let cases = EverythingCases.all
        #expect(cases.keys.sorted() == expectedNames, "the Swift and Python case lists differ")

        let swiftDirectory = directory.appendingPathComponent("swift")
        try FileManager.default.createDirectory(at: swiftDirectory, withIntermediateDirectories: true)
        for (name, message) in cases.sorted(by: { $0.key < $1.key }) {
            let official = try [UInt8](Data(contentsOf: directory.appendingPathComponent("python/\(name).bin")))
            let ours = message.serializedBytes()
            if !name.hasPrefix("maps_") {  // map entry order is unspecified; compared by value below
                #expect(ours == official, "\(name): encoding differs from the official library")
            }
            let decoded = try Everything(serializedBytes: official)
            #expect(decoded == message, "\(name): decoding the official bytes gave a different message")
            #expect(decoded.unknownFields.isEmpty, "\(name): known fields were left unknown")
            try Data(ours).write(to: swiftDirectory.appendingPathComponent("\(name).bin"))
        }

        // Fields the schema does not declare survive a decode/encode cycle byte for byte.
        let withUnknown = try [UInt8](Data(contentsOf: directory.appendingPathComponent("python/unknown_fields.bin")))
        let decoded = try Everything(serializedBytes: withUnknown)
        #expect(!decoded.unknownFields.isEmpty)
        #expect(decoded.serializedBytes() == withUnknown)
        try Data(decoded.serializedBytes()).write(to: swiftDirectory.appendingPathComponent("unknown_fields.bin"))

        let verdict = try await PythonScript.check(Self.script, ["check", directory.path])
        #expect(verdict.contains("0 failed"), "\(verdict)")
    }

    @Test("our canonical JSON equals json_format's as JSON values, and each side parses the other's")
    func canonicalJSONMatchesTheOfficialLibrary() async throws {
        let directory = try PythonScript.temporaryDirectory()
        try await PythonScript.check(Self.script, ["json-write", directory.path])
        let expectedNames = try String(contentsOf: directory.appendingPathComponent("cases.txt"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let cases = EverythingCases.all
        #expect(cases.keys.sorted() == expectedNames, "the Swift and Python case lists differ")

        let swiftDirectory = directory.appendingPathComponent("swift-json")
        try FileManager.default.createDirectory(at: swiftDirectory, withIntermediateDirectories: true)
        for (name, message) in cases.sorted(by: { $0.key < $1.key }) {
            // json_format's output (pretty-printed, with its own float and Timestamp spellings) reads
            // back to the very same message.
            let official = try [UInt8](Data(contentsOf: directory.appendingPathComponent("python-json/\(name).json")))
            let decoded = try Everything(canonicalJSONBytes: official)
            let officialText = String(decoding: official, as: UTF8.self)
            #expect(decoded.serializedBytes() == message.serializedBytes(), "\(name): \(officialText)")
            try Data(message.canonicalJSONBytes()).write(to: swiftDirectory.appendingPathComponent("\(name).json"))
        }

        let verdict = try await PythonScript.check(Self.script, ["json-check", directory.path])
        #expect(verdict.contains(" 0 failed"), "\(verdict)")
    }

    @Test("our FileDescriptorProtos are byte-identical to protoc's", arguments: [
        "sessions/v1/sessions.proto", "sessions/api/http.proto", "protogen/test/v1/everything.proto",
        "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto", "grpc/testing/empty.proto",
        "grpc/testing/messages.proto", "grpc/testing/test.proto",
    ])
    func descriptorsMatchProtoc(path: String) async throws {
        let registry = SessionAPISchema.files + EverythingSchema.files + StandardServicesSchema.files + InteropSchema.files
        let directory = try PythonScript.temporaryDirectory()
        try await PythonScript.check(Self.script, ["descriptors", directory.path])
        let protoc = try [UInt8](
            Data(contentsOf: directory.appendingPathComponent(path.replacingOccurrences(of: "/", with: "_") + ".desc"))
        )
        let ours = try #require(registry.first { $0.name == path })
        #expect(ours.serialized == protoc)
    }

    @Test("the descriptor.proto reflection serves is what protoc makes of our built-in text")
    func builtinDescriptorMatchesProtoc() async throws {
        let path = "google/protobuf/descriptor.proto"
        let directory = try PythonScript.temporaryDirectory()
        let source = directory.appendingPathComponent("src/" + path)
        try FileManager.default.createDirectory(at: source.deletingLastPathComponent(), withIntermediateDirectories: true)
        try #require(ProtoGen.builtinSource(path)).write(to: source, atomically: true, encoding: .utf8)
        try await PythonScript.check(Self.script, ["builtin", directory.path])
        let protoc = try [UInt8](Data(contentsOf: directory.appendingPathComponent("builtin.desc")))
        let ours = try #require(SessionAPISchema.files.first { $0.name == path })
        let identical = ours.serialized == protoc
        #expect(identical, "ours: \(ours.serialized.count) bytes, protoc's: \(protoc.count) bytes")
        #expect(ours.symbols.contains("google.protobuf.MethodOptions"))
    }
}
