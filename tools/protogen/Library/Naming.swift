/// Name conversions between protobuf and Swift.
enum Naming {
    /// Words that Swift code spells in one case (STYLE.md: `sessionID`, `HTTP2Session`).
    private static let acronyms: Set<String> = ["id", "ids", "url", "uri", "http", "json", "grpc", "uuid", "api", "jwt"]

    private static let swiftKeywords: Set<String> = [
        "associatedtype", "class", "deinit", "enum", "extension", "fileprivate", "func", "import", "init", "inout",
        "internal", "let", "open", "operator", "private", "precedencegroup", "protocol", "public", "rethrows",
        "static", "struct", "subscript", "typealias", "var", "break", "case", "catch", "continue", "default",
        "defer", "do", "else", "fallthrough", "for", "guard", "if", "in", "repeat", "return", "throw", "switch",
        "where", "while", "as", "false", "is", "nil", "self", "Self", "super", "throws", "true", "try", "package",
        "Type", "Protocol", "any", "some", "await", "async",
    ]

    /// protoc's `ToJsonName`: drop underscores, upper-case the letter after each.
    static func protocJSONName(_ name: String) -> String {
        var result = ""
        var capitalizeNext = false
        for character in name {
            if character == "_" {
                capitalizeNext = true
            } else if capitalizeNext {
                result += character.uppercased()
                capitalizeNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// `string_map` → `StringMap` (protoc's map entry naming, also used for Swift type names).
    static func upperCamel(_ name: String) -> String {
        var result = ""
        var capitalizeNext = true
        for character in name {
            if character == "_" {
                capitalizeNext = true
            } else if capitalizeNext {
                result += character.uppercased()
                capitalizeNext = false
            } else {
                result.append(character)
            }
        }
        return result
    }

    /// `session_id` → `sessionID`, `http_rule` → `httpRule`, `max_url` → `maxURL`.
    static func lowerCamel(_ name: String) -> String {
        let words = name.split(separator: "_").map { String($0) }
        guard let first = words.first else { return name }
        var result = first.lowercased() == first ? first : Self.lowerFirst(first)
        for word in words.dropFirst() {
            if Self.acronyms.contains(word.lowercased()) {
                result += word.uppercased()
            } else {
                result += word.prefix(1).uppercased() + word.dropFirst()
            }
        }
        return result
    }

    /// `SESSION_STATUS_ACTIVE` in `SessionStatus` → `active`.
    static func enumCaseName(_ value: String, enumName: String, allValues: [String]) -> String {
        let prefix = Self.screamingSnake(enumName) + "_"
        var stripped = value
        if allValues.allSatisfy({ $0.hasPrefix(prefix) && $0.count > prefix.count }) {
            stripped = String(value.dropFirst(prefix.count))
        }
        if let first = stripped.first, first.isNumber {
            stripped = value
        }
        return Self.lowerCamel(stripped.lowercased())
    }

    /// `SessionStatus` → `SESSION_STATUS`.
    static func screamingSnake(_ name: String) -> String {
        var result = ""
        var previousWasLower = false
        for character in name {
            if character.isUppercase && previousWasLower { result += "_" }
            result += character.uppercased()
            previousWasLower = character.isLowercase || character.isNumber
        }
        return result
    }

    /// A Swift identifier, back-quoted when it is a keyword.
    static func swiftIdentifier(_ name: String) -> String {
        Self.swiftKeywords.contains(name) ? "`\(name)`" : name
    }

    private static func lowerFirst(_ word: String) -> String {
        word.prefix(1).lowercased() + word.dropFirst()
    }
}
