import ServiceErrors
import Testing

@testable import HTTP2Transport

/// One test per transition of a gRPC call's state machine, legal and illegal.
@Suite("GRPCServerStreamState")
struct GRPCServerStreamStateTests {
    typealias State = GRPCServerStreamState

    static func unary(message: Bool = false) -> State {
        var state = State()
        _ = state.headersReceived(streamingRequest: false, refusal: nil)
        if message { _ = state.messageReceived(methodName: "Get") }
        return state
    }

    static func streaming() -> State {
        var state = State()
        _ = state.headersReceived(streamingRequest: true, refusal: nil)
        return state
    }

    static func handlingUnary() -> State {
        var state = Self.unary(message: true)
        _ = state.requestEnded(methodName: "Get", wholeMessagesWaiting: false, partialMessage: false)
        return state
    }

    static func closed() -> State {
        var state = State()
        _ = state.headersReceived(streamingRequest: false, refusal: ServiceError(.unauthenticated, "no"))
        return state
    }

    // MARK: headers

    @Test("a single-message request waits for its message; nothing starts yet")
    func headersReceivedWhenIdle() {
        var state = State()
        #expect(state.headersReceived(streamingRequest: false, refusal: nil) == [])
        #expect(state.phase == .receiving(message: false))
    }

    @Test("a streaming request's handler starts with the headers")
    func headersReceivedWhenIdleStreaming() {
        var state = State()
        #expect(state.headersReceived(streamingRequest: true, refusal: nil) == [.startHandler])
        #expect(state.phase == .receiving(message: false))
    }

    @Test("refused headers (authentication) end the call Trailers-Only before any DATA is taken")
    func headersReceivedWhenRefused() {
        var state = State()
        let refusal = ServiceError(.unauthenticated, "missing bearer token")
        #expect(state.headersReceived(streamingRequest: true, refusal: refusal) == [.sendStatus(refusal), .dropRequest])
        #expect(state.isClosed)
        #expect(!state.headersSent)
    }

    @Test("a second header block for the same call changes nothing")
    func headersReceivedWhenReceiving() {
        var state = Self.unary()
        #expect(state.headersReceived(streamingRequest: true, refusal: nil) == [])
        #expect(state.phase == .receiving(message: false))
    }

    // MARK: messages

    @Test("the one message of a unary request is kept")
    func messageReceivedWhenWaitingForIt() {
        var state = Self.unary()
        #expect(state.messageReceived(methodName: "Get") == [])
        #expect(state.phase == .receiving(message: true))
    }

    @Test("a second message for a unary method ends the call UNIMPLEMENTED")
    func messageReceivedWhenMessageHeld() {
        var state = Self.unary(message: true)
        #expect(state.messageReceived(methodName: "Get")
            == [.sendStatus(ServiceError(.unimplemented, "Get takes one request message")), .dropRequest])
        #expect(state.isClosed)
    }

    @Test("streaming requests take any number of messages")
    func messageReceivedWhenStreaming() {
        var state = Self.streaming()
        #expect(state.messageReceived(methodName: "Chat") == [])
        #expect(state.messageReceived(methodName: "Chat") == [])
        #expect(state.phase == .receiving(message: false))
    }

    @Test("messages before the headers, after the end or after close are ignored", arguments: [0, 1, 2])
    func messageReceivedWhenNotReceiving(which: Int) {
        var state = [State(), Self.handlingUnary(), Self.closed()][which]
        let before = state.phase
        #expect(state.messageReceived(methodName: "Get") == [])
        #expect(state.phase == before)
    }

    // MARK: end of request

    @Test("the end of a unary request with its message starts the handler")
    func requestEndedWhenMessageHeld() {
        var state = Self.unary(message: true)
        #expect(state.requestEnded(methodName: "Get", wholeMessagesWaiting: false, partialMessage: false) == [.startHandler])
        #expect(state.phase == .handling)
    }

    @Test("a unary request that ends without a message is UNIMPLEMENTED")
    func requestEndedWhenNoMessage() {
        var state = Self.unary()
        #expect(state.requestEnded(methodName: "Get", wholeMessagesWaiting: false, partialMessage: false)
            == [.sendStatus(ServiceError(.unimplemented, "Get needs one request message, got none")), .dropRequest])
    }

    @Test("a request that ends inside a message is INTERNAL; a running handler is cancelled")
    func requestEndedWhenPartial() {
        var unary = Self.unary()
        #expect(unary.requestEnded(methodName: "Get", wholeMessagesWaiting: false, partialMessage: true)
            == [.sendStatus(ServiceError(.internal, "request ended inside a message")), .dropRequest])
        var streaming = Self.streaming()
        #expect(streaming.requestEnded(methodName: "Chat", wholeMessagesWaiting: false, partialMessage: true)
            == [.cancelHandler, .sendStatus(ServiceError(.internal, "request ended inside a message")), .dropRequest])
    }

    @Test("a streaming request's end finishes the handler's input")
    func requestEndedWhenStreaming() {
        var state = Self.streaming()
        #expect(state.requestEnded(methodName: "Chat", wholeMessagesWaiting: false, partialMessage: false) == [.finishInput])
        #expect(state.phase == .handling)
    }

    @Test("with whole messages still waiting for the handler's queue, the input ends once they are handed over")
    func requestEndedWhenMessagesWait() {
        var state = Self.streaming()
        #expect(state.requestEnded(methodName: "Chat", wholeMessagesWaiting: true, partialMessage: true) == [])
        #expect(state.phase == .draining)
        #expect(state.inputDrained(partialMessage: false) == [.finishInput])
        #expect(state.phase == .handling)
    }

    @Test("a drained request that leaves half a message is INTERNAL")
    func inputDrainedWhenPartial() {
        var state = Self.streaming()
        _ = state.requestEnded(methodName: "Chat", wholeMessagesWaiting: true, partialMessage: true)
        #expect(state.inputDrained(partialMessage: true)
            == [.cancelHandler, .sendStatus(ServiceError(.internal, "request ended inside a message")), .dropRequest])
    }

    @Test("draining only means something while draining", arguments: [0, 1, 2])
    func inputDrainedWhenNotDraining(which: Int) {
        var state = [Self.streaming(), Self.handlingUnary(), Self.closed()][which]
        #expect(state.inputDrained(partialMessage: false) == [])
    }

    @Test("a second end of request (trailers after END_STREAM) changes nothing")
    func requestEndedWhenHandling() {
        var state = Self.handlingUnary()
        #expect(state.requestEnded(methodName: "Get", wholeMessagesWaiting: false, partialMessage: false) == [])
        #expect(state.phase == .handling)
    }

    // MARK: handler output

    @Test("the first message sends the headers first, later ones only themselves")
    func handlerSentWhenHandling() {
        var state = Self.handlingUnary()
        #expect(state.handlerSent() == [.sendHeaders, .sendMessage])
        #expect(state.handlerSent() == [.sendMessage])
        #expect(state.headersSent)
    }

    @Test("a streaming handler may answer while its request still arrives")
    func handlerSentWhenReceiving() {
        var state = Self.streaming()
        #expect(state.handlerSent() == [.sendHeaders, .sendMessage])
    }

    @Test("a message sent after the call ended, or before any handler started, is refused", arguments: [0, 1, 2])
    func handlerSentWhenNoHandler(which: Int) {
        var state = [State(), Self.unary(message: true), Self.closed()][which]
        #expect(state.handlerSent() == [.refuseMessage])
    }

    @Test("a unary reply goes out with headers and OK; a streaming return sends OK")
    func handlerReturnedWhenHandling() {
        var unary = Self.handlingUnary()
        #expect(unary.handlerReturned(reply: true, error: nil) == [.sendHeaders, .sendMessage, .sendStatus(nil), .dropRequest])
        #expect(unary.isClosed)
        var streaming = Self.streaming()
        _ = streaming.handlerSent()
        #expect(streaming.handlerReturned(reply: false, error: nil) == [.sendStatus(nil), .dropRequest])
    }

    @Test("a failing handler ends the call with its error, without cancelling itself")
    func handlerReturnedWhenFailed() {
        var state = Self.handlingUnary()
        let error = ServiceError(.notFound, "no session")
        #expect(state.handlerReturned(reply: false, error: error) == [.sendStatus(error), .dropRequest])
    }

    @Test("a handler that returns after the call ended is ignored")
    func handlerReturnedWhenClosed() {
        var state = Self.handlingUnary()
        _ = state.deadlineExpired()
        #expect(state.handlerReturned(reply: true, error: nil) == [])
        var idle = State()
        #expect(idle.handlerReturned(reply: true, error: nil) == [])
    }

    // MARK: deadline, failures, resets

    @Test("the deadline cancels a running handler and ends the call DEADLINE_EXCEEDED")
    func deadlineExpiredWhenHandling() {
        var state = Self.handlingUnary()
        #expect(state.deadlineExpired()
            == [.cancelHandler, .sendStatus(ServiceError(.deadlineExceeded, "the deadline passed")), .dropRequest])
        #expect(state.deadlineExpired() == [])
    }

    @Test("the deadline before the handler started only ends the call")
    func deadlineExpiredWhenReceiving() {
        var state = Self.unary()
        #expect(state.deadlineExpired() == [.sendStatus(ServiceError(.deadlineExceeded, "the deadline passed")), .dropRequest])
    }

    @Test("an unreadable request ends the call with the reader's error")
    func requestFailedWhenReceiving() {
        var state = Self.streaming()
        let error = ServiceError(.resourceExhausted, "message too large")
        #expect(state.requestFailed(error) == [.cancelHandler, .sendStatus(error), .dropRequest])
        #expect(state.requestFailed(error) == [])
    }

    @Test("a reset cancels the handler and sends nothing", arguments: [true, false])
    func streamResetWhenOpen(started: Bool) {
        var state = started ? Self.handlingUnary() : Self.unary()
        #expect(state.streamReset() == (started ? [.cancelHandler, .dropRequest] : [.dropRequest]))
        #expect(state.isClosed)
    }

    @Test("a reset after the call ended changes nothing")
    func streamResetWhenClosed() {
        var state = Self.closed()
        #expect(state.streamReset() == [])
    }
}
