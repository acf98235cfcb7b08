"""Cross-checks protogen's Swift code against the official protobuf implementation.

    crosscheck.py descriptors OUT   protoc's FileDescriptorProto of each schema file -> OUT/<file>.desc
    crosscheck.py builtin DIR       protoc's FileDescriptorProto of DIR/src/google/protobuf/descriptor.proto
                                    (protogen's built-in text, compiled alone) -> DIR/builtin.desc
    crosscheck.py write DIR         encode every case with the official library -> DIR/python/<case>.bin
    crosscheck.py check DIR         decode DIR/swift/<case>.bin, compare with our own cases
    crosscheck.py json-write DIR    every case in the canonical JSON mapping (json_format)
                                    -> DIR/python-json/<case>.json
    crosscheck.py json-check DIR    compare DIR/swift-json/<case>.json with ours as JSON values, and Parse it

The case set here must match EverythingCases.swift name for name; both sides check that.
"""
import json
import math
import os
import struct
import sys
import tempfile

from grpc_tools import protoc
import grpc_tools

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
TEST_ROOT = os.path.join(REPO, "Tests", "ProtoGenTests", "Schema")
SCHEMA_ROOT = os.path.join(REPO, "schema")
WELL_KNOWN = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
SCHEMAS = [
    (SCHEMA_ROOT, "sessions/v1/sessions.proto"),
    (SCHEMA_ROOT, "sessions/api/http.proto"),
    (TEST_ROOT, "protogen/test/v1/everything.proto"),
    (SCHEMA_ROOT, "grpc/health/v1/health.proto"),
    (SCHEMA_ROOT, "grpc/reflection/v1/reflection.proto"),
    (SCHEMA_ROOT, "grpc/testing/empty.proto"),
    (SCHEMA_ROOT, "grpc/testing/messages.proto"),
    (SCHEMA_ROOT, "grpc/testing/test.proto"),
]


def run_protoc(args):
    code = protoc.main(["protoc", f"-I{WELL_KNOWN}"] + args)
    if code != 0:
        sys.exit(f"protoc failed ({code}): {' '.join(args)}")


def descriptors(out):
    from google.protobuf import descriptor_pb2

    os.makedirs(out, exist_ok=True)
    for root, path in SCHEMAS:
        target = os.path.join(out, "set.pb")
        run_protoc([f"-I{root}", f"--descriptor_set_out={target}", path])
        files = descriptor_pb2.FileDescriptorSet()
        with open(target, "rb") as f:
            files.ParseFromString(f.read())
        (only,) = [fd for fd in files.file if fd.name == path]
        with open(os.path.join(out, path.replace("/", "_") + ".desc"), "wb") as f:
            f.write(only.SerializeToString())


def builtin(directory):
    from google.protobuf import descriptor_pb2

    path = "google/protobuf/descriptor.proto"
    target = os.path.join(directory, "set.pb")
    # Only the test's source directory is on the include path, so protoc reads our text, not its own.
    code = protoc.main(["protoc", f"-I{os.path.join(directory, 'src')}", f"--descriptor_set_out={target}", path])
    if code != 0:
        sys.exit(f"protoc failed ({code}) on the built-in {path}")
    files = descriptor_pb2.FileDescriptorSet()
    with open(target, "rb") as f:
        files.ParseFromString(f.read())
    (only,) = [fd for fd in files.file if fd.name == path]
    with open(os.path.join(directory, "builtin.desc"), "wb") as f:
        f.write(only.SerializeToString())


def load_module():
    gen = tempfile.mkdtemp(prefix="protogen-py-")
    run_protoc([f"-I{TEST_ROOT}", f"--python_out={gen}", "protogen/test/v1/everything.proto"])
    sys.path.insert(0, gen)
    from protogen.test.v1 import everything_pb2

    return everything_pb2


def cases(pb):
    E = pb.Everything
    S = pb.Scalars
    c = {}
    c["empty"] = E()
    c["scalars_max"] = E(scalars=S(
        f_double=1.7976931348623157e308, f_float=3.4028234663852886e38, f_int32=2**31 - 1, f_int64=2**63 - 1,
        f_uint32=2**32 - 1, f_uint64=2**64 - 1, f_sint32=2**31 - 1, f_sint64=2**63 - 1, f_fixed32=2**32 - 1,
        f_fixed64=2**64 - 1, f_sfixed32=2**31 - 1, f_sfixed64=2**63 - 1, f_bool=True, f_string="hello",
        f_bytes=b"\x00\xff", f_color=pb.COLOR_GREEN))
    c["scalars_min"] = E(scalars=S(
        f_double=-0.0, f_float=-1.5, f_int32=-(2**31), f_int64=-(2**63), f_uint32=1, f_uint64=1,
        f_sint32=-(2**31), f_sint64=-(2**63), f_fixed32=1, f_fixed64=1, f_sfixed32=-(2**31),
        f_sfixed64=-(2**63), f_color=pb.COLOR_NEGATIVE))
    c["scalars_small"] = E(scalars=S(f_double=5e-324, f_float=1.401298464324817e-45, f_int32=-1, f_int64=-1,
                                     f_sint32=-1, f_sint64=1, f_string=" "))
    c["scalars_infinity"] = E(scalars=S(f_double=math.inf, f_float=-math.inf))
    c["strings_unicode"] = E(scalars=S(f_string="héllo wörld — 日本語 🎉 \u0000 end",
                                       f_bytes=bytes(range(256)) * 4))
    c["string_long"] = E(scalars=S(f_string="x" * 100_000 + "é"))
    c["repeated_empty"] = E(repeated=pb.Repeated())
    r = pb.Repeated(
        r_double=[0.0, -1.25, 1e300], r_float=[0.5, -0.0], r_int32=[0, -1, 2**31 - 1, -(2**31)],
        r_int64=[0, -(2**63), 2**63 - 1], r_uint32=[0, 2**32 - 1], r_uint64=[2**64 - 1, 0],
        r_sint32=[-1, 1, -(2**31)], r_sint64=[2**63 - 1, -(2**63)], r_fixed32=[7], r_fixed64=[2**64 - 1],
        r_sfixed32=[-7], r_sfixed64=[-(2**63)], r_bool=[True, False, True], r_string=["", "a", "日本"],
        r_bytes=[b"", b"\x01\x02"], r_color=[pb.COLOR_RED, pb.COLOR_UNSPECIFIED, pb.COLOR_NEGATIVE],
        unpacked_int32=[1, -1, 0], unpacked_sint64=[-5, 5], unpacked_color=[pb.COLOR_GREEN, pb.COLOR_RED],
        r_message=[S(f_int32=1), S(), S(f_string="z")])
    c["repeated_values"] = E(repeated=r)
    c["repeated_large"] = E(repeated=pb.Repeated(r_int32=list(range(-5000, 5000)),
                                                  r_string=[f"item {i}" for i in range(1000)],
                                                  r_double=[i / 3 for i in range(2000)]))
    c["optionals_unset"] = E(optionals=pb.Optionals())
    c["optionals_set_to_defaults"] = E(optionals=pb.Optionals(o_int32=0, o_string="", o_bool=False,
                                                              o_color=pb.COLOR_UNSPECIFIED, o_double=0.0, o_bytes=b""))
    c["optionals_set"] = E(optionals=pb.Optionals(o_int32=-9, o_string="s", o_bool=True, o_color=pb.COLOR_RED,
                                                  o_double=2.5, o_bytes=b"\x00"))
    m = pb.Maps()
    m.string_to_string["k"] = "v"
    m.int32_to_int64[-1] = -(2**63)
    m.uint64_to_color[2**64 - 1] = pb.COLOR_GREEN
    m.string_to_message["m"].f_int32 = 5
    m.bool_to_bytes[True] = b"\x01"
    m.sint32_to_fixed64[-2] = 2**64 - 1
    c["maps_single"] = E(maps=m)
    z = pb.Maps()
    z.string_to_string[""] = ""
    z.int32_to_int64[0] = 0
    z.string_to_message[""].CopyFrom(S())
    c["maps_defaults"] = E(maps=z)
    many = pb.Maps()
    for i in range(50):
        many.string_to_string[f"key{i}"] = f"value{i}"
        many.int32_to_int64[i - 25] = i * 1000
        many.uint64_to_color[i] = pb.COLOR_RED
        many.string_to_message[f"m{i}"].f_string = str(i)
    many.bool_to_bytes[False] = b""
    many.bool_to_bytes[True] = b"t"
    c["maps_many"] = E(maps=many)
    nested = E.Nested(label="n", inner=E.Nested.Inner(values=[1, 2, 3], blob=b"b"), kind=E.Nested.KIND_BRANCH)
    c["nested"] = E(nested=nested, at={"seconds": 1773655200, "nanos": 5},
                    history=[{"seconds": -62135596800}, {}, {"seconds": 253402300799, "nanos": 999999999}],
                    choice_nested=E.Nested(label="in oneof"))
    c["timestamp_fractions"] = E(at={"seconds": 1773655200, "nanos": 500000000},
                                 history=[{"seconds": 1773655200, "nanos": 1000},
                                          {"seconds": 1773655200, "nanos": 120000000},
                                          {"seconds": -1, "nanos": 123456789}, {"seconds": 1773655200}])
    c["floats_shortest"] = E(scalars=S(f_float=0.1, f_double=0.1),
                             repeated=pb.Repeated(r_float=[16777216, 1.5e10, 100, 3.14159, -2.5e-38],
                                                  r_double=[1e15, 123456789.125, 1e-7]))
    c["oneof_text"] = E(choice_text="text")
    c["oneof_number_zero"] = E(choice_number=0)
    c["oneof_color_zero"] = E(choice_color=pb.COLOR_UNSPECIFIED)
    c["oneof_empty_message"] = E(choice_nested=E.Nested())
    deep = E(scalars=S(f_int32=5))
    for depth in range(4, -1, -1):
        deep = E(scalars=S(f_int32=depth), recursive=deep)
    c["recursive"] = deep
    c["unknown_enum_values"] = E(scalars=S(f_color=99), repeated=pb.Repeated(r_color=[5, -7],
                                                                             unpacked_color=[1000]))
    return c


def write_cases(directory, subdirectory, extension, encode):
    """Writes every case, encoded by `encode`, to DIR/<subdirectory>/<case><extension>, and the
    case names to DIR/cases.txt; returns the cases."""
    pb = load_module()
    out = os.path.join(directory, subdirectory)
    os.makedirs(out, exist_ok=True)
    all_cases = cases(pb)
    for name, message in all_cases.items():
        with open(os.path.join(out, name + extension), "wb") as f:
            f.write(encode(message))
    with open(os.path.join(directory, "cases.txt"), "w") as f:
        f.write("\n".join(sorted(all_cases)) + "\n")
    return all_cases


def report(names, failures):
    for failure in failures:
        print("FAIL", failure)
    print(f"{len(names) - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


def write(directory):
    all_cases = write_cases(directory, "python", ".bin", lambda message: message.SerializeToString(deterministic=True))
    # Unknown fields: a valid message followed by fields the schema does not declare.
    unknown = all_cases["nested"].SerializeToString() + bytes.fromhex(
        "f806 2a"            # field 111 varint 42
        "fa06 03 616263"     # field 111 length-delimited "abc"
        "fd06 01020304"      # field 111 fixed32
        "f906 0102030405060708"  # field 111 fixed64
        "fb06 0801 fc06"     # field 111 group containing field 1 varint 1
    )
    with open(os.path.join(directory, "python", "unknown_fields.bin"), "wb") as f:
        f.write(unknown)


def check(directory):
    pb = load_module()
    failures = []
    all_cases = cases(pb)
    swift_dir = os.path.join(directory, "swift")
    names = sorted(n[:-4] for n in os.listdir(swift_dir) if n.endswith(".bin"))
    expected_names = sorted(list(all_cases) + ["unknown_fields"])
    if names != expected_names:
        failures.append(f"case sets differ: swift={names} python={expected_names}")
    for name in names:
        with open(os.path.join(swift_dir, name + ".bin"), "rb") as f:
            data = f.read()
        decoded = pb.Everything()
        try:
            decoded.ParseFromString(data)
        except Exception as error:  # noqa: BLE001 - report every failure, not just the first
            failures.append(f"{name}: official library cannot parse Swift's bytes: {error}")
            continue
        if name == "unknown_fields":
            with open(os.path.join(directory, "python", name + ".bin"), "rb") as f:
                original = f.read()
            if decoded.SerializeToString() != original:
                failures.append(f"{name}: unknown fields were not preserved byte for byte")
            continue
        if decoded != all_cases[name]:
            failures.append(f"{name}: decodes to a different message:\n{decoded}\nexpected:\n{all_cases[name]}")
        ours = all_cases[name].SerializeToString(deterministic=True)
        if not name.startswith("maps_") and data != ours:
            failures.append(f"{name}: bytes differ\n swift  {data.hex()[:400]}\n python {ours.hex()[:400]}")
    report(names, failures)


def json_write(directory):
    from google.protobuf import json_format

    def encode(message):
        return json_format.MessageToJson(message, preserving_proto_field_name=False).encode()

    write_cases(directory, "python-json", ".json", encode)


def normalized(value, message_type):
    """A JSON value with float fields rounded to float32, so `0.1` and `0.10000000149011612` (both
    the same float) compare equal, and keys in their JSON-name spelling."""
    from google.protobuf import descriptor

    def single(item, field):
        if field.type == descriptor.FieldDescriptor.TYPE_FLOAT and isinstance(item, (int, float)):
            return struct.unpack("<f", struct.pack("<f", item))[0]
        if field.message_type is not None and field.message_type.full_name != "google.protobuf.Timestamp":
            return normalized(item, field.message_type)
        return item

    result = {}
    for key, item in value.items():
        field = message_type.fields_by_camelcase_name.get(key) or message_type.fields_by_name[key]
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entry_value = field.message_type.fields_by_name["value"]
            item = {k: single(v, entry_value) for k, v in item.items()}
        elif field.is_repeated:
            item = [single(v, field) for v in item]
        else:
            item = single(item, field)
        result[field.json_name] = item
    return result


def json_check(directory):
    from google.protobuf import json_format

    pb = load_module()
    failures = []
    all_cases = cases(pb)
    swift_dir = os.path.join(directory, "swift-json")
    names = sorted(n[:-5] for n in os.listdir(swift_dir) if n.endswith(".json"))
    if names != sorted(all_cases):
        failures.append(f"case sets differ: swift={names} python={sorted(all_cases)}")
    for name in names:
        with open(os.path.join(swift_dir, name + ".json")) as f:
            ours = f.read()
        official = json_format.MessageToJson(all_cases[name], preserving_proto_field_name=False)
        descriptor = pb.Everything.DESCRIPTOR
        if normalized(json.loads(ours), descriptor) != normalized(json.loads(official), descriptor):
            theirs = json.dumps(json.loads(official))
            failures.append(f"{name}: JSON differs\n swift  {ours[:600]}\n python {theirs[:600]}")
        try:
            parsed = json_format.Parse(ours, pb.Everything())
        except json_format.ParseError as error:
            try:
                json_format.Parse(official, pb.Everything())
            except json_format.ParseError as own:
                # json_format cannot read its own output either (it writes the largest float as
                # 3.4028235e+38 and then finds that above the largest float): not ours to fix.
                print(f"NOTE {name}: json_format parses neither ours ({error}) nor its own output ({own})")
                continue
            failures.append(f"{name}: the official library cannot parse Swift's JSON: {error}")
            continue
        if parsed != all_cases[name]:
            expected = all_cases[name]
            failures.append(f"{name}: Swift's JSON parses to a different message:\n{parsed}\nexpected:\n{expected}")
    report(names, failures)


if __name__ == "__main__":
    command, target = sys.argv[1], sys.argv[2]
    commands = {
        "descriptors": descriptors, "builtin": builtin, "write": write, "check": check,
        "json-write": json_write, "json-check": json_check,
    }
    commands[command](target)
