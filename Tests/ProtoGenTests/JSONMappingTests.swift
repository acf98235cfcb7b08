import Foundation
import ProtoJSON
import ProtoWire
import ServiceErrors
import Testing

/// The generated JSON mapping (`ProtoJSONMessage`) over every field kind of everything.proto.
@Suite("generated JSON mapping")
struct JSONMappingTests {
    @Test("every cross-check case writes valid JSON that reads back to the same message", arguments: EverythingCases.all.keys.sorted())
    func roundTrip(_ name: String) throws {
        let message = EverythingCases.all[name]!
        let json = message.jsonBytes()
        // Valid JSON to an independent parser, too.
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed]) }
        let decoded = try Everything(jsonBytes: json)
        // Timestamps are written in whole seconds; everything else must survive exactly.
        var expected = message
        expected.at = expected.at.map { ProtoTimestamp(seconds: $0.seconds) }
        expected.history = expected.history.map { ProtoTimestamp(seconds: $0.seconds) }
        #expect(decoded.jsonBytes() == json)
        #expect(decoded.serializedBytes() == expected.serializedBytes(), "\(String(decoding: json, as: UTF8.self))")
    }

    @Test("unset fields are present: messages and optionals as null, scalars at their defaults")
    func unsetFields() throws {
        let json = try JSONParser.parse(Everything().jsonBytes())
        guard case .object(let members) = json else {
            Issue.record("not an object")
            return
        }
        let byName = Dictionary(members.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first })
        #expect(byName["scalars"] == .null)
        #expect(byName["at"] == .null)
        #expect(byName["history"] == .array([]))
        let optionals = try JSONParser.parse(Optionals().jsonBytes())
        #expect(optionals == .object([
            JSONMember("oInt32", .null), JSONMember("oString", .null), JSONMember("oBool", .null),
            JSONMember("oColor", .null), JSONMember("oDouble", .null), JSONMember("oBytes", .null),
        ]))
        var scalars = Scalars()
        scalars.fInt64 = .max
        scalars.fColor = .red
        let text = String(decoding: scalars.jsonBytes(), as: UTF8.self)
        #expect(text.contains(#""fInt64":9223372036854775807"#), "64-bit integers are numbers: \(text)")
        #expect(text.contains(#""fColor":"red""#), "enums are lower-case short names: \(text)")
        #expect(text.contains(#""fString":"""#))
    }

    @Test("accepts proto names, quoted integers, enum full names and null")
    func lenientInputs() throws {
        let text = #"{"f_int64": "-9223372036854775808", "fUint64": 18446744073709551615, "fColor": "COLOR_GREEN", "fString": null, "fDouble": "NaN", "fInt32": 7.0}"#
        let scalars = try Scalars(jsonBytes: Array(text.utf8))
        #expect(scalars.fInt64 == .min)
        #expect(scalars.fUint64 == .max)
        #expect(scalars.fColor == .green)
        #expect(scalars.fString == "")
        #expect(scalars.fDouble.isNaN)
        #expect(scalars.fInt32 == 7)
    }

    @Test("names every offending field, nested and indexed, in one error")
    func everyViolation() {
        let text = #"""
            {"scalars": {"fInt32": "x", "fBool": 1, "fUint32": -1, "fInt64": 9223372036854775808, "fColor": "purple", "fFloat": 1e39},
             "repeated": {"rInt32": [1, "a", 2.5], "rMessage": [{"fBytes": "!!"}]},
             "maps": {"int32ToInt64": {"x": 1}},
             "at": "yesterday",
             "nope": 1, "nope": 2}
            """#
        do {
            _ = try Everything(jsonBytes: Array(text.utf8))
            Issue.record("decoded")
        } catch {
            #expect(error.code == .invalidArgument)
            let fields = error.fieldViolations.map(\.field)
            #expect(fields == [
                "scalars.fInt32", "scalars.fBool", "scalars.fUint32", "scalars.fInt64", "scalars.fColor", "scalars.fFloat",
                "repeated.rInt32[1]", "repeated.rInt32[2]", "repeated.rMessage[0].fBytes", "maps.int32ToInt64[x]", "at",
                "nope", "nope",
            ], "\(error.fieldViolations)")
            #expect(error.fieldViolations.first { $0.field == "scalars.fInt64" }?.description == "must be between -9223372036854775808 and 9223372036854775807")
            #expect(error.fieldViolations.last?.description == "is given more than once")
        }
    }

    @Test("a repeated member is named whether the object is small or large (looked back over, or hashed)")
    func repeatedMembers() {
        for unknown in [0, 20] {
            let filler = (0..<unknown).map { "\"extra\($0)\": 1" }
            let members = filler + ["\"fInt32\": 1", "\"fBool\": true", "\"fInt32\": 2"]
            let text = "{" + members.joined(separator: ", ") + "}"
            do {
                _ = try Scalars(jsonBytes: Array(text.utf8))
                Issue.record("decoded \(text)")
            } catch {
                let repeated = error.fieldViolations.filter { $0.description == "is given more than once" }.map(\.field)
                #expect(repeated == ["fInt32"], "\(members.count) members: \(error.fieldViolations)")
                #expect(error.fieldViolations.count == unknown + 1)
            }
        }
    }

    @Test("a body that is not an object, or not JSON, is one clear error")
    func notAnObject() {
        for text in ["[1]", "\"x\"", "{", ""] {
            #expect(throws: ServiceError.self) { try Scalars(jsonBytes: Array(text.utf8)) }
        }
    }
}
