import ProtoWire

/// The cross-check cases, built with our generated code; `CrossCheck/crosscheck.py` builds the
/// same cases with the official library, name for name.
enum EverythingCases {
    /// Built once: each parameterized case looks its message up here.
    static let all: [String: Everything] = {
        var cases: [String: Everything] = [:]
        cases["empty"] = Everything()

        var max = Scalars()
        max.fDouble = 1.7976931348623157e308
        max.fFloat = 3.4028234663852886e38
        max.fInt32 = .max
        max.fInt64 = .max
        max.fUint32 = .max
        max.fUint64 = .max
        max.fSint32 = .max
        max.fSint64 = .max
        max.fFixed32 = .max
        max.fFixed64 = .max
        max.fSfixed32 = .max
        max.fSfixed64 = .max
        max.fBool = true
        max.fString = "hello"
        max.fBytes = [0x00, 0xFF]
        max.fColor = .green
        cases["scalars_max"] = Everything(scalars: max)

        var min = Scalars()
        min.fDouble = -0.0
        min.fFloat = -1.5
        min.fInt32 = .min
        min.fInt64 = .min
        min.fUint32 = 1
        min.fUint64 = 1
        min.fSint32 = .min
        min.fSint64 = .min
        min.fFixed32 = 1
        min.fFixed64 = 1
        min.fSfixed32 = .min
        min.fSfixed64 = .min
        min.fColor = .negative
        cases["scalars_min"] = Everything(scalars: min)

        var small = Scalars()
        small.fDouble = .leastNonzeroMagnitude  // 5e-324
        small.fFloat = .leastNonzeroMagnitude  // 1.4e-45
        small.fInt32 = -1
        small.fInt64 = -1
        small.fSint32 = -1
        small.fSint64 = 1
        small.fString = " "
        cases["scalars_small"] = Everything(scalars: small)

        var infinity = Scalars()
        infinity.fDouble = .infinity
        infinity.fFloat = -.infinity
        cases["scalars_infinity"] = Everything(scalars: infinity)

        var unicode = Scalars()
        unicode.fString = "héllo wörld — 日本語 🎉 \u{0000} end"
        unicode.fBytes = Array(repeating: (0...255).map { UInt8($0) }, count: 4).flatMap { $0 }
        cases["strings_unicode"] = Everything(scalars: unicode)

        var long = Scalars()
        long.fString = String(repeating: "x", count: 100_000) + "é"
        cases["string_long"] = Everything(scalars: long)

        cases["repeated_empty"] = Everything(repeated: Repeated())

        var repeated = Repeated()
        repeated.rDouble = [0.0, -1.25, 1e300]
        repeated.rFloat = [0.5, -0.0]
        repeated.rInt32 = [0, -1, .max, .min]
        repeated.rInt64 = [0, .min, .max]
        repeated.rUint32 = [0, .max]
        repeated.rUint64 = [.max, 0]
        repeated.rSint32 = [-1, 1, .min]
        repeated.rSint64 = [.max, .min]
        repeated.rFixed32 = [7]
        repeated.rFixed64 = [.max]
        repeated.rSfixed32 = [-7]
        repeated.rSfixed64 = [.min]
        repeated.rBool = [true, false, true]
        repeated.rString = ["", "a", "日本"]
        repeated.rBytes = [[], [0x01, 0x02]]
        repeated.rColor = [.red, .unspecified, .negative]
        repeated.unpackedInt32 = [1, -1, 0]
        repeated.unpackedSint64 = [-5, 5]
        repeated.unpackedColor = [.green, .red]
        var first = Scalars()
        first.fInt32 = 1
        var third = Scalars()
        third.fString = "z"
        repeated.rMessage = [first, Scalars(), third]
        cases["repeated_values"] = Everything(repeated: repeated)

        var large = Repeated()
        large.rInt32 = Array(-5000..<5000)
        large.rString = (0..<1000).map { "item \($0)" }
        large.rDouble = (0..<2000).map { Double($0) / 3 }
        cases["repeated_large"] = Everything(repeated: large)

        cases["optionals_unset"] = Everything(optionals: Optionals())
        var defaults = Optionals()
        defaults.oInt32 = 0
        defaults.oString = ""
        defaults.oBool = false
        defaults.oColor = .unspecified
        defaults.oDouble = 0.0
        defaults.oBytes = []
        cases["optionals_set_to_defaults"] = Everything(optionals: defaults)
        var optionals = Optionals()
        optionals.oInt32 = -9
        optionals.oString = "s"
        optionals.oBool = true
        optionals.oColor = .red
        optionals.oDouble = 2.5
        optionals.oBytes = [0x00]
        cases["optionals_set"] = Everything(optionals: optionals)

        var maps = Maps()
        maps.stringToString["k"] = "v"
        maps.int32ToInt64[-1] = .min
        maps.uint64ToColor[.max] = .green
        var five = Scalars()
        five.fInt32 = 5
        maps.stringToMessage["m"] = five
        maps.boolToBytes[true] = [0x01]
        maps.sint32ToFixed64[-2] = .max
        cases["maps_single"] = Everything(maps: maps)

        var zero = Maps()
        zero.stringToString[""] = ""
        zero.int32ToInt64[0] = 0
        zero.stringToMessage[""] = Scalars()
        cases["maps_defaults"] = Everything(maps: zero)

        var many = Maps()
        for i in 0..<50 {
            many.stringToString["key\(i)"] = "value\(i)"
            many.int32ToInt64[Int32(i - 25)] = Int64(i * 1000)
            many.uint64ToColor[UInt64(i)] = .red
            var value = Scalars()
            value.fString = String(i)
            many.stringToMessage["m\(i)"] = value
        }
        many.boolToBytes[false] = []
        many.boolToBytes[true] = Array("t".utf8)
        cases["maps_many"] = Everything(maps: many)

        var nested = Everything.Nested()
        nested.label = "n"
        var inner = Everything.Nested.Inner()
        inner.values = [1, 2, 3]
        inner.blob = Array("b".utf8)
        nested.inner = inner
        nested.kind = .branch
        var withNested = Everything()
        withNested.nested = nested
        withNested.at = ProtoTimestamp(seconds: 1_773_655_200, nanos: 5)
        withNested.history = [
            ProtoTimestamp(seconds: -62_135_596_800), ProtoTimestamp(),
            ProtoTimestamp(seconds: 253_402_300_799, nanos: 999_999_999),
        ]
        var inOneof = Everything.Nested()
        inOneof.label = "in oneof"
        withNested.choice = .choiceNested(inOneof)
        cases["nested"] = withNested

        var fractions = Everything()
        fractions.at = ProtoTimestamp(seconds: 1_773_655_200, nanos: 500_000_000)
        fractions.history = [
            ProtoTimestamp(seconds: 1_773_655_200, nanos: 1000),
            ProtoTimestamp(seconds: 1_773_655_200, nanos: 120_000_000),
            ProtoTimestamp(seconds: -1, nanos: 123_456_789),
            ProtoTimestamp(seconds: 1_773_655_200),
        ]
        cases["timestamp_fractions"] = fractions

        var shortest = Scalars()
        shortest.fFloat = 0.1
        shortest.fDouble = 0.1
        var shortestRepeated = Repeated()
        shortestRepeated.rFloat = [16_777_216, 1.5e10, 100, 3.14159, -2.5e-38]
        shortestRepeated.rDouble = [1e15, 123_456_789.125, 1e-7]
        var floats = Everything(scalars: shortest)
        floats.repeated = shortestRepeated
        cases["floats_shortest"] = floats

        cases["oneof_text"] = Everything(choice: .choiceText("text"))
        cases["oneof_number_zero"] = Everything(choice: .choiceNumber(0))
        cases["oneof_color_zero"] = Everything(choice: .choiceColor(.unspecified))
        cases["oneof_empty_message"] = Everything(choice: .choiceNested(Everything.Nested()))

        var leaf = Scalars()
        leaf.fInt32 = 5
        var deep = Everything(scalars: leaf)
        for depth in stride(from: 4, through: 0, by: -1) {
            var scalars = Scalars()
            scalars.fInt32 = Int32(depth)
            var outer = Everything(scalars: scalars)
            outer.recursive = deep
            deep = outer
        }
        cases["recursive"] = deep

        var unknownEnum = Scalars()
        unknownEnum.fColor = .unrecognized(99)
        var unknownRepeated = Repeated()
        unknownRepeated.rColor = [.unrecognized(5), .unrecognized(-7)]
        unknownRepeated.unpackedColor = [.unrecognized(1000)]
        var withUnknownEnums = Everything(scalars: unknownEnum)
        withUnknownEnums.repeated = unknownRepeated
        cases["unknown_enum_values"] = withUnknownEnums
        return cases
    }()
}

extension Everything {
    init(scalars: Scalars) {
        self.init()
        self.scalars = scalars
    }

    init(repeated: Repeated) {
        self.init()
        self.repeated = repeated
    }

    init(optionals: Optionals) {
        self.init()
        self.optionals = optionals
    }

    init(maps: Maps) {
        self.init()
        self.maps = maps
    }

    init(choice: Choice) {
        self.init()
        self.choice = choice
    }
}
