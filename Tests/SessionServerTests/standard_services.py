"""Checks a running sessiond's standard services with stock clients (grpcio, `buf curl`).

    standard_services.py --port PORT [--secret-file DATA/jwt-secret]

Health: Check("") and Check of each served service (what a Kubernetes gRPC probe that names
sessions.v1.SessionService asks) are SERVING, an unknown service is NOT_FOUND. Reflection (v1 and v1alpha):
list_services, and the SessionService descriptor resolved through reflection alone, as
reflection-driven tools (grpcurl, Postman) do it, and through grpcio's
ProtoReflectionDescriptorDatabase. With --secret-file, `buf curl` (PyPI buf-bin) lists every
method and calls CreateSession and GetSession knowing nothing but what reflection serves.
"""
import argparse
import json
import os
import subprocess
import sys
import time

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

failures = []
passes = []


def check(condition, message):
    print(("PASS " if condition else "FAIL ") + message)
    (passes if condition else failures).append(message)


def reflect(channel, path, request):
    call = channel.stream_stream(path, request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    return list(call(iter([request]), timeout=10))[0]


def buf_curl(port, secret):
    """`buf curl` knows only the URL: services, methods and message types all come from reflection."""
    import jwt

    buf = os.path.join(os.path.dirname(sys.executable), "buf")
    base = ["--protocol", "grpc", "--http2-prior-knowledge"]
    url = f"http://127.0.0.1:{port}"
    listed = subprocess.run([buf, "curl", *base, "--list-methods", url], capture_output=True, text=True, timeout=60)
    methods = listed.stdout.split()
    expected = {f"sessions.v1.SessionService/{name}" for name in (
        "CreateSession", "GetSession", "ListSessions", "PauseSession", "ResumeSession", "CompleteSession",
        "AnalyzeSession", "GetAnalysis", "ConfirmSession", "UpdateNotes", "GetNotes", "SubmitFeedback",
        "ListPayouts", "WatchSession")} | {"grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch",
                                          "grpc.reflection.v1.ServerReflection/ServerReflectionInfo"}
    check(listed.returncode == 0 and expected <= set(methods),
          f"buf curl --list-methods lists every service and method ({len(methods)}): {listed.stderr.strip()}")

    def call(method, token, body):
        done = subprocess.run([buf, "curl", *base, "-H", f"authorization: Bearer {token}", "-d", json.dumps(body),
                               f"{url}/sessions.v1.SessionService/{method}"], capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout, done.stderr

    def token(sub, role):
        claims = {"sub": sub, "role": role, "org": "org-buf", "exp": int(time.time()) + 300}
        return jwt.encode(claims, secret, algorithm="HS256")

    code, out, err = call("CreateSession", token("svc-buf", "service"),
                          {"jobId": "job-buf", "testerId": "tester-buf", "variant": "B"})
    created = json.loads(out) if code == 0 else {}
    check(created.get("status") == "SESSION_STATUS_ACTIVE" and created.get("variant") == "B",
          f"buf curl CreateSession through reflection: {out.strip()[:200]} {err.strip()[:200]}")
    code, out, err = call("GetSession", token("tester-buf", "tester"), {"sessionId": created.get("sessionId", "")})
    fetched = json.loads(out) if code == 0 else {}
    check(fetched.get("sessionId") == created.get("sessionId") and fetched.get("jobId") == "job-buf",
          f"buf curl GetSession through reflection returns the created session: {err.strip()[:200]}")
    code, out, err = call("GetSession", token("tester-buf", "tester"), {"sessionId": created.get("sessionId", ""),
                                                                       "noSuchField": 1})
    check(code != 0 and "noSuchField" in err, f"buf curl rejects a field the schema lacks: {err.strip()[:200]}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-file")
    args = parser.parse_args()
    channel = grpc.insecure_channel(f"127.0.0.1:{args.port}")

    health = health_pb2_grpc.HealthStub(channel)
    response = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    check(response.status == health_pb2.HealthCheckResponse.SERVING, "health Check('') is SERVING")
    for service in ("sessions.v1.SessionService", "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"):
        response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        check(response.status == health_pb2.HealthCheckResponse.SERVING, f"health Check('{service}') is SERVING")
    try:
        health.Check(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
        check(False, "health Check of an unknown service is NOT_FOUND")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.NOT_FOUND, "health Check of an unknown service is NOT_FOUND")

    watch = health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=10)
    first = next(watch)
    watch.cancel()
    check(first.status == health_pb2.HealthCheckResponse.SERVING, "health Watch('') starts with SERVING")
    unknown = health.Watch(health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
    first = next(unknown)
    unknown.cancel()
    check(first.status == health_pb2.HealthCheckResponse.SERVICE_UNKNOWN, "health Watch of an unknown service says SERVICE_UNKNOWN")

    for version in ("v1", "v1alpha"):
        path = f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo"
        listed = reflect(channel, path, reflection_pb2.ServerReflectionRequest(list_services=""))
        names = sorted(s.name for s in listed.list_services_response.service)
        print("services:", names)
        check("grpc.health.v1.Health" in names and "grpc.reflection.v1.ServerReflection" in names,
              f"reflection {version} list_services names the standard services")

    # Resolve SessionService as a reflection client would: by symbol, then dependencies by name.
    path = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
    found = reflect(channel, path, reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="sessions.v1.SessionService"))
    files = [descriptor_pb2.FileDescriptorProto.FromString(b)
             for b in found.file_descriptor_response.file_descriptor_proto]
    check(files and files[0].name == "sessions/v1/sessions.proto", "file_containing_symbol finds sessions.proto first")
    pool = descriptor_pool.DescriptorPool()
    added = set()
    pending = list(reversed(files))
    while pending:
        file = pending.pop()
        missing = [d for d in file.dependency if d not in added]
        if missing:
            pending.append(file)
            answer = reflect(channel, path, reflection_pb2.ServerReflectionRequest(file_by_filename=missing[0]))
            check(answer.HasField("file_descriptor_response"), f"file_by_filename serves {missing[0]}")
            if not answer.HasField("file_descriptor_response"):
                break
            pending.append(descriptor_pb2.FileDescriptorProto.FromString(
                answer.file_descriptor_response.file_descriptor_proto[0]))
            continue
        if file.name not in added:
            pool.Add(file)
            added.add(file.name)
    service = pool.FindServiceByName("sessions.v1.SessionService")
    methods = [m.name for m in service.methods]
    check("GetSession" in methods and len(methods) == 14, f"SessionService resolves with its 14 methods: {methods}")
    created = pool.FindMessageTypeByName("sessions.v1.Session").fields_by_name["created_at"]
    check(created.message_type.full_name == "google.protobuf.Timestamp", "Session.created_at resolves to Timestamp")
    check("google/protobuf/descriptor.proto" in added, "descriptor.proto (the custom options' extendee) is served")
    read_only = [m.name for m in service.methods
                 if m.GetOptions().idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS]
    check(sorted(read_only) == ["GetAnalysis", "GetNotes", "GetSession", "ListSessions"],
          f"the side-effect-free methods say so (idempotency_level): {read_only}")
    http = pool.FindExtensionByName("sessions.api.http")
    check(http.containing_type.full_name == "google.protobuf.MethodOptions" and http.number == 50100,
          "the custom option sessions.api.http resolves against the served descriptor.proto")
    unknown = reflect(channel, path, reflection_pb2.ServerReflectionRequest(file_containing_symbol="no.Such"))
    check(unknown.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0], "an unknown symbol is NOT_FOUND")
    extension = reflect(channel, path, reflection_pb2.ServerReflectionRequest(
        file_containing_extension=reflection_pb2.ExtensionRequest(containing_type="google.protobuf.MethodOptions",
                                                                  extension_number=50100)))
    served = [descriptor_pb2.FileDescriptorProto.FromString(b).name
              for b in extension.file_descriptor_response.file_descriptor_proto]
    check(served[:1] == ["sessions/api/http.proto"], f"file_containing_extension(MethodOptions, 50100) is http.proto: {served}")
    numbers = reflect(channel, path, reflection_pb2.ServerReflectionRequest(
        all_extension_numbers_of_type="google.protobuf.FieldOptions"))
    check(list(numbers.all_extension_numbers_response.extension_number) == [50101],
          "all_extension_numbers_of_type(FieldOptions) is [50101]")

    # grpcio's own reflection client builds the pool from reflection alone.
    database = ProtoReflectionDescriptorDatabase(channel)
    stock = descriptor_pool.DescriptorPool(database)
    try:
        service = stock.FindServiceByName("sessions.v1.SessionService")
        check(len(service.methods) == 14, "ProtoReflectionDescriptorDatabase resolves sessions.v1.SessionService")
    except Exception as error:  # noqa: BLE001 - any failure is the finding
        check(False, f"ProtoReflectionDescriptorDatabase resolves sessions.v1.SessionService: {error!r}")
    check(set(database.get_services()) >= {"sessions.v1.SessionService", "grpc.reflection.v1.ServerReflection"},
          "ProtoReflectionDescriptorDatabase lists SessionService and reflection")

    if args.secret_file:
        buf_curl(args.port, open(args.secret_file).read().strip())

    print(f"standard services: {len(passes)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
