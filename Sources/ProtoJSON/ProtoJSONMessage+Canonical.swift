import ServiceErrors

/// protobuf's canonical JSON mapping (ProtoJSON, https://protobuf.dev/programming-guides/json/),
/// the body format of Connect's `application/json` codec.
extension ProtoJSONMessage {
    /// Writes the message as an object in the canonical mapping.
    package func writeCanonicalJSON(to writer: inout JSONWriter) {
        writer.beginObject()
        self.writeCanonicalJSONMembers(to: &writer)
        writer.endObject()
    }

    /// The message as a compact JSON document in the canonical mapping.
    package func canonicalJSONBytes() -> [UInt8] {
        var writer = JSONWriter()
        self.writeCanonicalJSON(to: &writer)
        return writer.bytes
    }

    /// Decodes a canonical JSON document; throws `invalidArgument` listing every offending field.
    ///
    /// The REST decoder already reads everything the canonical mapping writes (proto or JSON
    /// names, 64-bit integers as strings or numbers, full enum names or numbers, Timestamps with
    /// fractions and offsets, `null` as the default), so both mappings share it.
    package init(canonicalJSONBytes bytes: [UInt8]) throws(ServiceError) {
        try self.init(jsonBytes: bytes)
    }
}
