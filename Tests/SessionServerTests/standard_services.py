"""Checks a running sessiond's standard services with stock grpcio clients.

    standard_services.py --port PORT

Health: Check("") and Check of each served service (what a Kubernetes gRPC probe that names
sessions.v1.SessionService asks) are SERVING, an unknown service is NOT_FOUND. Reflection (v1 and v1alpha):
list_services, and the SessionService descriptor resolved through reflection alone, as
reflection-driven tools (grpcurl, Postman) do it.
"""
import argparse
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

failures = []
passes = []


def check(condition, message):
    print(("PASS " if condition else "FAIL ") + message)
    (passes if condition else failures).append(message)


def reflect(channel, path, request):
    call = channel.stream_stream(path, request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                                 response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
    return list(call(iter([request]), timeout=10))[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
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
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(
        descriptor_pb2.DESCRIPTOR.serialized_pb))  # descriptor.proto: options types only
    added = {"google/protobuf/descriptor.proto"}
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
    unknown = reflect(channel, path, reflection_pb2.ServerReflectionRequest(file_containing_symbol="no.Such"))
    check(unknown.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0], "an unknown symbol is NOT_FOUND")

    print(f"standard services: {len(passes)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
