import ProtoJSON
import ServiceErrors

/// The documented envelope: `{"success", "data", "error", "metadata"}`, always all four.
enum RESTEnvelope {
    /// A success: `data` (and `metadata`, when the route splits its response) from the reply.
    static func success(_ reply: any ProtoJSONMessage, bodyField: Int) -> [UInt8] {
        var writer = JSONWriter(capacity: 512)
        writer.beginObject()
        writer.key("success")
        writer.bool(true)
        writer.key("data")
        if bodyField == 0 {
            reply.writeJSON(to: &writer)
        } else {
            reply.writeJSONValue(ofField: bodyField, to: &writer)
        }
        writer.key("error")
        writer.null()
        writer.key("metadata")
        if bodyField == 0 {
            writer.null()
        } else {
            writer.beginObject()
            reply.writeJSONMembers(to: &writer, excluding: bodyField)
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }
}
