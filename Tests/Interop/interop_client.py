"""gRPC interop client (grpcio), written from grpc's interop test descriptions.

    interop_client.py --port PORT [--host 127.0.0.1] [--tls-ca CA.pem] [--cases a,b,...]

Runs each case against a grpc.testing.TestService server, prints PASS/FAIL per case and a last
line "N passed, M failed"; exits 1 when any case fails.
"""
import argparse
import os
import queue
import shutil
import sys
import tempfile
import threading
import time
import traceback

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA = os.path.abspath(os.path.join(HERE, "..", "..", "schema"))


def load_stubs():
    """Compiles schema/grpc/testing into an upstream-style layout (src/proto/grpc/testing), so the
    generated `grpc.testing` Python package does not shadow grpcio's own `grpc` package."""
    root = tempfile.mkdtemp(prefix="interop-py-")
    target = os.path.join(root, "src", "proto", "grpc", "testing")
    os.makedirs(target)
    for name in ("empty", "messages", "test"):
        with open(os.path.join(SCHEMA, "grpc", "testing", name + ".proto")) as f:
            text = f.read().replace('import "grpc/testing/', 'import "src/proto/grpc/testing/')
        with open(os.path.join(target, name + ".proto"), "w") as f:
            f.write(text)
    files = [os.path.join("src", "proto", "grpc", "testing", n + ".proto") for n in ("empty", "messages", "test")]
    if protoc.main(["protoc", f"-I{root}", f"--python_out={root}", f"--grpc_python_out={root}"] + files) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, root)
    from src.proto.grpc.testing import empty_pb2, messages_pb2, test_pb2_grpc

    return empty_pb2, messages_pb2, test_pb2_grpc, root


empty_pb2, messages_pb2, test_pb2_grpc, _stub_dir = load_stubs()
M = messages_pb2
TIMEOUT = 20


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def zeros(n):
    return M.Payload(body=b"\x00" * n)


def expect_status(fn, code, message=None):
    try:
        fn()
    except grpc.RpcError as error:
        check(error.code() == code, f"expected {code}, got {error.code()}: {error.details()}")
        if message is not None:
            check(error.details() == message, f"expected message {message!r}, got {error.details()!r}")
        return error
    raise Failure(f"expected {code}, but the call succeeded")


def empty_unary(stub, unimplemented):
    response = stub.EmptyCall(empty_pb2.Empty(), timeout=TIMEOUT)
    check(response == empty_pb2.Empty(), "response is not an empty Empty")


def large_unary(stub, unimplemented):
    response = stub.UnaryCall(M.SimpleRequest(response_size=314159, payload=zeros(271828)), timeout=TIMEOUT)
    check(response.payload.body == b"\x00" * 314159, f"body has {len(response.payload.body)} bytes")


def client_streaming(stub, unimplemented):
    requests = (M.StreamingInputCallRequest(payload=zeros(n)) for n in (27182, 8, 1828, 45904))
    response = stub.StreamingInputCall(requests, timeout=TIMEOUT)
    check(response.aggregated_payload_size == 74922, f"aggregated {response.aggregated_payload_size}")


def server_streaming(stub, unimplemented):
    sizes = (31415, 9, 2653, 58979)
    request = M.StreamingOutputCallRequest(response_parameters=[M.ResponseParameters(size=s) for s in sizes])
    got = [len(r.payload.body) for r in stub.StreamingOutputCall(request, timeout=TIMEOUT)]
    check(got == list(sizes), f"got sizes {got}")


class RequestQueue:
    """Requests produced one at a time by the test, for bidirectional calls."""

    _end = object()

    def __init__(self):
        self.items = queue.Queue()

    def put(self, item):
        self.items.put(item)

    def close(self):
        self.items.put(self._end)

    def __iter__(self):
        while True:
            item = self.items.get()
            if item is self._end:
                return
            yield item


def ping_pong(stub, unimplemented):
    requests = RequestQueue()
    call = stub.FullDuplexCall(iter(requests), timeout=TIMEOUT)
    for size, payload in ((31415, 27182), (9, 8), (2653, 1828), (58979, 45904)):
        requests.put(M.StreamingOutputCallRequest(response_parameters=[M.ResponseParameters(size=size)],
                                                  payload=zeros(payload)))
        response = next(call)
        check(len(response.payload.body) == size, f"got {len(response.payload.body)}, wanted {size}")
    requests.close()
    check(next(call, None) is None, "more responses than requests")
    check(call.code() == grpc.StatusCode.OK, f"status {call.code()}")


def empty_stream(stub, unimplemented):
    responses = list(stub.FullDuplexCall(iter([]), timeout=TIMEOUT))
    check(responses == [], f"got {len(responses)} responses")


def custom_metadata(stub, unimplemented):
    metadata = (("x-grpc-test-echo-initial", "test_initial_metadata_value"),
                ("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab"))

    def verify(initial, trailing):
        check(("x-grpc-test-echo-initial", "test_initial_metadata_value") in list(initial),
              f"initial metadata {initial}")
        check(("x-grpc-test-echo-trailing-bin", b"\xab\xab\xab") in list(trailing), f"trailing metadata {trailing}")

    response, call = stub.UnaryCall.with_call(M.SimpleRequest(response_size=314159, payload=zeros(271828)),
                                              metadata=metadata, timeout=TIMEOUT)
    check(len(response.payload.body) == 314159, "unary payload size")
    verify(call.initial_metadata(), call.trailing_metadata())
    request = M.StreamingOutputCallRequest(response_parameters=[M.ResponseParameters(size=314159)],
                                           payload=zeros(271828))
    call = stub.FullDuplexCall(iter([request]), metadata=metadata, timeout=TIMEOUT)
    sizes = [len(r.payload.body) for r in call]
    check(sizes == [314159], f"streaming sizes {sizes}")
    verify(call.initial_metadata(), call.trailing_metadata())


def status_code_and_message(stub, unimplemented):
    status = M.EchoStatus(code=2, message="test status message")
    expect_status(lambda: stub.UnaryCall(M.SimpleRequest(response_status=status), timeout=TIMEOUT),
                  grpc.StatusCode.UNKNOWN, "test status message")
    expect_status(lambda: list(stub.FullDuplexCall(iter([M.StreamingOutputCallRequest(response_status=status)]),
                                                   timeout=TIMEOUT)),
                  grpc.StatusCode.UNKNOWN, "test status message")


def special_status_message(stub, unimplemented):
    text = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"
    expect_status(lambda: stub.UnaryCall(M.SimpleRequest(response_status=M.EchoStatus(code=2, message=text)),
                                         timeout=TIMEOUT),
                  grpc.StatusCode.UNKNOWN, text)


def unimplemented_method(stub, unimplemented):
    expect_status(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=TIMEOUT), grpc.StatusCode.UNIMPLEMENTED)


def unimplemented_service(stub, unimplemented):
    expect_status(lambda: unimplemented.UnimplementedCall(empty_pb2.Empty(), timeout=TIMEOUT),
                  grpc.StatusCode.UNIMPLEMENTED)


def timeout_on_sleeping_server(stub, unimplemented):
    requests = RequestQueue()
    requests.put(M.StreamingOutputCallRequest(payload=zeros(27182)))
    call = stub.FullDuplexCall(iter(requests), timeout=0.001)
    expect_status(lambda: list(call), grpc.StatusCode.DEADLINE_EXCEEDED)
    requests.close()


def cancel_after_begin(stub, unimplemented):
    requests = RequestQueue()
    future = stub.StreamingInputCall.future(iter(requests), timeout=TIMEOUT)
    future.cancel()
    check(future.cancelled(), "the call was not cancelled")
    requests.close()
    check(future.code() == grpc.StatusCode.CANCELLED, f"status {future.code()}")


def cancel_after_first_response(stub, unimplemented):
    requests = RequestQueue()
    call = stub.FullDuplexCall(iter(requests), timeout=TIMEOUT)
    requests.put(M.StreamingOutputCallRequest(response_parameters=[M.ResponseParameters(size=31415)],
                                              payload=zeros(27182)))
    first = next(call)
    check(len(first.payload.body) == 31415, "first response size")
    call.cancel()
    requests.close()
    check(call.code() == grpc.StatusCode.CANCELLED, f"status {call.code()}")


def client_compressed_unary(stub, unimplemented):
    def request(expect):
        return M.SimpleRequest(response_size=314159, payload=zeros(271828), expect_compressed=M.BoolValue(value=expect))

    expect_status(lambda: stub.UnaryCall(request(True), timeout=TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT)
    response = stub.UnaryCall(request(True), compression=grpc.Compression.Gzip, timeout=TIMEOUT)
    check(len(response.payload.body) == 314159, "compressed request: payload size")
    response = stub.UnaryCall(request(False), timeout=TIMEOUT)
    check(len(response.payload.body) == 314159, "uncompressed request: payload size")


def server_compressed_unary(stub, unimplemented):
    for compressed in (True, False):
        response = stub.UnaryCall(M.SimpleRequest(response_size=314159, payload=zeros(271828),
                                                  response_compressed=M.BoolValue(value=compressed)),
                                  timeout=TIMEOUT)
        check(len(response.payload.body) == 314159, f"response_compressed={compressed}: payload size")


CASES = [empty_unary, large_unary, client_streaming, server_streaming, ping_pong, empty_stream, custom_metadata,
         status_code_and_message, special_status_message, unimplemented_method, unimplemented_service,
         timeout_on_sleeping_server, cancel_after_begin, cancel_after_first_response, client_compressed_unary,
         server_compressed_unary]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-ca")
    parser.add_argument("--server-host-override", default="localhost")
    parser.add_argument("--cases", default=",".join(c.__name__ for c in CASES))
    args = parser.parse_args()
    target = f"{args.host}:{args.port}"
    if args.tls_ca:
        with open(args.tls_ca, "rb") as f:
            credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
        channel = grpc.secure_channel(target, credentials,
                                      options=[("grpc.ssl_target_name_override", args.server_host_override)])
    else:
        channel = grpc.insecure_channel(target)
    grpc.channel_ready_future(channel).result(timeout=TIMEOUT)
    stub = test_pb2_grpc.TestServiceStub(channel)
    unimplemented = test_pb2_grpc.UnimplementedServiceStub(channel)
    wanted = args.cases.split(",")
    passed = failed = 0
    for case in CASES:
        if case.__name__ not in wanted:
            continue
        started = time.monotonic()
        try:
            case(stub, unimplemented)
            passed += 1
            print(f"PASS {case.__name__} ({(time.monotonic() - started) * 1000:.0f} ms)")
        except Exception as error:  # noqa: BLE001 - every case runs; failures are reported together
            failed += 1
            detail = str(error) if isinstance(error, Failure) else traceback.format_exc()
            print(f"FAIL {case.__name__}: {detail}")
    channel.close()
    shutil.rmtree(_stub_dir, ignore_errors=True)
    print(f"interop: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
