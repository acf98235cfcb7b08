/// Well-known .proto files that schemas import but that we do not generate.
///
/// Only the declarations protogen needs are written here: `Timestamp` (mapped to ProtoWire's
/// `ProtoTimestamp`) and the option messages that custom options extend.
enum BuiltinFiles {
    static let sources: [String: String] = [
        "google/protobuf/timestamp.proto": """
        syntax = "proto3";
        package google.protobuf;
        message Timestamp {
          int64 seconds = 1;
          int32 nanos = 2;
        }
        """,
        "google/protobuf/descriptor.proto": """
        syntax = "proto3";
        package google.protobuf;
        message FileOptions {}
        message MessageOptions {}
        message FieldOptions {}
        message OneofOptions {}
        message EnumOptions {}
        message EnumValueOptions {}
        message ServiceOptions {}
        message MethodOptions {}
        """,
    ]

    /// Swift types that stand in for well-known messages.
    static let swiftTypes: [String: String] = [
        "google.protobuf.Timestamp": "ProtoTimestamp",
    ]
}
