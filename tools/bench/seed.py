"""Seeds sessiond through its own REST API and checks it before a benchmark.

    seed.py --port P --token T --sessions N --req OUT.bin   create N sessions; write the gRPC-framed
                                                            GetSessionRequest for one; print its ID
    seed.py --port P --token T --check SESSION_ID           GetSession answers with a token (grpcio)
                                                            and is UNAUTHENTICATED without one
"""
import argparse
import concurrent.futures
import struct
import sys

import grpc
import requests


def get_session_request(session_id):
    # GetSessionRequest{session_id = 1}: tag 0x0a, length, UTF-8 bytes.
    payload = session_id.encode()
    return bytes([0x0A, len(payload)]) + payload


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--sessions", type=int, default=10000)
    parser.add_argument("--req")
    parser.add_argument("--check")
    args = parser.parse_args()
    base = f"http://127.0.0.1:{args.port}"
    headers = {"Authorization": f"Bearer {args.token}"}

    if args.check:
        channel = grpc.insecure_channel(f"127.0.0.1:{args.port}")
        call = channel.unary_unary("/sessions.v1.SessionService/GetSession",
                                   request_serializer=lambda b: b, response_deserializer=lambda b: b)
        reply = call(get_session_request(args.check), metadata=(("authorization", f"Bearer {args.token}"),), timeout=10)
        if args.check.encode() not in reply:
            sys.exit("GetSession with a token did not return the session")
        try:
            call(get_session_request(args.check), timeout=10)
            sys.exit("GetSession without a token succeeded")
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAUTHENTICATED:
                sys.exit(f"GetSession without a token: {error.code()}, not UNAUTHENTICATED")
        print("check: GetSession OK with the service token, UNAUTHENTICATED without", file=sys.stderr)
        return

    session = requests.Session()

    def create(index):
        response = session.post(f"{base}/api/sessions", headers=headers,
                                json={"jobId": f"job-{index % 100}", "testerId": f"tester-{index}"})
        response.raise_for_status()
        return response.json()["data"]["sessionId"]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(create, range(args.sessions)))
    chosen = ids[42]
    if args.req:
        message = get_session_request(chosen)
        with open(args.req, "wb") as handle:
            handle.write(b"\x00" + struct.pack(">I", len(message)) + message)
    print(chosen)


if __name__ == "__main__":
    main()
