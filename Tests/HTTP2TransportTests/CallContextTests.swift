import RPCCore
import Testing

/// `CallContext` keeps its fields behind one reference, copied on a shared write: these pin that
/// it still behaves as a value, however it is copied, changed or handed across tasks.
@Suite("A call's context is a value")
struct CallContextTests {
    static let method = RPCMethod(service: "sessions.v1.SessionService", name: "GetSession", kind: .unary)

    static func context() -> CallContext {
        var metadata = Metadata()
        metadata.add("x-request-id", "r-1")
        return CallContext(method: Self.method, metadata: metadata, requestID: "r-1", peer: "127.0.0.1:1")
    }

    @Test("a change to a copy leaves the original as it was, field by field")
    func changeLeavesOriginalWhenCopied() {
        let original = Self.context()
        var copy = original
        copy.caller = Caller(subject: "u1", role: "tester", org: "o1")
        copy.metadata.add("authorization", "Bearer x")
        copy.requestID = "r-2"
        copy.peer = nil
        copy.requestCompressed = true
        copy.deadline = .now
        copy.method = RPCMethod(service: "sessions.v1.SessionService", name: "ListSessions", kind: .unary)

        #expect(original.caller == nil)
        #expect(original.metadata["authorization"] == nil && original.metadata["x-request-id"] == "r-1")
        #expect(original.requestID == "r-1" && original.peer == "127.0.0.1:1")
        #expect(!original.requestCompressed && original.deadline == nil)
        #expect(original.method == Self.method)

        #expect(copy.caller == Caller(subject: "u1", role: "tester", org: "o1"))
        #expect(copy.metadata["authorization"] == "Bearer x" && copy.metadata["x-request-id"] == "r-1")
        #expect(copy.requestID == "r-2" && copy.peer == nil && copy.requestCompressed && copy.deadline != nil)
        #expect(copy.method.name == "ListSessions")
    }

    @Test("the original changed after copying leaves the copy as it was")
    func originalChangeLeavesCopyWhenCopied() {
        var original = Self.context()
        let copy = original
        original.caller = Caller(subject: "u2", role: "researcher", org: "o2")
        original.requestCompressed = true
        #expect(copy.caller == nil && !copy.requestCompressed)
        #expect(original.caller?.subject == "u2" && original.requestCompressed)
    }

    @Test("changed in place, through inout as interceptors do and nested as metadata is, when nothing shares it")
    func changeInPlaceWhenUnshared() {
        var context = Self.context()
        let box = context.storageIdentity
        func intercept(_ context: inout CallContext) { context.caller = Caller(subject: "u3", role: "tester", org: "o3") }
        intercept(&context)
        context.metadata.add("x-added", "1")
        context.requestCompressed = true
        #expect(context.storageIdentity == box)
        #expect(context.caller?.subject == "u3" && context.metadata["x-added"] == "1" && context.requestCompressed)
        #expect(context.requestID == "r-1")
    }

    @Test("a change through an optional on a class, after a copy went to the handler, copies the fields once")
    func changeCopiesOnceWhenSharedThroughOptional() {
        final class Holder { var context: CallContext? }
        let holder = Holder()
        holder.context = Self.context()
        let handed = holder.context!  // what startHandler gives the handler
        let box = handed.storageIdentity
        holder.context?.requestCompressed = true
        let copied = holder.context!.storageIdentity
        #expect(copied != box)
        holder.context?.requestID = "r-9"
        #expect(holder.context!.storageIdentity == copied)  // unshared again: no second copy
        #expect(!handed.requestCompressed && handed.requestID == "r-1")
        #expect(holder.context!.requestCompressed && holder.context!.requestID == "r-9")
    }

    @Test("the response metadata is the call's one object in every copy")
    func responseSharedWhenCopied() {
        let original = Self.context()
        var copy = original
        copy.requestID = "r-3"  // the fields are copied; the response object is not
        copy.response.headers.add("ratelimit-limit", "10")
        #expect(original.response === copy.response)
        #expect(original.response.headers["ratelimit-limit"] == "10")
    }

    @Test("copies handed to concurrent tasks change only their own")
    func concurrentChangesWhenCopiedAcrossTasks() async {
        let shared = Self.context()
        let subjects = await withTaskGroup(of: String?.self, returning: [String?].self) { group in
            for index in 0..<64 {
                group.addTask {
                    var mine = shared
                    for round in 0..<200 {
                        mine.caller = Caller(subject: "u\(index)-\(round)", role: "tester", org: "o")
                        mine.metadata.add("x-round", String(round))
                    }
                    return mine.caller?.subject
                }
            }
            var all: [String?] = []
            for await subject in group { all.append(subject) }
            return all
        }
        #expect(Set(subjects.compactMap { $0 }) == Set((0..<64).map { "u\($0)-199" }))
        #expect(shared.caller == nil && shared.metadata["x-round"] == nil)
    }
}
