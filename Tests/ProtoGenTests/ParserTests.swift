import ProtoGen
import Testing

@Suite("schema errors are reported with their place")
struct ParserTests {
    @Test("invalid schemas are rejected with a message naming the problem", arguments: [
        ("syntax = \"proto2\";", "generates Swift for proto3 only"),
        ("syntax = \"editions\";", "only proto3"),
        ("syntax = \"proto2\"; message M { int32 a = 1; }", "needs a label"),
        ("syntax = \"proto3\"; message M { int32 a = 1 [default = 2]; }", "default values are not allowed"),
        ("syntax = \"proto3\"; message M { extensions 100 to max; }", "proto2-only"),
        ("syntax = \"proto3\"; message M { int32 a = 1 }", "expected ';'"),
        ("message M {}", "must start with syntax"),
        ("syntax = \"proto3\"; message M { int32 a = 1; int32 b = 1; }", "field number 1 is used"),
        ("syntax = \"proto3\"; message M { Missing a = 1; }", "unknown type 'Missing'"),
        ("syntax = \"proto3\"; message M { reserved 2; int32 a = 2; }", "field number 2 is reserved"),
        ("syntax = \"proto3\"; message M { reserved \"a\"; int32 a = 3; }", "field name 'a' is reserved"),
        ("syntax = \"proto3\"; message M { int32 a = 0; }", "out of range"),
        ("syntax = \"proto3\"; message M { int32 a = 19500; }", "reserved for the protobuf implementation"),
        ("syntax = \"proto3\"; message M { required int32 a = 1; }", "'required' is not allowed"),
        ("syntax = \"proto3\"; enum E { A = 1; }", "must be 0"),
        ("syntax = \"proto3\"; enum E { A = 0; B = 0; }", "allow_alias"),
        ("syntax = \"proto3\"; message M { map<double, int32> m = 1; }", "cannot be a map key"),
        ("syntax = \"proto3\"; message M { string s = 1 [packed = true]; }", "[packed] applies only"),
        ("syntax = \"proto3\"; message M { int32 a = 1; } message M { }", "already defined"),
        ("syntax = \"proto3\"; message M { string s = 1 [(nope) = 1]; }", "unknown option '(nope)'"),
        ("syntax = \"proto3\"; message M { string s = 1 [bogus = 1]; }", "unknown option 'bogus'"),
        ("syntax = \"proto3\"; message M { string s = \"x; }", "unterminated string"),
        ("syntax = \"proto3\"; /* never closed", "unterminated comment"),
        ("syntax = \"proto3\"; service S { rpc A(Nope) returns (Nope); }", "is not a message type"),
    ])
    func rejects(source: String, expected: String) {
        do {
            try ProtoGen.check(source: source)
            Issue.record("accepted an invalid schema: \(source)")
        } catch {
            let text = "\(error)"
            #expect(text.contains(expected), "error '\(text)' does not mention '\(expected)'")
            #expect(text.hasPrefix("test.proto:1:"), "error '\(text)' does not say where")
        }
    }

    @Test("proto2 as imports use it: labels, defaults, extension ranges, oneofs without labels")
    func acceptsProto2ForImports() throws {
        let source = """
            syntax = "proto2";
            package p;
            message M {
              required string a = 1;
              optional int32 b = 2 [default = -3];
              repeated bool c = 3 [packed = true];
              oneof choice { string d = 4; int64 e = 5; }
              extensions 100 to max;
            }
            enum E { FIRST = 1; SECOND = 2; }
            """
        // Parsed and described, then refused for generation, at its syntax statement.
        #expect(throws: (any Error).self) { try ProtoGen.check(source: source) }
        do {
            try ProtoGen.check(source: source)
        } catch {
            #expect("\(error)".hasPrefix("test.proto:1:") && "\(error)".contains("generates Swift for proto3 only"), "\(error)")
        }
    }

    @Test("a json_name that JSON or Swift would need escaped is refused, naming the field")
    func jsonNameWhenNeedsEscaping() {
        for name in ["a\"b", "a\\b", "a\tb"] {
            let source = """
                syntax = "proto3";
                package p;
                message M { string f = 1 [json_name = "\(name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\t", with: "\\t"))"]; }
                """
            do {
                try ProtoGen.check(source: source)
                Issue.record("accepted json_name \(name)")
            } catch {
                #expect("\(error)".contains("json_name") && "\(error)".contains("'f'"), "\(error)")
            }
        }
        #expect(throws: Never.self) {
            try ProtoGen.check(source: #"syntax = "proto3"; package p; message M { string f = 1 [json_name = "fé_2"]; }"#)
        }
    }

    @Test("a schema with comments, nested scopes and options is accepted")
    func acceptsValidSchema() throws {
        try ProtoGen.check(source: """
            // leading comment
            syntax = "proto3";
            package a.b; /* block */
            option java_package = "x.y";
            message Outer {
              message Inner { enum E { E_ZERO = 0; E_ONE = 1; } E e = 1; }
              Inner inner = 1;
              Inner.E e = 2 [deprecated = true];
              .a.b.Outer self = 3;
              map<string, Inner> by_name = 4;
              oneof pick { string s = 5; int64 n = 6; }
              optional bytes raw = 7;
              reserved 10 to 12, 100 to max;
            }
            enum Aliased { option allow_alias = true; A = 0; B = 0; }
            service S { rpc Call(stream Outer) returns (stream Outer.Inner) {} }
            """)
    }
}
