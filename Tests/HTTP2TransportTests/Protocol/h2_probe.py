"""Protocol tests with a raw HTTP/2 client (PyPI h2, plus hand-made frames for what h2 refuses
to send): malformed frames, bad headers and prefixes, huge headers, floods and resets.

    h2_probe.py --port PORT [--cases a,b]

After every case a fresh connection must still be served. Prints PASS/FAIL per case and
"N passed, M failed"; exits 1 on any failure.
"""
import argparse
import socket
import struct
import sys
import time
import traceback

import h2.config
import h2.connection
import h2.events

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
GRPC_PATH = "/grpc.testing.TestService/EmptyCall"
TIMEOUT = 10

# Frame types and flags (RFC 9113 §6).
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, ENHANCE_YOUR_CALM = 1, 3, 11


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


class Client:
    """An h2 connection over a blocking socket."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.events = []
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            try:
                self.sock.sendall(data)
            except OSError:
                self.closed = True

    def raw(self, data):
        self.sock.sendall(data)

    def receive(self, until, seconds=TIMEOUT):
        """Reads until `until(events)` holds, the peer closes, or time runs out."""
        deadline = time.monotonic() + seconds
        while not until(self.events) and not self.closed and time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except (ConnectionResetError, BrokenPipeError):
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            try:
                self.events += self.conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                self.closed = True
                break
            self.flush()
        return self.events

    def grpc_headers(self, path=GRPC_PATH, **overrides):
        headers = {":method": "POST", ":scheme": "http", ":path": path, ":authority": "localhost",
                   "content-type": "application/grpc", "te": "trailers"}
        headers.update(overrides)
        return [(k, v) for k, v in headers.items() if v is not None]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def headers_of(events, stream):
    merged = {}
    for event in events:
        if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)) and event.stream_id == stream:
            merged.update(dict(event.headers))
    return merged


def ended(stream):
    return lambda events: any(isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset)) and e.stream_id == stream
                              for e in events)


def goaway(events):
    return any(isinstance(e, h2.events.ConnectionTerminated) for e in events)


def grpc_call(port, body, **headers):
    client = Client(port)
    client.conn.send_headers(1, client.grpc_headers(**headers))
    client.conn.send_data(1, body, end_stream=True)
    client.flush()
    events = client.receive(ended(1))
    client.close()
    return headers_of(events, 1)


def message(payload=b"", flag=0):
    return bytes([flag]) + struct.pack(">I", len(payload)) + payload


# --- cases ---------------------------------------------------------------------------------------

def valid_call(port):
    got = grpc_call(port, message())
    check(got.get("grpc-status") == "0", f"status {got}")


def missing_te(port):
    got = grpc_call(port, message(), te=None)
    check(got.get("grpc-status") == "13", f"expected INTERNAL, got {got}")


def wrong_method(port):
    client = Client(port)
    client.conn.send_headers(1, client.grpc_headers(**{":method": "PUT"}), end_stream=True)
    client.flush()
    got = headers_of(client.receive(ended(1)), 1)
    client.close()
    check(got.get("grpc-status") == "12", f"expected UNIMPLEMENTED, got {got}")


def unknown_method(port):
    got = grpc_call(port, message(), path="/grpc.testing.TestService/Nope")
    check(got.get("grpc-status") == "12", f"expected UNIMPLEMENTED, got {got}")
    check("Nope" in got.get("grpc-message", ""), f"message should name the method: {got}")


def huge_length_prefix(port):
    # Claims 4 GiB; only the prefix is sent. The server must refuse at once, not wait or buffer.
    client = Client(port)
    client.conn.send_headers(1, client.grpc_headers())
    client.conn.send_data(1, b"\x00\xff\xff\xff\xff")
    client.flush()
    got = headers_of(client.receive(ended(1)), 1)
    client.close()
    check(got.get("grpc-status") == "8", f"expected RESOURCE_EXHAUSTED, got {got}")


def truncated_message(port):
    got = grpc_call(port, b"\x00\x00\x00\x00\x0a" + b"abc")
    check(got.get("grpc-status") == "13", f"expected INTERNAL, got {got}")


def compressed_without_encoding(port):
    got = grpc_call(port, message(b"\x1f\x8b", flag=1))
    check(got.get("grpc-status") == "13", f"expected INTERNAL, got {got}")


def unsupported_encoding(port):
    got = grpc_call(port, message(), **{"grpc-encoding": "br"})
    check(got.get("grpc-status") == "12", f"expected UNIMPLEMENTED, got {got}")
    check("gzip" in got.get("grpc-accept-encoding", ""), f"grpc-accept-encoding missing: {got}")


def invalid_flag(port):
    got = grpc_call(port, b"\x07\x00\x00\x00\x00")
    check(got.get("grpc-status") == "13", f"expected INTERNAL, got {got}")


def bad_gzip(port):
    got = grpc_call(port, message(b"not gzip at all", flag=1), **{"grpc-encoding": "gzip"})
    check(got.get("grpc-status") == "13", f"expected INTERNAL, got {got}")


def huge_headers(port):
    # One header block far over the advertised 16 KiB SETTINGS_MAX_HEADER_LIST_SIZE.
    client = Client(port)
    headers = client.grpc_headers() + [("x-big-%d" % i, "v" * 1000) for i in range(64)]
    client.conn.send_headers(1, headers, end_stream=True)
    client.flush()
    events = client.receive(lambda ev: ended(1)(ev) or goaway(ev))
    client.close()
    got = headers_of(events, 1)
    check(got.get(":status") == "431", f"an oversized header block was not refused with 431: {got}")


def hpack_bomb(port):
    # Many small headers that each re-reference the dynamic table: bounded by the list size.
    client = Client(port)
    headers = client.grpc_headers() + [("x-bomb", "b" * 4000)] * 200
    client.conn.send_headers(1, headers, end_stream=True)
    client.flush()
    events = client.receive(lambda ev: ended(1)(ev) or goaway(ev))
    client.close()
    got = headers_of(events, 1)
    check(got.get(":status") == "431", f"an HPACK bomb was not refused with 431: {got}")


def rapid_reset(port):
    # CVE-2023-44487: open and immediately reset thousands of streams.
    client = Client(port)
    burst = b""
    for index in range(5000):
        stream = 1 + 2 * index
        client.conn.send_headers(stream, client.grpc_headers())
        client.conn.reset_stream(stream)
        burst += client.conn.data_to_send()
        if len(burst) > 65536:
            try:
                client.raw(burst)
            except OSError:
                break
            burst = b""
    try:
        client.raw(burst)
    except OSError:
        pass
    events = client.receive(goaway, seconds=5)
    client.close()
    check(goaway(events) or client.closed, "the server did not stop a rapid-reset flood")


def settings_flood(port):
    client = Client(port)
    flood = frame(SETTINGS, 0, 0) * 20000  # each wants an ACK; we never read them
    try:
        client.raw(flood)
    except OSError:
        pass
    client.receive(goaway, seconds=5)
    client.close()
    check(client.closed or goaway(client.events), "the server kept acknowledging an unbounded SETTINGS flood")


def ping_flood(port):
    client = Client(port)
    flood = frame(PING, 0, 0, b"12345678") * 20000
    try:
        client.raw(flood)
    except OSError:
        pass
    client.receive(goaway, seconds=5)
    client.close()
    check(client.closed or goaway(client.events), "the server kept answering an unbounded PING flood")


def continuation_flood(port):
    # CVE-2024-27316 family: a header block that never ends.
    client = Client(port)
    client.raw(frame(HEADERS, 0, 1, b"\x82"))  # ":method: GET", no END_HEADERS
    try:
        for _ in range(2000):
            client.raw(frame(CONTINUATION, 0, 1, b"\x40\x01a\x01b"))
    except OSError:
        pass
    events = client.receive(goaway, seconds=5)
    client.close()
    check(goaway(events) or client.closed, "the server accepted endless CONTINUATION frames")


def empty_data_flood(port):
    client = Client(port)
    client.conn.send_headers(1, client.grpc_headers())
    client.flush()
    try:
        client.raw(frame(DATA, 0, 1) * 20000)
        client.raw(frame(DATA, END_STREAM, 1, message()))
    except OSError:
        pass
    client.receive(lambda ev: ended(1)(ev) or goaway(ev), seconds=5)
    client.close()  # either answered or cut off; what matters is that the server is still up


def data_on_stream_zero(port):
    client = Client(port)
    client.raw(frame(DATA, 0, 0, b"x"))
    events = client.receive(goaway)
    client.close()
    codes = [e.error_code for e in events if isinstance(e, h2.events.ConnectionTerminated)]
    check(codes and codes[0] == PROTOCOL_ERROR, f"expected GOAWAY PROTOCOL_ERROR, got {codes}")


def window_overflow(port):
    client = Client(port)
    client.raw(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7FFFFFFF)) * 2)
    events = client.receive(goaway)
    client.close()
    codes = [e.error_code for e in events if isinstance(e, h2.events.ConnectionTerminated)]
    check(codes and codes[0] == FLOW_CONTROL_ERROR, f"expected GOAWAY FLOW_CONTROL_ERROR, got {codes}")


def garbage_after_preface(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    sock.sendall(PREFACE + b"\xff" * 64)
    sock.settimeout(5)
    received = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            received += chunk
    except OSError:
        pass
    sock.close()
    check(bytes([GOAWAY]) in received[3:4] or b"\x07" in received, "no GOAWAY for a garbage frame")


def rest_over_h2(port):
    client = Client(port)
    client.conn.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":path", "/healthz"),
                                 (":authority", "localhost")], end_stream=True)
    client.flush()
    events = client.receive(ended(1))
    body = b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived))
    client.close()
    got = headers_of(events, 1)
    check(got.get(":status") == "200" and b'"ok"' in body, f"GET /healthz over h2: {got} {body!r}")


CASES = [valid_call, missing_te, wrong_method, unknown_method, huge_length_prefix, truncated_message,
         compressed_without_encoding, unsupported_encoding, invalid_flag, bad_gzip, huge_headers, hpack_bomb,
         rapid_reset, settings_flood, ping_flood, continuation_flood, empty_data_flood, data_on_stream_zero,
         window_overflow, garbage_after_preface, rest_over_h2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--cases", default=",".join(c.__name__ for c in CASES))
    args = parser.parse_args()
    wanted = args.cases.split(",")
    passed = failed = 0
    for case in CASES:
        if case.__name__ not in wanted:
            continue
        try:
            case(args.port)
            valid_call(args.port)  # a fresh connection is still served
            passed += 1
            print(f"PASS {case.__name__}", flush=True)
        except Exception as error:  # noqa: BLE001 - run every case, report all failures
            failed += 1
            detail = str(error) if isinstance(error, Failure) else traceback.format_exc()
            print(f"FAIL {case.__name__}: {detail}", flush=True)
    print(f"h2 protocol: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
