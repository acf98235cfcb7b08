/// One token of the protobuf language (protobuf language spec, "Lexical elements").
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case identifier
        case integer
        case float
        case string
        case symbol
    }

    var kind: Kind
    /// Identifiers, numbers and symbols as written; strings with escapes resolved.
    var text: String
    var location: SourceLocation
}

/// Splits .proto source into tokens, skipping whitespace and comments.
enum Lexer {
    static func tokenize(_ source: String, file: String) throws(ProtoGenError) -> [Token] {
        let bytes = Array(source.utf8)
        var tokens: [Token] = []
        var index = 0
        var line = 1
        var lineStart = 0

        func location(_ at: Int) -> SourceLocation {
            SourceLocation(file: file, line: line, column: at - lineStart + 1)
        }

        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"):
                index += 1
                line += 1
                lineStart = index
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                index += 1
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "/"):
                while index < bytes.count && bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                let start = location(index)
                index += 2
                while true {
                    guard index + 1 < bytes.count else { throw ProtoGenError("unterminated comment", at: start) }
                    if bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/") {
                        index += 2
                        break
                    }
                    if bytes[index] == UInt8(ascii: "\n") {
                        line += 1
                        lineStart = index + 1
                    }
                    index += 1
                }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let start = location(index)
                let (text, next) = try Self.string(bytes, from: index, at: start)
                tokens.append(Token(kind: .string, text: text, location: start))
                index = next
            case _ where Self.isLetter(byte):
                let start = index
                while index < bytes.count && (Self.isLetter(bytes[index]) || Self.isDigit(bytes[index])) { index += 1 }
                tokens.append(Token(kind: .identifier, text: Self.text(bytes[start..<index]), location: location(start)))
            case _ where Self.isDigit(byte) || (byte == UInt8(ascii: ".") && index + 1 < bytes.count
                && Self.isDigit(bytes[index + 1])):
                let start = index
                var isFloat = false
                while index < bytes.count {
                    let c = bytes[index]
                    if Self.isDigit(c) || Self.isLetter(c) {
                        // Exponent signs belong to the number: 1e-5.
                        if (c == UInt8(ascii: "e") || c == UInt8(ascii: "E")) && !Self.isHex(bytes[start..<index]) {
                            isFloat = true
                            if index + 1 < bytes.count && (bytes[index + 1] == UInt8(ascii: "-")
                                || bytes[index + 1] == UInt8(ascii: "+")) {
                                index += 1
                            }
                        }
                        index += 1
                    } else if c == UInt8(ascii: ".") {
                        isFloat = true
                        index += 1
                    } else {
                        break
                    }
                }
                let text = Self.text(bytes[start..<index])
                tokens.append(Token(kind: isFloat ? .float : .integer, text: text, location: location(start)))
            default:
                tokens.append(Token(kind: .symbol, text: String(UnicodeScalar(byte)), location: location(index)))
                index += 1
            }
        }
        return tokens
    }

    private static func isLetter(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
            || c == UInt8(ascii: "_")
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private static func isHex(_ prefix: ArraySlice<UInt8>) -> Bool {
        prefix.count >= 2 && prefix[prefix.startIndex] == UInt8(ascii: "0")
            && (prefix[prefix.startIndex + 1] == UInt8(ascii: "x") || prefix[prefix.startIndex + 1] == UInt8(ascii: "X"))
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a quoted string literal with C-style escapes; returns its value and the next index.
    private static func string(
        _ bytes: [UInt8],
        from start: Int,
        at location: SourceLocation
    ) throws(ProtoGenError) -> (String, Int) {
        let quote = bytes[start]
        var value: [UInt8] = []
        var index = start + 1
        while true {
            guard index < bytes.count, bytes[index] != UInt8(ascii: "\n") else {
                throw ProtoGenError("unterminated string literal", at: location)
            }
            let c = bytes[index]
            if c == quote { return (String(decoding: value, as: UTF8.self), index + 1) }
            guard c == UInt8(ascii: "\\") else {
                value.append(c)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { throw ProtoGenError("unterminated string literal", at: location) }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "n"): value.append(0x0A)
            case UInt8(ascii: "t"): value.append(0x09)
            case UInt8(ascii: "r"): value.append(0x0D)
            case UInt8(ascii: "a"): value.append(0x07)
            case UInt8(ascii: "b"): value.append(0x08)
            case UInt8(ascii: "f"): value.append(0x0C)
            case UInt8(ascii: "v"): value.append(0x0B)
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "?"): value.append(escape)
            case UInt8(ascii: "x"), UInt8(ascii: "X"):
                var digits = 0
                var code: UInt32 = 0
                while digits < 2, index < bytes.count, let d = hexValue(bytes[index]) {
                    code = code * 16 + d
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { throw ProtoGenError("bad \\x escape", at: location) }
                value.append(UInt8(code))
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var code = UInt32(escape - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, index < bytes.count, bytes[index] >= UInt8(ascii: "0"),
                    bytes[index] <= UInt8(ascii: "7")
                {
                    code = code * 8 + UInt32(bytes[index] - UInt8(ascii: "0"))
                    digits += 1
                    index += 1
                }
                value.append(UInt8(truncatingIfNeeded: code))
            default:
                throw ProtoGenError("unknown escape \\\(UnicodeScalar(escape))", at: location)
            }
        }
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(c - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(c - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(c - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
