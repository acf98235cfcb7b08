import HTTPMessages
import Testing

/// `HTTPRequest.path` cuts the target at its first `?`, over the target's bytes.
@Suite("A request's path")
struct HTTPRequestPathTests {
    @Test("the path is the target up to its first ?, whatever the target's length or letters", arguments: [
        ("/", "/"), ("/api/sessions", "/api/sessions"), ("/api/sessions?limit=5", "/api/sessions"),
        ("/a?b?c", "/a"), ("?", ""), ("", ""), ("/x?", "/x"),
        ("/sessions.v1.SessionService/GetSession?encoding=proto&base64=1&message=CgVzZXNzXzE",
         "/sessions.v1.SessionService/GetSession"),
        ("/caf\u{E9}/\u{1F600}?q=\u{E9}", "/caf\u{E9}/\u{1F600}"),
        (String(repeating: "/segment", count: 200) + "?tail", String(repeating: "/segment", count: 200)),
    ] as [(String, String)])
    func pathWhenTargetHasQuery(_ target: String, _ path: String) {
        let request = HTTPRequest(method: "GET", target: target, headers: [], body: [], peer: nil)
        #expect(request.path == path[...])
    }
}
