import Foundation
import ProtoJSON
import ProtoWire
import ServiceErrors
import SessionAPI
import Testing

/// The generated canonical JSON mapping (protobuf's ProtoJSON, Connect's JSON codec) over every
/// field kind of everything.proto; CrossCheckTests compares it with the official library.
@Suite("generated canonical JSON mapping")
struct CanonicalJSONMappingTests {
    private func text(_ message: some ProtoJSONMessage) -> String {
        String(decoding: message.canonicalJSONBytes(), as: UTF8.self)
    }

    @Test("every cross-check case writes valid JSON that reads back to exactly the same message",
          arguments: EverythingCases.all.keys.sorted())
    func roundTrip(_ name: String) throws {
        let message = EverythingCases.all[name]!
        let json = message.canonicalJSONBytes()
        #expect(throws: Never.self) { try JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed]) }
        let decoded = try Everything(canonicalJSONBytes: json)
        // Timestamps keep their nanoseconds, unlike the REST mapping.
        #expect(decoded.serializedBytes() == message.serializedBytes(), "\(String(decoding: json, as: UTF8.self))")
        #expect(decoded.canonicalJSONBytes() == json)
    }

    @Test("fields at their defaults are left out; explicit presence is written even when zero")
    func defaultsOmitted() {
        #expect(self.text(Everything()) == "{}")
        #expect(self.text(Everything(scalars: Scalars())) == #"{"scalars":{}}"#)
        #expect(self.text(Everything(repeated: Repeated())) == #"{"repeated":{}}"#)
        #expect(self.text(Everything(choice: .choiceNumber(0))) == #"{"choiceNumber":"0"}"#)
        #expect(self.text(Everything(choice: .choiceColor(.unspecified))) == #"{"choiceColor":"COLOR_UNSPECIFIED"}"#)
        var optionals = Optionals()
        optionals.oInt32 = 0
        optionals.oString = ""
        optionals.oColor = .unspecified
        #expect(self.text(optionals) == #"{"oInt32":0,"oString":"","oColor":"COLOR_UNSPECIFIED"}"#)
        var negativeZero = Scalars()
        negativeZero.fDouble = -0.0
        #expect(self.text(negativeZero) == #"{"fDouble":-0.0}"#, "-0.0 is not the default (bit patterns differ)")
    }

    @Test("64-bit integers are strings, 32-bit ones numbers, enums full names, Timestamps with fractions")
    func valueForms() {
        var scalars = Scalars()
        scalars.fInt64 = .min
        scalars.fUint64 = .max
        scalars.fSfixed64 = -1
        scalars.fUint32 = .max
        scalars.fColor = .red
        scalars.fBytes = [0xFF, 0x00]
        scalars.fFloat = 0.1
        #expect(self.text(scalars) == #"""
            {"fFloat":0.1,"fInt64":"-9223372036854775808","fUint32":4294967295,"fUint64":"18446744073709551615",\#
            "fSfixed64":"-1","fBytes":"/wA=","fColor":"COLOR_RED"}
            """#)
        var everything = Everything()
        everything.at = ProtoTimestamp(seconds: 1_773_655_200, nanos: 500_000_000)
        everything.history = [ProtoTimestamp(seconds: 1_773_655_200, nanos: 1000), ProtoTimestamp()]
        var maps = Maps()
        maps.boolToBytes = [true: [1], false: []]
        maps.int32ToInt64 = [-1: 5]
        everything.maps = maps
        #expect(self.text(everything) == #"""
            {"maps":{"int32ToInt64":{"-1":"5"},"boolToBytes":{"false":"","true":"AQ=="}},\#
            "at":"2026-03-16T10:00:00.500Z","history":["2026-03-16T10:00:00.000001Z","1970-01-01T00:00:00Z"]}
            """#)
    }

    @Test("the Sessions API: json_name, full enum names, int64 strings; the REST mapping is unchanged")
    func sessionsAPI() {
        var session = Session()
        session.sessionID = "s1"
        session.status = .active
        session.createdAt = ProtoTimestamp(seconds: 1_773_655_200, nanos: 250_000_000)
        session.durationSeconds = 90
        var response = ListSessionsResponse()
        response.sessions = [session]
        response.nextPageToken = ""
        #expect(self.text(response) == #"""
            {"sessions":[{"sessionId":"s1","status":"SESSION_STATUS_ACTIVE","createdAt":"2026-03-16T10:00:00.250Z",\#
            "durationSeconds":"90"}],"nextCursor":""}
            """#)
        let rest = String(decoding: session.jsonBytes(), as: UTF8.self)
        #expect(rest.contains(#""status":"active""#) && rest.contains(#""durationSeconds":90"#), "\(rest)")
        #expect(rest.contains(#""createdAt":"2026-03-16T10:00:00Z""#), "\(rest)")
    }

    @Test("reads proto names, int64 as strings or numbers, enums by name or number, offsets, fractions and null")
    func lenientInputs() throws {
        let text = #"""
            {"scalars": {"f_int64": "-9223372036854775808", "fUint64": 18446744073709551615, "fColor": "COLOR_GREEN",
                         "f_float": 3.4028235e+38, "fString": null, "fSint64": "12"},
             "repeated": {"rColor": ["COLOR_RED", 2, -3, 99, "green"]},
             "at": "2026-03-16T11:00:00.123456789+01:00",
             "history": ["2026-03-16T10:00:00.5Z", "2026-03-16T05:00:00-05:00"],
             "choice_number": "7"}
            """#
        let decoded = try Everything(canonicalJSONBytes: Array(text.utf8))
        #expect(decoded.scalars?.fInt64 == .min)
        #expect(decoded.scalars?.fUint64 == .max)
        #expect(decoded.scalars?.fColor == .green)
        #expect(decoded.scalars?.fFloat == .greatestFiniteMagnitude, "the largest float's shortest text")
        #expect(decoded.scalars?.fSint64 == 12)
        #expect(decoded.repeated?.rColor == [.red, .green, .negative, .unrecognized(99), .green])
        #expect(decoded.at == ProtoTimestamp(seconds: 1_773_655_200, nanos: 123_456_789))
        #expect(decoded.history == [
            ProtoTimestamp(seconds: 1_773_655_200, nanos: 500_000_000), ProtoTimestamp(seconds: 1_773_655_200),
        ])
        #expect(decoded.choice == .choiceNumber(7))
    }

    @Test("unknown fields and bad values are rejected, each named in one invalidArgument")
    func rejections() {
        let text = #"""
            {"scalars": {"fInt64": "12x", "fColor": "COLOR_PURPLE", "fFloat": 3.5e38, "fBytes": "!!"},
             "at": "2026-03-16T10:00:00.1234567891Z", "history": [1],
             "bogus": 1}
            """#
        do {
            _ = try Everything(canonicalJSONBytes: Array(text.utf8))
            Issue.record("decoded")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.fieldViolations.map(\.field) == [
                "scalars.fInt64", "scalars.fColor", "scalars.fFloat", "scalars.fBytes", "at", "history[0]", "bogus",
            ], "\(error.fieldViolations)")
            #expect(error.message.contains("bogus: is not a field of protogen.test.v1.Everything"), "\(error.message)")
        }
        #expect(throws: ServiceError.self) { try Everything(canonicalJSONBytes: Array("[]".utf8)) }
    }
}
