import ProtoJSON
import ProtoWire
import RPCCore
import SessionAPI

/// REST bodies into each route's request message, as the gateway decodes them: the ProtoJSON
/// parser, then the generated JSON mapping of the route's request (`HTTPBinding.request`). The
/// first byte picks the route and how values are read (body JSON, or query/path text); one mode
/// instead decodes the input as the route's protobuf reply and writes it as JSON, as the
/// gateway answers.
///
/// Properties: a request that decodes writes JSON that parses and decodes again without errors,
/// and writing that gives the same JSON (the mapping is stable after one normalization); a reply
/// writes JSON that parses.
enum RESTBodyTarget {
    static let bindings = SessionServiceHTTPRoutes.bindings

    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        let choice = input.byte()
        let binding = Self.bindings[Int(choice & 0x1F) % Self.bindings.count]
        let payload = Array(input.rest)
        switch choice >> 5 {
        case 7:
            guard let reply = try? binding.response(payload) else { return }
            let json = reply.jsonBytes()
            let text = String(decoding: json, as: UTF8.self)
            precondition((try? JSONParser.parse(json)) != nil, "reply JSON does not parse: \(text)")
        default:
            guard case .object(let members)? = try? JSONParser.parse(payload) else { return }
            var context = JSONDecodingContext(valuesAreText: choice >> 5 == 6)
            let message = binding.request(members, context: &context)
            guard context.error == nil else { return }
            guard let json = message as? any ProtoJSONMessage else {
                preconditionFailure("request without a JSON mapping")
            }
            Self.checkStable(json)
        }
    }

    static func checkStable<Message: ProtoJSONMessage>(_ message: Message) {
        let written = message.jsonBytes()
        let text = String(decoding: written, as: UTF8.self)
        guard case .object(let members)? = try? JSONParser.parse(written) else {
            preconditionFailure("\(Message.protoMessageName): written JSON does not parse: \(text)")
        }
        var context = JSONDecodingContext()
        let again = Message(jsonMembers: members, path: "", context: &context)
        precondition(context.error == nil, "\(Message.protoMessageName): own JSON rejected: \(text): \(context.error!)")
        let rewritten = again.jsonBytes()
        let retext = String(decoding: rewritten, as: UTF8.self)
        precondition(rewritten == written, "\(Message.protoMessageName): \(text) → \(retext)")
    }

    static var seeds: [[UInt8]] {
        func seed(_ route: Int, _ mode: UInt8 = 0, _ body: String) -> [UInt8] {
            [mode << 5 | UInt8(route)] + Array(body.utf8)
        }
        return [
            seed(0, 0, #"{"jobId": "job_abc123", "testerId": "user_xyz789", "variant": "A"}"#),
            seed(0, 0, #"{"job_id": "job_1", "tester_id": "u", "variant": "B", "unknown": [1, {"a": null}]}"#),
            seed(2, 6, #"{"limit": "5.0", "cursor": "abc", "status": "SESSION_STATUS_ACTIVE", "jobId": "j"}"#),
            seed(2, 0, #"{"limit": 5, "status": "active", "testerId": null}"#),
            seed(9, 0, #"{"sessionId": "s", "notes": [{"noteId": "n1", "content": "\u00e9\ud83d\ude00"}, {}]}"#),
            seed(11, 0, #"{"sessionId": "s", "clarity": 5, "difficulty": "2", "technicalIssues": false}"#),
            seed(10, 0, #"{"session_id": "s", "rating": 4.0, "comment": null}"#),
            seed(1, 7, "\u{0A}\u{05}ses_1\u{12}\u{03}job"),
        ]
    }
}
