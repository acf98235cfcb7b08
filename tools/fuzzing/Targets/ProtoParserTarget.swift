import ProtoGen

/// The generator's whole pipeline on one .proto file: lexer, parser, resolver, descriptor
/// encoder and Swift emitter (`ProtoGen.check(source:)`). Errors are fine; crashes are not.
enum ProtoParserTarget {
    @Sendable static func run(_ bytes: UnsafeRawBufferPointer) {
        try? ProtoGen.check(source: String(decoding: bytes, as: UTF8.self))
    }

    static var seeds: [[UInt8]] {
        [
            """
            syntax = "proto3";
            package fuzz.v1;
            import "google/protobuf/timestamp.proto";
            enum Color { COLOR_UNSPECIFIED = 0; COLOR_RED = 1; }
            message Item {
              string id = 1 [json_name = "itemId"];
              repeated int64 counts = 2;
              map<string, Item> children = 3;
              optional double score = 4;
              oneof choice { bytes raw = 5; Color color = 6; }
              google.protobuf.Timestamp at = 7;
              message Inner { reserved 2, 15 to 20; sint32 x = 1; }
              Inner inner = 8;
            }
            service Items { rpc Get(Item) returns (Item); rpc Watch(Item) returns (stream Item); }
            """,
            """
            syntax = "proto3";
            package a;
            // comment
            /* block */
            message M { fixed32 a = 1; sfixed64 b = 2; float c = 3; bool d = 4; uint32 e = 536870911; }
            """,
        ].map { Array($0.utf8) }
    }
}
