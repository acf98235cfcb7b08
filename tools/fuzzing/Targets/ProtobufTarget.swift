import InteropService
import ProtoWire
import SessionAPI
import StandardServices

/// Every generated message's protobuf decoder; the first input byte picks the message.
///
/// Property: a message that decodes re-encodes to bytes that decode to the same encoding
/// (compared as bytes, so NaN floats and unknown fields count too).
enum ProtobufTarget {
    /// Every message generated from `schema/` and the standard services; tools/fuzz checks that
    /// the list names every `ProtoMessage` in the generated files.
    static let messages: [any ProtoMessage.Type] = [
        SessionAPI.HttpRule.self,
        SessionAPI.FieldRules.self,
        SessionAPI.Session.self,
        SessionAPI.CreateSessionRequest.self,
        SessionAPI.GetSessionRequest.self,
        SessionAPI.ListSessionsRequest.self,
        SessionAPI.ListSessionsResponse.self,
        SessionAPI.PauseSessionRequest.self,
        SessionAPI.ResumeSessionRequest.self,
        SessionAPI.CompleteSessionRequest.self,
        SessionAPI.CompleteSessionResponse.self,
        SessionAPI.AnalyzeSessionRequest.self,
        SessionAPI.AnalyzeSessionResponse.self,
        SessionAPI.GetAnalysisRequest.self,
        SessionAPI.GetAnalysisResponse.self,
        SessionAPI.Analysis.self,
        SessionAPI.Analysis.Sentiment.self,
        SessionAPI.Analysis.FrictionPoint.self,
        SessionAPI.Analysis.DurationComparison.self,
        SessionAPI.Note.self,
        SessionAPI.GetNotesRequest.self,
        SessionAPI.GetNotesResponse.self,
        SessionAPI.UpdateNotesRequest.self,
        SessionAPI.UpdateNotesRequest.NoteUpdate.self,
        SessionAPI.UpdateNotesResponse.self,
        SessionAPI.ConfirmSessionRequest.self,
        SessionAPI.ConfirmSessionResponse.self,
        SessionAPI.SubmitFeedbackRequest.self,
        SessionAPI.SubmitFeedbackResponse.self,
        SessionAPI.WatchSessionRequest.self,
        SessionAPI.WatchSessionResponse.self,
        SessionAPI.Payout.self,
        SessionAPI.ListPayoutsRequest.self,
        SessionAPI.ListPayoutsResponse.self,
        StandardServices.HealthCheckRequest.self,
        StandardServices.HealthCheckResponse.self,
        StandardServices.ServerReflectionRequest.self,
        StandardServices.ExtensionRequest.self,
        StandardServices.ServerReflectionResponse.self,
        StandardServices.FileDescriptorResponse.self,
        StandardServices.ExtensionNumberResponse.self,
        StandardServices.ListServiceResponse.self,
        StandardServices.ServiceResponse.self,
        StandardServices.ErrorResponse.self,
        InteropService.Empty.self,
        InteropService.BoolValue.self,
        InteropService.Payload.self,
        InteropService.EchoStatus.self,
        InteropService.SimpleRequest.self,
        InteropService.SimpleResponse.self,
        InteropService.StreamingInputCallRequest.self,
        InteropService.StreamingInputCallResponse.self,
        InteropService.ResponseParameters.self,
        InteropService.StreamingOutputCallRequest.self,
        InteropService.StreamingOutputCallResponse.self,
    ]

    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        let type = Self.messages[Int(input.byte()) % Self.messages.count]
        Self.roundTrip(type, input.rest)
    }

    static func roundTrip<Message: ProtoMessage>(_ type: Message.Type, _ bytes: UnsafeRawBufferPointer) {
        guard let message = try? Message(serializedBuffer: bytes) else { return }
        let encoded = message.serializedBytes()
        let again: Message
        do {
            again = try Message(serializedBytes: encoded)
        } catch {
            preconditionFailure("\(Message.protoMessageName): re-encoded message does not decode: \(error)")
        }
        precondition(again.serializedBytes() == encoded, "\(Message.protoMessageName): encoding does not round-trip")
    }

    static var seeds: [[UInt8]] {
        func seed(_ message: some ProtoMessage) -> [UInt8] {
            let index = Self.messages.firstIndex { $0 == type(of: message) }!
            return [UInt8(index)] + message.serializedBytes()
        }
        var session = SessionAPI.Session()
        session.sessionID = "ses_1"
        session.jobID = "job_1"
        session.status = .analyzed
        session.createdAt = ProtoTimestamp(seconds: 1_773_655_200, nanos: 5)
        session.durationSeconds = -3
        session.allowedActions = ["confirm", "get"]
        var note = UpdateNotesRequest.NoteUpdate()
        note.noteID = "n1"
        note.content = "é😀"
        var notes = UpdateNotesRequest()
        notes.sessionID = "ses_1"
        notes.notes = [note, note]
        var create = CreateSessionRequest()
        create.jobID = "job_1"
        create.testerID = "user_1"
        create.variant = "A"
        return [seed(session), seed(notes), seed(create), seed(HealthCheckRequest()), seed(SimpleRequest())]
    }
}
