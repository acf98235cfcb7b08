import ProtoJSON
import ServiceErrors

/// The documented error envelope, shared by every HTTP reply that reports an error: the gateway's
/// and the transport's own (body too large, malformed request, no such path).
extension HTTPResponse {
    /// `{"success": false, "data": null, "error": {"code", "message", "details"}, "metadata": null}`
    /// with the error's HTTP status (`ServiceError.Code.httpStatus`) unless `status` names an
    /// HTTP-level one (413 for a body too large), and, for missing or invalid credentials,
    /// `WWW-Authenticate`. `codeName` replaces the gRPC status name for an HTTP-level error that
    /// has none of its own (`UNSUPPORTED_MEDIA_TYPE` for 415).
    package static func error(_ error: ServiceError, status: Int? = nil, codeName: String? = nil) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("content-type", "application/json; charset=utf-8")]
        if error.code == .unauthenticated { headers.append(("www-authenticate", #"Bearer realm="sessions""#)) }
        return HTTPResponse(
            status: status ?? error.code.httpStatus,
            headers: headers,
            body: Self.envelope(error, codeName: codeName)
        )
    }

    /// A failure: the gRPC status name (or `codeName`), the message and every field violation.
    package static func envelope(_ error: ServiceError, codeName: String? = nil) -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.beginObject()
        writer.key("success")
        writer.bool(false)
        writer.key("data")
        writer.null()
        writer.key("error")
        writer.beginObject()
        writer.key("code")
        writer.string(codeName ?? error.code.name)
        writer.key("message")
        writer.string(error.message)
        writer.key("details")
        writer.fieldViolations(error.fieldViolations)
        writer.endObject()
        writer.key("metadata")
        writer.null()
        writer.endObject()
        return writer.bytes
    }
}
