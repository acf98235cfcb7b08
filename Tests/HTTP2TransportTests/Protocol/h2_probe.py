"""Protocol tests with a raw HTTP/2 client (PyPI h2, plus hand-made frames for what h2 refuses
to send): malformed frames, bad headers and prefixes, huge headers, floods and resets, frames on
closed streams and stream IDs out of order (RFC 9113 §5.1, the h2spec 3.5, 5.1 and 5.1.1 cases).

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
import hpack

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
GRPC_PATH = "/grpc.testing.TestService/EmptyCall"
UNARY_PATH = "/grpc.testing.TestService/UnaryCall"  # echoes x-grpc-test-echo-initial into its headers
LEAKED = [("x-grpc-test-echo-initial", "leaked"), ("authorization", "Bearer leaked")]
TIMEOUT = 10

# Frame types and flags (RFC 9113 §6).
DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0, 1, 3, 4, 6, 7, 8, 9
END_STREAM, END_HEADERS, ACK, PADDED, PRIORITY_FLAG = 0x1, 0x4, 0x1, 0x8, 0x20
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, STREAM_CLOSED, CANCEL, ENHANCE_YOUR_CALM = 1, 3, 5, 8, 11
FRAME_NAMES = {DATA: "DATA", HEADERS: "HEADERS", RST_STREAM: "RST_STREAM", SETTINGS: "SETTINGS", PING: "PING",
               GOAWAY: "GOAWAY", WINDOW_UPDATE: "WINDOW_UPDATE", CONTINUATION: "CONTINUATION"}


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


def grpc_fields(path=GRPC_PATH, extra=()):
    return [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
            ("content-type", "application/grpc"), ("te", "trailers"), *extra]


class RawClient:
    """Hand-made frames over a blocking socket, for what h2 refuses to send (frames on closed streams,
    invalid header fields, a broken preface). Every frame read is kept; header blocks are decoded."""

    def __init__(self, port, preface=PREFACE + frame(SETTINGS, 0, 0)):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.encoder, self.decoder = hpack.Encoder(), hpack.Decoder()
        self.frames = []  # (type, flags, stream, payload)
        self.headers = {}  # stream -> the fields of all its header blocks
        self.pending = b""  # bytes not yet a whole frame
        self.block = b""  # a header block still waiting for END_HEADERS
        self.closed = False
        self.raw(preface)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.sock.close()

    def raw(self, data):
        try:
            self.sock.sendall(data)
        except OSError:
            self.closed = True

    def request(self, stream, path=GRPC_PATH, end_stream=False):
        """A gRPC request's HEADERS frame, encoded with this connection's HPACK table."""
        flags = END_HEADERS | (END_STREAM if end_stream else 0)
        return frame(HEADERS, flags, stream, self.encoder.encode(grpc_fields(path)))

    def receive(self, until, seconds=TIMEOUT):
        """Reads frames until `until(self)` holds, the peer closes, or time runs out."""
        deadline = time.monotonic() + seconds
        while not until(self) and not self.closed and time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                self.closed = True
                break
            if not data:
                self.closed = True
                break
            self.pending += data
            while len(self.pending) >= 9 + int.from_bytes(self.pending[:3], "big"):
                length = int.from_bytes(self.pending[:3], "big")
                kind, flags = self.pending[3], self.pending[4]
                stream = int.from_bytes(self.pending[5:9], "big") & 0x7FFFFFFF
                payload, self.pending = self.pending[9:9 + length], self.pending[9 + length:]
                self.handle(kind, flags, stream, payload)
        return self

    def handle(self, kind, flags, stream, payload):
        self.frames.append((kind, flags, stream, payload))
        if kind == SETTINGS and not flags & ACK:
            self.raw(frame(SETTINGS, ACK, 0))
        elif kind == PING and not flags & ACK:
            self.raw(frame(PING, ACK, 0, payload))
        elif kind in (HEADERS, CONTINUATION):
            if kind == HEADERS and flags & PADDED:
                payload = payload[1:len(payload) - payload[0]]
            if kind == HEADERS and flags & PRIORITY_FLAG:
                payload = payload[5:]
            self.block += payload
            if flags & END_HEADERS:
                self.headers.setdefault(stream, {}).update(self.decoder.decode(self.block))
                self.block = b""

    def reset_code(self, stream, since=0):
        codes = [struct.unpack(">I", p[:4])[0] for k, _, s, p in self.frames[since:] if k == RST_STREAM and s == stream]
        return codes[0] if codes else None

    def goaway_code(self, since=0):
        codes = [struct.unpack(">I", p[4:8])[0] for k, _, _, p in self.frames[since:] if k == GOAWAY]
        return codes[0] if codes else None

    def ended(self, stream):
        return not self.block and any(s == stream and (k == RST_STREAM or (k in (HEADERS, DATA) and f & END_STREAM))
                                      for k, f, s, _ in self.frames)

    def summary(self):
        parts = []
        for kind, _, stream, payload in self.frames:
            name = FRAME_NAMES.get(kind, f"type {kind}")
            if kind == RST_STREAM:
                name += f"({struct.unpack('>I', payload[:4])[0]})"
            if kind == GOAWAY:
                name += f"({struct.unpack('>I', payload[4:8])[0]})"
            parts.append(f"{name} on {stream}")
        if self.pending:
            parts.append(f"not frames: {self.pending[:60]!r}")
        parts.append("closed" if self.closed else "still open")
        return "received " + ", ".join(parts)


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


def plain_request(port, method, path):
    """One plain HTTP request over h2 on a fresh connection: (response headers, body)."""
    client = Client(port)
    client.conn.send_headers(1, [(":method", method), (":scheme", "http"), (":path", path),
                                 (":authority", "localhost")], end_stream=True)
    client.flush()
    events = client.receive(ended(1))
    client.close()
    return headers_of(events, 1), b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived))


def rest_over_h2(port):
    got, body = plain_request(port, "GET", "/healthz")
    check(got.get(":status") == "200" and b'"ok"' in body, f"GET /healthz over h2: {got} {body!r}")


def head_over_h2(port):
    # RFC 9110 §9.3.2: HEAD gets GET's headers (content-length included) and no content.
    got, body = plain_request(port, "HEAD", "/healthz")
    check(got.get(":status") == "200" and got.get("content-length", "0") != "0" and body == b"",
          f"HEAD /healthz over h2: {got} {body!r}")


# --- stream states (RFC 9113 §5.1, §5.1.1) and the preface (§3.4); h2spec's cases in brackets ----------

def stream_closed_error(client, stream, next_stream, since=0):
    # A stream error, RST_STREAM(STREAM_CLOSED), after which the connection still serves a new
    # stream; or the same as a connection error, GOAWAY(STREAM_CLOSED) (h2spec accepts both).
    client.receive(lambda c: c.reset_code(stream, since) is not None or c.goaway_code(since) is not None, seconds=5)
    if client.goaway_code(since) is not None:
        check(client.goaway_code(since) == STREAM_CLOSED, f"expected STREAM_CLOSED, {client.summary()}")
        return
    check(client.reset_code(stream, since) == STREAM_CLOSED,
          f"expected RST_STREAM(STREAM_CLOSED) on stream {stream}, {client.summary()}")
    client.raw(client.request(next_stream) + frame(DATA, END_STREAM, next_stream, message()))
    client.receive(lambda c: c.ended(next_stream) or c.goaway_code() is not None)
    got = client.headers.get(next_stream, {})
    check(got.get("grpc-status") == "0", f"stream {next_stream} after the stream error: {got}, {client.summary()}")


def connection_error(client, codes, since=0):
    client.receive(lambda c: False, seconds=5)  # until the server closes
    check(client.goaway_code(since) in codes, f"expected GOAWAY with one of {sorted(codes)}, {client.summary()}")
    check(client.closed, f"the connection stayed open after the GOAWAY, {client.summary()}")


def finished_call(client, stream):
    client.raw(client.request(stream) + frame(DATA, END_STREAM, stream, message()))
    client.receive(lambda c: c.ended(stream) or c.goaway_code() is not None)
    got = client.headers.get(stream, {})
    check(got.get("grpc-status") == "0", f"stream {stream}: {got}, {client.summary()}")
    return len(client.frames)


def invalid_preface(port):
    # These start with the preface's first 18 bytes: an HTTP/2 client with a broken preface, not
    # HTTP/1.1, so the answer is HTTP/2's: GOAWAY(PROTOCOL_ERROR), then close. (h2spec's 3.5/2 sends
    # a line that is not like the preface at all: h2spec_invalid_preface.)
    for preface in (b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\rQ"):
        with RawClient(port, preface) as client:
            connection_error(client, {PROTOCOL_ERROR})


def h2spec_invalid_preface(port):
    # [3.5/2] exactly what h2spec sends; it passes when the connection closes within its 2 s timeout.
    with RawClient(port, b"INVALID CONNECTION PREFACE\r\n\r\n") as client:
        client.receive(lambda c: False, seconds=2)
        check(client.closed, f"open 2 s after an invalid preface, {client.summary()}")


def data_after_reset(port):
    # [5.1/8] open, RST_STREAM(CANCEL), then DATA on the closed stream, in one write.
    with RawClient(port) as client:
        client.raw(client.request(1) + frame(RST_STREAM, 0, 1, struct.pack(">I", CANCEL))
                   + frame(DATA, END_STREAM, 1, message()))
        stream_closed_error(client, 1, 3)


def headers_after_reset(port):
    # [5.1/9]
    with RawClient(port) as client:
        client.raw(client.request(1) + frame(RST_STREAM, 0, 1, struct.pack(">I", CANCEL))
                   + client.request(1, end_stream=True))
        stream_closed_error(client, 1, 3)


def continuation_after_reset(port):
    # [5.1/10] no header block is open, so this CONTINUATION is a connection error.
    with RawClient(port) as client:
        client.raw(client.request(1) + frame(RST_STREAM, 0, 1, struct.pack(">I", CANCEL))
                   + frame(CONTINUATION, END_HEADERS, 1, client.encoder.encode([("x-dummy", "1")])))
        connection_error(client, {PROTOCOL_ERROR})


def data_after_end_stream(port):
    # [5.1/11] the request ended with END_STREAM and its response is complete: the stream is closed.
    with RawClient(port) as client:
        since = finished_call(client, 1)
        client.raw(frame(DATA, END_STREAM, 1, message()))
        stream_closed_error(client, 1, 3, since)


def headers_after_end_stream(port):
    # [5.1/12]
    with RawClient(port) as client:
        since = finished_call(client, 1)
        client.raw(client.request(1, end_stream=True))
        stream_closed_error(client, 1, 3, since)


def continuation_after_end_stream(port):
    # [5.1/13] h2spec accepts GOAWAY with either code here.
    with RawClient(port) as client:
        since = finished_call(client, 1)
        client.raw(frame(CONTINUATION, END_HEADERS, 1, client.encoder.encode([("x-dummy", "1")])))
        connection_error(client, {PROTOCOL_ERROR, STREAM_CLOSED}, since)


def lower_stream_id(port):
    # [5.1.1/2] stream 3 was never opened and 5 already was: 3 can never be opened now.
    with RawClient(port) as client:
        client.raw(client.request(5) + frame(DATA, END_STREAM, 5, message()) + client.request(3, end_stream=True))
        connection_error(client, {PROTOCOL_ERROR})


def leaked_headers(port, bad_field, split):
    # One write: stream 1's header block is refused at its last field, after fields that must not
    # reach anyone else; then a valid request on stream 3. One HPACK table for both blocks.
    with RawClient(port) as client:
        good = client.encoder.encode(grpc_fields(UNARY_PATH, LEAKED))
        bad = client.encoder.encode([bad_field])
        if split:
            refused = frame(HEADERS, END_STREAM, 1, good) + frame(CONTINUATION, END_HEADERS, 1, bad)
        else:
            refused = frame(HEADERS, END_STREAM | END_HEADERS, 1, good + bad)
        valid = frame(HEADERS, END_HEADERS, 3, client.encoder.encode(grpc_fields(UNARY_PATH)))
        client.raw(refused + valid + frame(DATA, END_STREAM, 3, message()))
        client.receive(lambda c: (c.ended(1) and c.ended(3)) or c.goaway_code() is not None)
        got = client.headers.get(3, {})
        check(client.reset_code(1) is not None, f"stream 1 with {bad_field} was not refused, {client.summary()}")
        check("x-grpc-test-echo-initial" not in got, f"stream 1's fields reached stream 3: {got}")
        check(got.get("grpc-status") == "0", f"stream 3: {got}, {client.summary()}")


def leaked_headers_uppercase(port):
    leaked_headers(port, ("X-Bad", "1"), split=True)  # the refused field alone in a CONTINUATION


def leaked_headers_te(port):
    leaked_headers(port, ("te", "gzip"), split=False)


def leaked_headers_duplicate_path(port):
    leaked_headers(port, (":path", UNARY_PATH), split=True)  # a second :path, after regular fields


CASES = [valid_call, missing_te, wrong_method, unknown_method, huge_length_prefix, truncated_message,
         compressed_without_encoding, unsupported_encoding, invalid_flag, bad_gzip, huge_headers, hpack_bomb,
         rapid_reset, settings_flood, ping_flood, continuation_flood, empty_data_flood, data_on_stream_zero,
         window_overflow, garbage_after_preface, rest_over_h2, head_over_h2, invalid_preface, h2spec_invalid_preface,
         data_after_reset, headers_after_reset, continuation_after_reset, data_after_end_stream,
         headers_after_end_stream, continuation_after_end_stream, lower_stream_id, leaked_headers_uppercase,
         leaked_headers_te, leaked_headers_duplicate_path]


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
