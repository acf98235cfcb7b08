import ProtoJSON
import ProtoWire
import Testing

/// The value writers of protobuf's canonical JSON mapping.
@Suite("JSONWriter: canonical mapping values")
struct JSONWriterCanonicalTests {
    /// A two-value enum, as protogen would generate it.
    enum Light: ProtoJSONEnum {
        case off, on, unrecognized(Int32)

        init(protoValue: Int32) {
            switch protoValue {
            case 0: self = .off
            case 1: self = .on
            default: self = .unrecognized(protoValue)
            }
        }

        var protoValue: Int32 {
            switch self {
            case .off: 0
            case .on: 1
            case .unrecognized(let value): value
            }
        }

        var protoName: String? {
            switch self {
            case .off: "LIGHT_OFF"
            case .on: "LIGHT_ON"
            case .unrecognized: nil
            }
        }

        var jsonName: String? { self.protoName.map { String($0.dropFirst("LIGHT_".count)).lowercased() } }

        init?(jsonName: String) {
            switch jsonName {
            case "off", "LIGHT_OFF": self = .off
            case "on", "LIGHT_ON": self = .on
            default: return nil
            }
        }

        static let jsonNames = ["off", "on"]
    }

    private func written(_ write: (inout JSONWriter) -> Void) -> String {
        var writer = JSONWriter()
        writer.beginArray()
        write(&writer)
        writer.endArray()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    @Test("64-bit integers are decimal strings, at both ends of their range")
    func quotedIntegers() {
        let text = self.written { writer in
            writer.quotedInteger(Int64.min)
            writer.quotedInteger(Int64.max)
            writer.quotedInteger(UInt64.max)
            writer.quotedInteger(Int64(0))
        }
        #expect(text == #"["-9223372036854775808","9223372036854775807","18446744073709551615","0"]"#)
    }

    @Test("floats are their shortest text as a float, not as a double", arguments: [
        (Float(0.1), "0.1"), (Float.greatestFiniteMagnitude, "3.4028235e+38"), (Float.leastNonzeroMagnitude, "1e-45"),
        (Float(100), "100"), (Float(16_777_216), "16777216"), (Float(1.5e10), "1.5e+10"), (Float(-2.5), "-2.5"),
        (Float(0), "0"), (Float(-0.0), "-0.0"),
        (Float.nan, #""NaN""#), (Float.infinity, #""Infinity""#), (-Float.infinity, #""-Infinity""#),
    ])
    func floats(_ value: Float, _ expected: String) {
        #expect(self.written { $0.canonicalFloat(value) } == "[\(expected)]")
    }

    @Test("doubles are written as in the REST mapping, but negative zero keeps its sign for every parser")
    func doubles() {
        let text = self.written { writer in
            writer.canonicalDouble(-0.0)
            writer.canonicalDouble(0)
            writer.canonicalDouble(0.1)
            writer.canonicalDouble(1e300)
            writer.canonicalDouble(-.infinity)
        }
        #expect(text == #"[-0.0,0,0.1,1e+300,"-Infinity"]"#)
        #expect(self.written { $0.double(-0.0) } == "[-0]", "the REST mapping is unchanged")
    }

    @Test("enums are their full value names; numbers this build does not know stay numbers")
    func enumerations() {
        let text = self.written { writer in
            writer.canonicalEnumeration(Light.on)
            writer.canonicalEnumeration(Light.off)
            writer.canonicalEnumeration(Light.unrecognized(-7))
        }
        #expect(text == #"["LIGHT_ON","LIGHT_OFF",-7]"#)
        // The REST writer keeps its short names.
        #expect(self.written { $0.enumeration(Light.on) } == #"["on"]"#)
    }

    @Test("Timestamps are quoted, with as many fraction digits as they need")
    func timestamps() {
        let text = self.written { writer in
            writer.canonicalTimestamp(ProtoTimestamp(seconds: 1_773_655_200))
            writer.canonicalTimestamp(ProtoTimestamp(seconds: 1_773_655_200, nanos: 500_000_000))
        }
        #expect(text == #"["2026-03-16T10:00:00Z","2026-03-16T10:00:00.500Z"]"#)
        // The REST writer keeps whole seconds.
        #expect(self.written { $0.timestamp(ProtoTimestamp(seconds: 1_773_655_200, nanos: 500_000_000)) }
            == #"["2026-03-16T10:00:00Z"]"#)
    }
}
