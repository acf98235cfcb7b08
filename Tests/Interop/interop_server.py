"""A grpc.testing.TestService server on grpcio, written from grpc's interop test descriptions,
for running our own client against a stock server.

    interop_server.py    prints "listening on 127.0.0.1:PORT", serves until stdin closes
"""
import sys
import time

import grpc

from interop_client import M, empty_pb2, test_pb2_grpc  # the same generated stubs


def echo_metadata(context):
    metadata = dict(context.invocation_metadata())
    if "x-grpc-test-echo-initial" in metadata:
        context.send_initial_metadata((("x-grpc-test-echo-initial", metadata["x-grpc-test-echo-initial"]),))
    if "x-grpc-test-echo-trailing-bin" in metadata:
        context.set_trailing_metadata((("x-grpc-test-echo-trailing-bin", metadata["x-grpc-test-echo-trailing-bin"]),))


def echo_status(request, context):
    if request.HasField("response_status") and request.response_status.code != 0:
        context.abort(grpc.StatusCode(
            next(c for c in grpc.StatusCode if c.value[0] == request.response_status.code)),
            request.response_status.message)


class TestService(test_pb2_grpc.TestServiceServicer):
    def EmptyCall(self, request, context):
        echo_metadata(context)
        return empty_pb2.Empty()

    def UnaryCall(self, request, context):
        echo_metadata(context)
        echo_status(request, context)
        if request.HasField("response_compressed") and request.response_compressed.value:
            context.set_compression(grpc.Compression.Gzip)
        return M.SimpleResponse(payload=M.Payload(body=b"\x00" * request.response_size))

    def StreamingOutputCall(self, request, context):
        echo_metadata(context)
        echo_status(request, context)
        for parameters in request.response_parameters:
            if parameters.interval_us:
                time.sleep(parameters.interval_us / 1e6)
            yield M.StreamingOutputCallResponse(payload=M.Payload(body=b"\x00" * parameters.size))

    def StreamingInputCall(self, request_iterator, context):
        echo_metadata(context)
        return M.StreamingInputCallResponse(
            aggregated_payload_size=sum(len(r.payload.body) for r in request_iterator))

    def FullDuplexCall(self, request_iterator, context):
        echo_metadata(context)
        for request in request_iterator:
            echo_status(request, context)
            for parameters in request.response_parameters:
                if parameters.interval_us:
                    time.sleep(parameters.interval_us / 1e6)
                yield M.StreamingOutputCallResponse(payload=M.Payload(body=b"\x00" * parameters.size))


def main():
    from concurrent import futures

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    test_pb2_grpc.add_TestServiceServicer_to_server(TestService(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(f"listening on 127.0.0.1:{port}", flush=True)
    sys.stdin.read()  # the test closes stdin (or ends the process) when done
    server.stop(grace=1)


if __name__ == "__main__":
    main()
