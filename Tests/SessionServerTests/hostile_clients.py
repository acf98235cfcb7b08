"""Hostile clients against a running sessiond (STYLE.md §12, "Every input is hostile"): each case plays
one attacker (leaks state between streams, never finishes, never reads, floods, holds connections
silently) and asserts the bounds: the server's memory, time to answer, and that a fresh client is
still served afterwards.

    hostile_clients.py --port P --pid SERVER_PID --secret-file DATA/jwt-secret [--cases a,b]
                       [--handshake-timeout 2]

The server is expected to run as
`sessiond serve --port 0 --data-dir TMP --max-connections 200 --handshake-timeout 2`.

Memory: the server's VmRSS (/proc/PID/status) is read before each case (idle) and every 100 ms
during it; peak - idle must stay under 64 MiB. An attack stops early once the growth passes
512 MiB (the case fails either way; this only protects the machine). After every case a fresh
connection must get a gRPC health check (grpc.health.v1.Health/Check) and a REST GET /healthz
answered, each within 5 s. Prints PASS/FAIL per case and "hostile clients: N passed, M failed";
exits 1 on any failure. Everything talks to 127.0.0.1 only; every loop is bounded in count and
time; every socket is closed at the end of its case.

Cases:
- carried_over_authorization: one write holding stream 1's header block (with a valid token)
  that nghttp2 rejects mid-block, then stream 3 without a token: stream 3 must be UNAUTHENTICATED.
- unauthenticated_partial_unary_streams / authenticated_partial_unary_streams: 256 streams, each
  announcing a 4 MiB message and sending as much of it as the windows allow, never finishing.
- gzip_bomb_bidi: compressed reflection messages that each inflate to ~4 MB, never reading;
  connect_gzip_bomb_bidi: the same over a full-duplex Connect stream.
- pipelining_http1_never_reads: pipelined GET /openapi.json, never reading.
- rest_targets_mixed_never_read: REST and Connect GET targets, valid and invalid in one write
  (broken escapes, 1,500 repeated parameters, 3,000 segments, no token, no or two Hosts), from 16 connections at
  once that never read; a reading connection gets every answer in order before and after.
- ping_flood_never_reads: PING frames in big batches, never reading.
- sse_subscriber_never_reads: Server-Sent Events subscribers (one HTTP/1.1 connection and 200
  streams on one HTTP/2 connection) that stop reading while ~1,500 status changes are published.
- browser_watchers_never_read: the same over Connect streaming (HTTP/1.1) and gRPC-Web (h2).
- unauthenticated_browser_bodies: Connect and gRPC-Web POSTs with no token and unfinished 1 MB
  bodies, answered from their headers.
- browser_gzip_bombs: Connect and gRPC-Web requests inflating to 64 MiB, from 8 threads at once.
- silent_connections_one_address: 200 silent connections from 127.0.0.1; a client from 127.0.0.2
  is still served, and the server closes every silent connection after the handshake timeout.
"""
import argparse
import os
import re
import select
import socket
import struct
import sys
import threading
import time
import traceback
import zlib

import hpack
import jwt
import requests

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
# Frame types, flags, settings and error codes (RFC 9113 §6, §7).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIORITY_FLAG = 0x1, 0x1, 0x4, 0x8, 0x20
SETTINGS_ENABLE_PUSH, SETTINGS_MAX_CONCURRENT_STREAMS, SETTINGS_INITIAL_WINDOW_SIZE = 2, 3, 4
MAX_WINDOW = (1 << 31) - 1
FRAME_SIZE = 16384
ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR", 5: "STREAM_CLOSED",
               7: "REFUSED_STREAM", 8: "CANCEL", 11: "ENHANCE_YOUR_CALM"}

GET_SESSION = "/sessions.v1.SessionService/GetSession"
CREATE_SESSION = "/sessions.v1.SessionService/CreateSession"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
MAX_MESSAGE = 4 << 20  # the server's default --max-message-bytes

MIB = 1 << 20
# tools/sanitize raises it: AddressSanitizer's shadow memory and allocator slack count in RSS.
RSS_BOUND_MIB = int(os.environ.get("SESSIOND_TEST_RSS_BOUND_MIB", "64"))
ABORT_MIB = 512
SAMPLE_SECONDS = 0.1
FRESH_SECONDS = 5
SMALL_RCVBUF = 4096


class Failure(Exception):
    pass


# --- wire helpers ----------------------------------------------------------------------------------

def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def grpc_message(payload, compressed=False):
    return bytes([1 if compressed else 0]) + struct.pack(">I", len(payload)) + payload


def varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def pb_string(field, text):
    """A protobuf length-delimited field (wire type 2)."""
    data = text.encode() if isinstance(text, str) else text
    return varint(field << 3 | 2) + varint(len(data)) + data


def gzip(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def grpc_fields(path, *extra):
    return [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
            ("content-type", "application/grpc"), ("te", "trailers"), *extra]


def open_socket(port, source=None, rcvbuf=None, timeout=FRESH_SECONDS):
    """A TCP connection to 127.0.0.1:port, optionally from `source` and with a small receive buffer
    (set before connecting, so the advertised TCP window stays small)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source:
            sock.bind((source, 0))
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    return sock


def send_for(ctx, sock, batch, seconds):
    """Sends `batch` over and over without blocking for `seconds` (or until the server closes or the
    memory abort threshold is passed), never reading. Returns (bytes sent, seconds until the
    server closed or None, longest stall in seconds)."""
    sent, closed_after, longest_stall = 0, None, 0.0
    pending = batch
    start = last_progress = time.monotonic()
    deadline = start + seconds
    while time.monotonic() < deadline and not ctx.should_stop():
        _, writable, _ = select.select([], [sock], [], 0.1)
        now = time.monotonic()
        if not writable:
            longest_stall = max(longest_stall, now - last_progress)
            continue
        try:
            count = sock.send(pending)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError:
            closed_after = now - start
            break
        sent += count
        longest_stall = max(longest_stall, now - last_progress)
        last_progress = now
        pending = pending[count:] or batch
    return sent, closed_after, longest_stall


# --- a raw HTTP/2 client ---------------------------------------------------------------------------

class Stream:
    def __init__(self):
        self.headers = {}  # response headers and trailers, merged
        self.ended_at = None  # END_STREAM or RST_STREAM received
        self.reset = None
        self.data_bytes = 0
        self.body = bytearray()  # the first 64 KiB

    @property
    def done(self):
        return self.ended_at is not None

    def describe(self):
        if "grpc-status" in self.headers:
            return f"grpc-status {self.headers['grpc-status']} ({self.headers.get('grpc-message', '')!r})"
        if self.reset is not None:
            return f"RST_STREAM {ERROR_NAMES.get(self.reset, self.reset)}"
        if ":status" in self.headers:
            return f":status {self.headers[':status']}" + ("" if self.done else ", not ended")
        return "no answer"


class H2:
    """HTTP/2 by hand over a non-blocking socket: frames are built here (HPACK with one
    `hpack.Encoder` per connection), so anything can be sent, and replies are parsed frame by
    frame. Nothing is read unless `pump` is called (and never once `reading` is False)."""

    def __init__(self, port, source=None, rcvbuf=None):
        self.sock = open_socket(port, source, rcvbuf)
        self.sock.setblocking(False)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder(max_header_list_size=1 << 20)
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.streams = {}
        self.server_settings = {}
        self.settings_seen = False
        self.conn_window = 65535  # what we may still send
        self.initial_stream_window = 65535
        self.stream_windows = {}
        self.goaway = None
        self.closed = False
        self.reading = True
        self.block = None  # [stream, flags, bytes] of a header block awaiting CONTINUATION

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def stream(self, sid):
        return self.streams.setdefault(sid, Stream())

    # Output

    def preface(self, big_windows=True):
        """The client preface and SETTINGS; with `big_windows`, our receive windows wide open."""
        settings = struct.pack(">HI", SETTINGS_ENABLE_PUSH, 0)
        if big_windows:
            settings += struct.pack(">HI", SETTINGS_INITIAL_WINDOW_SIZE, MAX_WINDOW)
        out = PREFACE + frame(SETTINGS, 0, 0, settings)
        if big_windows:
            out += frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - 65535))
        return out

    def headers(self, sid, fields, end_stream=False, continuation=None):
        """HEADERS (and a CONTINUATION holding `continuation`'s fields, if given) for `sid`."""
        self.stream(sid)
        self.stream_windows.setdefault(sid, self.initial_stream_window)
        block = self.encoder.encode(fields)
        flags = END_STREAM if end_stream else 0
        if continuation is None:
            return frame(HEADERS, flags | END_HEADERS, sid, block)
        rest = self.encoder.encode(continuation)
        return frame(HEADERS, flags, sid, block) + frame(CONTINUATION, END_HEADERS, sid, rest)

    def data(self, sid, payload, end_stream=False):
        """DATA frames for `payload`, counted against the send windows."""
        out = bytearray()
        for offset in range(0, max(1, len(payload)), FRAME_SIZE):
            chunk = payload[offset:offset + FRAME_SIZE]
            last = offset + FRAME_SIZE >= len(payload)
            out += frame(DATA, END_STREAM if end_stream and last else 0, sid, chunk)
        self.conn_window -= len(payload)
        self.stream_windows[sid] = self.stream_windows.get(sid, self.initial_stream_window) - len(payload)
        return bytes(out)

    def flush(self):
        """Sends what the socket takes now; returns the byte count."""
        sent = 0
        while self.outbuf and not self.closed:
            try:
                count = self.sock.send(bytes(self.outbuf[:1 << 20]))
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.closed = True
                self.outbuf.clear()
                break
            del self.outbuf[:count]
            sent += count
        return sent

    def sendall(self, data, seconds=FRESH_SECONDS):
        self.outbuf += data
        deadline = time.monotonic() + seconds
        while self.outbuf and not self.closed:
            self.flush()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure(f"could not send {len(self.outbuf)} bytes within {seconds} s")
            if self.outbuf:
                select.select([], [self.sock], [], min(0.1, remaining))
        return not self.closed

    # Input

    def pump(self, timeout=0.0):
        """Reads what has arrived (waiting up to `timeout` for the first bytes) and handles it."""
        if self.closed or not self.reading:
            return
        wait = timeout
        for _ in range(64):
            readable, _, _ = select.select([self.sock], [], [], wait)
            if not readable:
                break
            try:
                chunk = self.sock.recv(1 << 18)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.closed = True
                break
            if not chunk:
                self.closed = True
                break
            self.inbuf += chunk
            self.parse()
            wait = 0
        self.flush()  # ACKs

    def wait(self, condition, seconds):
        deadline = time.monotonic() + seconds
        while not condition() and not self.closed and time.monotonic() < deadline:
            self.pump(min(0.05, max(0.0, deadline - time.monotonic())))
        return condition()

    def parse(self):
        offset = 0
        while len(self.inbuf) - offset >= 9:
            length = int.from_bytes(self.inbuf[offset:offset + 3], "big")
            if len(self.inbuf) - offset < 9 + length:
                break
            kind, flags = self.inbuf[offset + 3], self.inbuf[offset + 4]
            sid = int.from_bytes(self.inbuf[offset + 5:offset + 9], "big") & 0x7FFFFFFF
            payload = bytes(self.inbuf[offset + 9:offset + 9 + length])
            offset += 9 + length
            self.handle(kind, flags, sid, payload)
        del self.inbuf[:offset]

    def handle(self, kind, flags, sid, payload):
        now = time.monotonic()
        if kind == DATA:
            if flags & PADDED:
                payload = payload[1:len(payload) - payload[0]]
            stream = self.stream(sid)
            stream.data_bytes += len(payload)
            if len(stream.body) < 65536:
                stream.body += payload[:65536 - len(stream.body)]
            if flags & END_STREAM:
                stream.ended_at = stream.ended_at or now
        elif kind == HEADERS:
            if flags & PADDED:
                payload = payload[1:len(payload) - payload[0]]
            if flags & PRIORITY_FLAG:
                payload = payload[5:]
            self.block = [sid, flags, bytearray(payload)]
            if flags & END_HEADERS:
                self.finish_block(now)
        elif kind == CONTINUATION and self.block:
            self.block[2] += payload
            if flags & END_HEADERS:
                self.finish_block(now)
        elif kind == RST_STREAM:
            stream = self.stream(sid)
            stream.reset = struct.unpack(">I", payload[:4])[0]
            stream.ended_at = stream.ended_at or now
        elif kind == SETTINGS and not flags & ACK:
            for index in range(0, len(payload) - 5, 6):
                key, value = struct.unpack(">HI", payload[index:index + 6])
                if key == SETTINGS_INITIAL_WINDOW_SIZE:
                    delta = value - self.initial_stream_window
                    self.initial_stream_window = value
                    for other in self.stream_windows:
                        self.stream_windows[other] += delta
                self.server_settings[key] = value
            self.settings_seen = True
            self.outbuf += frame(SETTINGS, ACK, 0)
        elif kind == PING and not flags & ACK:
            self.outbuf += frame(PING, ACK, 0, payload)
        elif kind == GOAWAY:
            last, code = struct.unpack(">II", payload[:8])
            self.goaway = (last & 0x7FFFFFFF, code, payload[8:200])
        elif kind == WINDOW_UPDATE:
            increment = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            if sid == 0:
                self.conn_window += increment
            else:
                self.stream_windows[sid] = self.stream_windows.get(sid, self.initial_stream_window) + increment

    def finish_block(self, now):
        sid, flags, block = self.block
        self.block = None
        try:
            fields = self.decoder.decode(bytes(block))
        except Exception as error:  # noqa: BLE001 - a broken reply ends this connection for us
            self.closed = True
            self.goaway = self.goaway or (0, -1, f"undecodable header block: {error}".encode())
            return
        stream = self.stream(sid)
        for name, value in fields:
            stream.headers[name] = value
        if flags & END_STREAM:
            stream.ended_at = stream.ended_at or now

    def describe_end(self):
        parts = []
        if self.goaway:
            parts.append(f"GOAWAY {ERROR_NAMES.get(self.goaway[1], self.goaway[1])} {self.goaway[2][:80]!r}")
        if self.closed:
            parts.append("connection closed")
        return ", ".join(parts)


# --- fresh clients ---------------------------------------------------------------------------------

def grpc_health(port, source=None):
    """A gRPC health check on a new connection; returns a problem or None."""
    deadline = time.monotonic() + FRESH_SECONDS
    client = None
    try:
        client = H2(port, source)
        client.sendall(client.preface() + client.headers(1, grpc_fields(HEALTH_CHECK))
                       + client.data(1, grpc_message(b""), end_stream=True))
        client.wait(lambda: client.stream(1).done, max(0.0, deadline - time.monotonic()))
        stream = client.stream(1)
        if stream.headers.get("grpc-status") != "0" or b"\x08\x01" not in stream.body:
            return f"got {stream.describe()} body {bytes(stream.body[:40])!r} {client.describe_end()}".strip()
        if time.monotonic() > deadline:
            return f"answered after more than {FRESH_SECONDS} s"
        return None
    except (OSError, Failure) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        if client:
            client.close()


def rest_healthz(port, source=None):
    """GET /healthz over HTTP/1.1 on a new connection; returns a problem or None."""
    deadline = time.monotonic() + FRESH_SECONDS
    sock = None
    try:
        sock = open_socket(port, source)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        received = b""
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            lengths = [line.split(b":", 1)[1] for line in head.split(b"\r\n")
                       if line.lower().startswith(b"content-length:")]
            if lengths and len(body) >= int(lengths[0]):
                break
        if not received.startswith(b"HTTP/1.1 200") or b'"ok"' not in received:
            return f"got {received[:120]!r}"
        if time.monotonic() > deadline:
            return f"answered after more than {FRESH_SECONDS} s"
        return None
    except OSError as error:
        return f"{type(error).__name__}: {error}"
    finally:
        if sock:
            sock.close()


def fresh_client_problems(port, source=None):
    where = f" from {source}" if source else ""
    problems = []
    for what, check in (("gRPC health check", grpc_health), ("REST GET /healthz", rest_healthz)):
        problem = check(port, source)
        if problem:
            problems.append(f"a fresh {what}{where} failed: {problem}")
    return problems


# --- memory ----------------------------------------------------------------------------------------

class RSSMonitor:
    """Samples the server's VmRSS every 100 ms in a thread; `over` is set once the growth passes the
    abort threshold or the process is gone."""

    def __init__(self, pid):
        self.pid = pid
        self.idle = self.peak = 0
        self.after = None
        self.gone = False
        self.over = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self):
        try:
            with open(f"/proc/{self.pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None  # gone (or a zombie, which has no VmRSS)

    def sample(self):
        value = self.rss()
        if value is None:
            self.gone = True
            self.over.set()
            return
        self.peak = max(self.peak, value)
        if self.peak - self.idle > ABORT_MIB * MIB:
            self.over.set()

    def _run(self):
        while not self._stop.wait(SAMPLE_SECONDS):
            self.sample()
            if self.gone:
                return

    def start(self):
        value = self.rss()
        if value is None:
            self.gone = True
        self.idle = self.peak = value or 0
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join(timeout=2)
        if not self.gone:
            self.sample()

    @property
    def growth_mib(self):
        return (self.peak - self.idle) / MIB

    def summary(self):
        after = f", after {self.after / MIB:.1f}" if self.after else ""
        return f"rss +{self.growth_mib:.1f} MiB (idle {self.idle / MIB:.1f}, peak {self.peak / MIB:.1f}{after})"


# --- the cases -------------------------------------------------------------------------------------

class Context:
    def __init__(self, args, secret):
        self.port = args.port
        self.pid = args.pid
        self.secret = secret
        self.handshake_timeout = args.handshake_timeout
        self.base = f"http://127.0.0.1:{args.port}"
        self.run = str(int(time.time() * 1000))
        self.monitor = None
        self.problems = []
        self.notes = []
        self.closables = []

    def token(self, role="service", sub="hostile-service", org="hostile"):
        now = int(time.time())
        return jwt.encode({"sub": sub, "role": role, "org": org, "iat": now, "exp": now + 600}, self.secret,
                          algorithm="HS256")

    def expect(self, condition, problem):
        if not condition:
            self.problems.append(problem)
        return condition

    def note(self, text):
        self.notes.append(text)

    def should_stop(self):
        return self.monitor is not None and self.monitor.over.is_set()

    def session(self, token, tag):
        """Creates a session over REST with `token`; returns a requests session for more calls and
        the new session's ID, or (that, None) after recording the problem."""
        http = requests.Session()
        self.closables.append(http)
        body = {"jobId": f"job-{tag}-{self.run}", "testerId": f"tester-{tag}-{self.run}", "variant": "A"}
        created = http.post(f"{self.base}/api/sessions", headers={"Authorization": f"Bearer {token}"}, json=body,
                            timeout=FRESH_SECONDS)
        if not self.expect(created.status_code == 201, f"create: {created.status_code} {created.text[:200]}"):
            return http, None
        return http, created.json()["data"]["sessionId"]

    def h2(self, source=None, rcvbuf=None):
        client = H2(self.port, source, rcvbuf)
        self.closables.append(client)
        return client

    def socket(self, source=None, rcvbuf=None, timeout=FRESH_SECONDS):
        sock = open_socket(self.port, source, rcvbuf, timeout)
        self.closables.append(sock)
        return sock

    def close_all(self):
        for item in self.closables:
            try:
                item.close()
            except OSError:
                pass
        self.closables = []


def carried_over_authorization(ctx):
    """Stream 1's header block carries a valid token and is rejected by nghttp2 after it; stream 3,
    in the same write, has no token. A leak of stream 1's fields into stream 3 shows as
    NOT_FOUND (the token was used) instead of UNAUTHENTICATED."""
    authorization = ("authorization", f"Bearer {ctx.token('service')}")
    request = grpc_message(pb_string(1, "sess_hostile_does_not_exist"))
    base = [(":method", "POST"), (":scheme", "http"), (":path", GET_SESSION), (":authority", "localhost"),
            ("content-type", "application/grpc")]
    variants = [
        ("upper-case name after it", base + [("te", "trailers"), authorization, ("X-Bad", "1")], None),
        ("te: gzip after it", base + [authorization, ("te", "gzip")], None),
        ("duplicated :path after it", base + [("te", "trailers"), authorization, (":path", GET_SESSION)], None),
        ("upper-case name in a CONTINUATION", base + [("te", "trailers"), authorization], [("X-Bad", "1")]),
    ]
    for name, fields, continued in variants:
        client = ctx.h2()
        write = (client.preface() + client.headers(1, fields, end_stream=True, continuation=continued)
                 + client.headers(3, grpc_fields(GET_SESSION)) + client.data(3, request, end_stream=True))
        client.sendall(write)  # one socket write
        client.wait(lambda: client.stream(3).done, FRESH_SECONDS)
        client.wait(lambda: client.stream(1).done, 0.2)
        first, third = client.stream(1), client.stream(3)
        status = third.headers.get("grpc-status")
        if status in ("0", "5"):
            ctx.problems.append(f"{name}: stream 3 (no token) got {third.describe()}: stream 1's token was used")
        elif status != "16":
            ctx.problems.append(f"{name}: stream 3 (no token) got {third.describe()} {client.describe_end()}, "
                                f"expected grpc-status 16")
        ctx.note(f"{name}: stream 1 {first.describe()}, stream 3 {third.describe()}")
        client.close()


def flood_partial_unary(ctx, authorized, seconds=10.0):
    """Opens up to 256 CreateSession streams, each announcing a 4 MiB message and then sending as
    much of it as the windows allow, never completing it. Returns (client, stream IDs, the time the
    HEADERS went out, bytes sent)."""
    client = ctx.h2()
    client.sendall(client.preface())
    if not ctx.expect(client.wait(lambda: client.settings_seen, 3), "no SETTINGS from the server within 3 s"):
        return client, [], time.monotonic(), 0
    client.pump(0.1)  # the connection WINDOW_UPDATE that usually follows SETTINGS
    count = min(256, client.server_settings.get(SETTINGS_MAX_CONCURRENT_STREAMS, 256))
    extra = [("authorization", f"Bearer {ctx.token('service')}")] if authorized else []
    prefix = b"\x00" + struct.pack(">I", MAX_MESSAGE)  # a 4 MiB message follows (it never does, whole)
    sids = [1 + 2 * index for index in range(count)]
    opening = bytearray()
    for sid in sids:
        opening += client.headers(sid, grpc_fields(CREATE_SESSION, *extra)) + client.data(sid, prefix)
    client.sendall(bytes(opening))
    opened = time.monotonic()
    remaining = {sid: MAX_MESSAGE - 1 for sid in sids}  # never the whole message
    zeros = bytes(FRAME_SIZE)
    queued, turn = len(opening), 0
    deadline = opened + seconds
    while time.monotonic() < deadline and not ctx.should_stop() and not client.closed:
        client.pump(0)
        if not client.outbuf:
            active = [sid for sid in sids if not client.stream(sid).done and remaining[sid] > 0]
            if not active:
                break  # every stream answered (or all sent): nothing left to push
            turn += 1
            batch, progress = bytearray(), True
            while progress and len(batch) < (512 << 10) and client.conn_window > 0:
                progress = False
                for index in range(len(active)):
                    sid = active[(index + turn) % len(active)]
                    size = min(FRAME_SIZE, client.conn_window, client.stream_windows.get(sid, 0), remaining[sid])
                    if size <= 0:
                        continue
                    batch += frame(DATA, 0, sid, zeros[:size])
                    client.conn_window -= size
                    client.stream_windows[sid] -= size
                    remaining[sid] -= size
                    progress = True
                    if len(batch) >= (512 << 10) or client.conn_window <= 0:
                        break
            client.outbuf += batch
            queued += len(batch)
        if client.outbuf:
            if not client.flush():
                select.select([client.sock], [client.sock], [], 0.05)
        else:
            client.pump(0.05)  # no window left: wait for credit
    client.pump(0.2)
    return client, sids, opened, queued - len(client.outbuf)


def unauthenticated_partial_unary_streams(ctx):
    client, sids, opened, sent = flood_partial_unary(ctx, authorized=False)
    statuses, late, slowest = {}, 0, 0.0
    for sid in sids:
        stream = client.stream(sid)
        outcome = stream.headers.get("grpc-status") or ("RST" if stream.reset is not None else "none")
        statuses[outcome] = statuses.get(outcome, 0) + 1
        if stream.done:
            slowest = max(slowest, stream.ended_at - opened)
            if stream.ended_at - opened > 2.0:
                late += 1
    answered = statuses.get("16", 0)
    ctx.note(f"{len(sids)} streams, {sent / MIB:.1f} MiB sent, outcomes {statuses}, slowest answer {slowest:.2f} s "
             f"{client.describe_end()}".rstrip())
    ctx.expect(sids and answered == len(sids),
               f"only {answered} of {len(sids)} unauthenticated streams got grpc-status 16 (outcomes {statuses})")
    ctx.expect(late == 0, f"{late} streams were answered more than 2 s after their HEADERS (slowest {slowest:.2f} s)")
    client.close()


def authenticated_partial_unary_streams(ctx):
    client, sids, _, sent = flood_partial_unary(ctx, authorized=True)
    statuses = {}
    for sid in sids:
        stream = client.stream(sid)
        outcome = stream.headers.get("grpc-status") or ("RST" if stream.reset is not None else "open")
        statuses[outcome] = statuses.get(outcome, 0) + 1
    ok = statuses.get("0", 0)
    ctx.expect(ok == 0, f"{ok} streams completed with grpc-status 0 although no message was ever finished")
    ctx.note(f"{len(sids)} streams, {sent / MIB:.1f} MiB accepted by the server in 10 s, outcomes {statuses} "
             f"{client.describe_end()}".rstrip())
    client.close()


def unauthenticated_rest_bodies(ctx, seconds=5.0):
    """REST over h2: up to 256 POST /api/sessions streams with no token, each announcing a 1 MB
    body and sending part of it, never finishing. Each must be answered 401 from its headers
    alone, within 2 s, while its body is still on the way (the server never buffers it)."""
    unauthenticated_bodies(ctx, "/api/sessions", "application/json", "401", seconds)


def unauthenticated_browser_bodies(ctx, seconds=5.0):
    """The same for Connect (JSON, unary: 401) and gRPC-Web (HTTP 200, grpc-status 16 in the
    trailer frame) POSTs to CreateSession, over h2."""
    unauthenticated_bodies(ctx, CREATE_SESSION, "application/json", "401", seconds)
    unauthenticated_bodies(ctx, CREATE_SESSION, "application/grpc-web+proto", "200", seconds)


def unauthenticated_bodies(ctx, path, content_type, status, seconds):
    client = ctx.h2()
    client.sendall(client.preface())
    if not ctx.expect(client.wait(lambda: client.settings_seen, 3), "no SETTINGS from the server within 3 s"):
        return
    client.pump(0.1)
    count = min(256, client.server_settings.get(SETTINGS_MAX_CONCURRENT_STREAMS, 256))
    sids = [1 + 2 * index for index in range(count)]
    fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
              ("content-type", content_type), ("content-length", "1000000")]
    opening = bytearray()
    for sid in sids:
        opening += client.headers(sid, fields) + client.data(sid, b"{" + b" " * 4000)
    client.sendall(bytes(opening))
    opened = time.monotonic()
    client.wait(lambda: all(client.stream(sid).headers.get(":status") for sid in sids), seconds)
    statuses, late = {}, 0
    for sid in sids:
        stream = client.stream(sid)
        status = stream.headers.get(":status", "none")
        statuses[status] = statuses.get(status, 0) + 1
        if status != "none" and stream.ended_at is not None and stream.ended_at - opened > 2.0:
            late += 1
    ctx.note(f"{content_type}: {len(sids)} streams with unfinished 1 MB bodies, statuses {statuses}")
    ctx.expect(sids and statuses.get(status, 0) == len(sids),
               f"only {statuses.get(status, 0)} of {len(sids)} unauthenticated {content_type} streams to {path} "
               f"got {status} (statuses {statuses})")
    ctx.expect(late == 0, f"{late} streams were answered more than 2 s after their HEADERS")
    client.close()


def gzip_bomb_bidi(ctx, seconds=10.0):
    """Compressed reflection requests ({host: 4,000,000 x 'a', list_services: ""}, ~4 KB on the
    wire) on one bidi stream, as many as the windows allow, never reading a reply. The server's
    SETTINGS and first WINDOW_UPDATE are read once, before the stream opens; nothing after."""
    bidi_gzip_bomb(ctx, grpc_fields(REFLECTION, ("grpc-encoding", "gzip"), ("grpc-accept-encoding", "gzip")), seconds)


def connect_gzip_bomb_bidi(ctx, seconds=10.0):
    """The same as a Connect bidi stream over h2 (application/connect+proto, as `buf curl
    --protocol connect` speaks reflection): the full-duplex path has the same bounds."""
    fields = [(":method", "POST"), (":scheme", "http"), (":path", REFLECTION), (":authority", "localhost"),
              ("content-type", "application/connect+proto"), ("connect-protocol-version", "1"),
              ("connect-content-encoding", "gzip"), ("connect-accept-encoding", "gzip")]
    bidi_gzip_bomb(ctx, fields, seconds)


def bidi_gzip_bomb(ctx, fields, seconds):
    inflated = pb_string(1, "a" * 4_000_000) + pb_string(7, "")
    message = grpc_message(gzip(inflated), compressed=True)
    client = ctx.h2(rcvbuf=SMALL_RCVBUF)
    client.sendall(client.preface())
    if not ctx.expect(client.wait(lambda: client.settings_seen, 3), "no SETTINGS from the server within 3 s"):
        return
    client.pump(0.2)
    client.reading = False  # from here on, never recv
    client.sendall(client.headers(1, fields))
    stream_bytes = message * max(1, (1 << 20) // len(message))
    start = time.monotonic()
    deadline = start + seconds
    position = queued = 0
    window = min(client.conn_window, client.stream_windows[1])
    while time.monotonic() < deadline and not ctx.should_stop() and not client.closed:
        if not client.outbuf:
            size = min(FRAME_SIZE, client.conn_window, client.stream_windows[1])
            if size <= 0:
                break
            batch = bytearray()
            while size > 0 and len(batch) < (256 << 10):
                chunk = stream_bytes[position:position + size]
                if len(chunk) < size:
                    chunk += stream_bytes[:size - len(chunk)]
                position = (position + size) % len(stream_bytes)
                batch += client.data(1, chunk)
                size = min(FRAME_SIZE, client.conn_window, client.stream_windows[1])
            client.outbuf += batch
            queued += len(batch)
        if not client.flush() and client.outbuf:
            select.select([], [client.sock], [], 0.05)
    windows_used = time.monotonic() - start
    while time.monotonic() < deadline and not ctx.should_stop():  # let the server chew on it
        time.sleep(0.1)
    sent = queued - len(client.outbuf) - 9 * (queued // (FRAME_SIZE + 9))  # without frame headers
    messages = sent // len(message)
    ctx.note(f"{len(message)} B per message, {messages} messages sent ({messages * 4.0:.0f} MB to inflate) in "
             f"{windows_used:.1f} s, send window was {window} B" + (", server closed" if client.closed else ""))
    ctx.expect(messages > 0, "not one compressed message could be sent")
    client.close()


def pipelining_http1_never_reads(ctx):
    reply = requests.get(f"{ctx.base}/openapi.json", timeout=FRESH_SECONDS)
    request = b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"
    sock = ctx.socket(rcvbuf=SMALL_RCVBUF)
    sock.setblocking(False)
    sent, closed_after, stall = send_for(ctx, sock, request * 1024, 8.0)
    requests_sent = sent // len(request)
    ctx.note(f"{requests_sent} requests sent (replies of {len(reply.content)} B: "
             f"{requests_sent * len(reply.content) / MIB:.0f} MiB if all were answered), "
             f"longest send stall {stall:.1f} s"
             + (f", server closed after {closed_after:.1f} s" if closed_after is not None else ""))
    ctx.expect(requests_sent > 0, "not one request could be sent")
    sock.close()


def rest_targets_batch(ctx):
    """rest_targets_mixed_never_read's write: (the bytes, the statuses expected in order), or
    (None, None) when the session it reads could not be created."""
    token = ctx.token("service")
    _, sid = ctx.session(token, "targets")
    if sid is None:
        return None, None
    auth = f"Host: x\r\nAuthorization: Bearer {token}\r\n"
    targets = [
        (f"/api/sessions/{sid}", auth, b"200"),
        ("/api/sessions/%zz", auth, b"400"),
        ("/api/sessions?" + "limit=5&" * 1500, auth, b"400"),
        ("/" + "a/" * 3000, auth, b"404"),
        (GET_SESSION + "?encoding=json&message=%zz", auth, b"400"),
        (f"/api/sessions/{sid}", "Host: x\r\n", b"401"),
        (f"/api/sessions/{sid}", f"Authorization: Bearer {token}\r\n", b"400"),  # no Host
        (f"/api/sessions/{sid}", "Host: y\r\n" + auth, b"400"),  # two
    ]
    batch = b"".join(f"GET {target} HTTP/1.1\r\n{extra}\r\n".encode() for target, extra, _ in targets)
    return batch, [status for _, _, status in targets]


def rest_targets_answered(ctx, batch):
    """Sends `batch` and a closing health check on a fresh connection in one write; returns the
    statuses answered within the fresh-client time and the seconds until the server closed."""
    sock = ctx.socket()
    started = time.monotonic()
    sock.sendall(batch + b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    received = b""
    while (left := FRESH_SECONDS - (time.monotonic() - started)) > 0:
        sock.settimeout(left)  # what comes after the fresh-client time is not counted
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        received += chunk
    sock.close()
    return re.findall(rb"HTTP/1\.1 (\d{3}) ", received), time.monotonic() - started


def rest_targets_mixed_never_read(ctx, seconds=8.0, connections=16):
    """REST and Connect GET targets, valid and invalid mixed in one write (a session, a broken
    escape, a parameter given 1,500 times, 3,000 path segments, a Connect query with a broken
    escape, no token, no Host, two Hosts), sent over and over by 16 connections at once that never read their answers;
    before and after, a reading connection gets every answer, in order, within the fresh-client time."""
    batch, expected = rest_targets_batch(ctx)
    if batch is None:
        return

    def answered_in_order(when):
        statuses, took = rest_targets_answered(ctx, batch)
        ctx.expect(statuses == expected + [b"200"],
                   f"{when}: statuses {[s.decode() for s in statuses]} in {took:.1f} s, "
                   f"expected {[s.decode() for s in expected]} and the health check's 200")

    answered_in_order("before")
    senders = []
    results = [None] * connections
    for index in range(connections):
        sock = ctx.socket(rcvbuf=SMALL_RCVBUF)
        sock.setblocking(False)

        def send(index=index, sock=sock):
            results[index] = send_for(ctx, sock, batch, seconds)
        senders.append(threading.Thread(target=send))
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    sent = sum(result[0] for result in results if result)
    closed = sum(1 for result in results if result and result[1] is not None)
    ctx.note(f"{connections} connections sent {sent // len(batch)} batches of {len(expected)} requests "
             f"({sent / MIB:.1f} MiB) without reading; {closed} closed by the server")
    ctx.expect(sent >= connections * len(batch), "the connections could not send one batch each")
    answered_in_order("after")


def grpc_metadata_mixed_never_read(ctx, seconds=8.0, connections=8):
    """gRPC calls whose request fields take every branch of the transport's field reading, valid
    and invalid mixed in one write (custom and -bin metadata, -bin that is not base64, a malformed
    grpc-timeout, an unsupported grpc-encoding, no te, no token), sent over and over on new streams
    by 8 connections at once that never read their answers; before and after, a reading connection
    gets every call's status within the fresh-client time."""
    token = ctx.token("service")
    _, session = ctx.session(token, "metadata")
    if session is None:
        return
    auth = ("authorization", f"Bearer {token}")
    request = grpc_message(pb_string(1, session))
    calls = [
        (grpc_fields(GET_SESSION, auth, ("x-trace", "abc"), ("trace-bin", "AAEC"), ("grpc-timeout", "5S"),
                     ("grpc-accept-encoding", "identity,gzip"), ("user-agent", "hostile")), "0"),
        (grpc_fields(GET_SESSION, auth, ("trace-bin", "!!not base64!!")), "3"),
        (grpc_fields(GET_SESSION, auth, ("grpc-timeout", "soon")), "3"),
        (grpc_fields(GET_SESSION, auth, ("grpc-encoding", "br")), "12"),
        ([field for field in grpc_fields(GET_SESSION, auth) if field[0] != "te"], "13"),
        (grpc_fields(GET_SESSION, ("x-trace", "abc")), "16"),
    ]
    expected = [status for _, status in calls]

    def batch(client, first):
        out = bytearray()
        for index, (fields, _) in enumerate(calls):
            sid = first + 2 * index
            out += client.headers(sid, fields) + client.data(sid, request, end_stream=True)
        return bytes(out), first + 2 * len(calls)

    def answered(when):
        client = ctx.h2()
        started = time.monotonic()
        write, _ = batch(client, 1)
        client.sendall(client.preface() + write)  # one write
        sids = [1 + 2 * index for index in range(len(calls))]
        client.wait(lambda: all(client.stream(sid).done for sid in sids), FRESH_SECONDS)
        got = [client.stream(sid).headers.get("grpc-status") for sid in sids]
        ctx.expect(got == expected,
                   f"{when}: grpc-status {got} in {time.monotonic() - started:.1f} s, expected {expected}: "
                   + "; ".join(client.stream(sid).describe() for sid in sids) + f" {client.describe_end()}")
        client.close()

    def flood(client, result):
        sent, sid, start = 0, 1, time.monotonic()
        client.outbuf += client.preface()
        while time.monotonic() - start < seconds and not ctx.should_stop() and not client.closed:
            if len(client.outbuf) < (256 << 10):
                more, sid = batch(client, sid)
                client.outbuf += more
            count = client.flush()
            sent += count
            if not count and not client.closed:
                select.select([], [client.sock], [], 0.1)
        result.extend([sent, sid // 2, client.closed])

    answered("before")
    results = [[] for _ in range(connections)]
    senders = [threading.Thread(target=flood, args=(ctx.h2(rcvbuf=SMALL_RCVBUF), results[index]))
               for index in range(connections)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    sent = sum(result[0] for result in results if result)
    streams = sum(result[1] for result in results if result)
    closed = sum(1 for result in results if result and result[2])
    ctx.note(f"{connections} connections sent {sent / MIB:.1f} MiB, up to {streams} streams, without reading; "
             f"{closed} closed by the server")
    ctx.expect(streams >= connections * len(calls), "the connections could not send one batch each")
    answered("after")


def unauthenticated_http1_body_forever(ctx, seconds=8.0):
    """HTTP/1.1 POST /api/sessions with no token and a chunked body that never ends, sent as fast
    as the server takes it: refused from its head, the body is discarded, never buffered. With
    Expect: 100-continue the 401 comes at once, without the body."""
    head = b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"4000\r\n" + b"x" * 0x4000 + b"\r\n"
    sock = ctx.socket()
    sock.sendall(head)
    sock.setblocking(False)
    sent, closed_after, _ = send_for(ctx, sock, chunk * 16, seconds)
    ctx.note(f"{sent / MIB:.0f} MiB of body sent in {seconds:.0f} s"
             + (f", server closed after {closed_after:.1f} s" if closed_after is not None else ""))
    ctx.expect(sent > 16 * MIB, f"only {sent / MIB:.1f} MiB could be sent: the server is not reading and discarding")
    sock.close()
    expecting = ctx.socket()
    expecting.sendall(b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
    expecting.settimeout(FRESH_SECONDS)
    try:
        reply = expecting.recv(4096)
    except socket.timeout:
        reply = b""
    ctx.expect(reply.startswith(b"HTTP/1.1 401"), f"Expect: 100-continue without a token got {reply[:60]!r}")
    expecting.close()


def ping_flood_never_reads(ctx):
    client = ctx.h2(rcvbuf=SMALL_RCVBUF)
    client.reading = False
    client.sendall(client.preface())
    ping = frame(PING, 0, 0, b"hostile!")
    sent, closed_after, stall = send_for(ctx, client.sock, ping * 4096, 8.0)
    ctx.note(f"{sent // len(ping)} PINGs sent, longest send stall {stall:.1f} s"
             + (f", server closed the connection after {closed_after:.1f} s" if closed_after is not None
                else ", the connection stayed open"))
    client.close()


def browser_gzip_bombs(ctx, seconds=10.0):
    """Connect unary (content-encoding: gzip) and gRPC-Web (a compressed frame) GetSession
    requests whose ~64 KB body inflates to 64 MiB, from 8 threads at once for `seconds`, each
    read: every one is refused RESOURCE_EXHAUSTED (Connect 429, gRPC-Web grpc-status 8) once the
    inflated bytes pass the message limit, and never inflated whole."""
    token = ctx.token("service")
    bomb = gzip(b"\x00" * (64 << 20))
    results, lock = {}, threading.Lock()
    started = time.monotonic()

    def attack(index):
        http = requests.Session()
        ctx.closables.append(http)
        grpc_web = index % 2 == 1
        headers = {"authorization": f"Bearer {token}"}
        if grpc_web:
            headers.update({"content-type": "application/grpc-web+proto", "grpc-encoding": "gzip"})
            body = b"\x01" + struct.pack(">I", len(bomb)) + bomb
        else:
            headers.update({"content-type": "application/proto", "content-encoding": "gzip",
                            "connect-protocol-version": "1"})
            body = bomb
        while time.monotonic() - started < seconds and not ctx.should_stop():
            try:
                reply = http.post(f"{ctx.base}{GET_SESSION}", headers=headers, data=body, timeout=FRESH_SECONDS)
                if grpc_web:
                    trailer = reply.content[5:].split(b"\r\n")[0].decode(errors="replace")
                    outcome = f"grpc-web {reply.status_code} {trailer}"
                else:
                    outcome = f"connect {reply.status_code} {reply.text[:40]}"
            except requests.RequestException as error:
                outcome = f"error {type(error).__name__}"
            with lock:
                results[outcome] = results.get(outcome, 0) + 1

    threads = [threading.Thread(target=attack, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * FRESH_SECONDS)
    ctx.note(f"{sum(results.values())} bombs of {len(bomb)} bytes: {results}")
    expected = ("grpc-web 200 grpc-status:8", 'connect 429 {"code":"resource_exhausted"')
    wrong = {outcome: count for outcome, count in results.items() if not outcome.startswith(expected)}
    ctx.expect(results and not wrong, f"answers other than RESOURCE_EXHAUSTED: {wrong}")


SSE_H2_STREAMS = 200
SSE_CHANGES = 1500


def sse_subscriber_never_reads(ctx, seconds=20.0):
    """One session, watched by one HTTP/1.1 SSE connection and 200 SSE streams on one HTTP/2
    connection (fewer if SETTINGS_MAX_CONCURRENT_STREAMS says so), all with small receive buffers;
    each reads its response head (and the snapshot) and then never reads again, while ~1,500
    pause/resume changes (each one event) are published. (Notes changes emit no events; status
    changes do.)"""
    watchers_never_read(ctx, "sse", seconds)


def browser_watchers_never_read(ctx, seconds=20.0):
    """The same with WatchSession over Connect streaming (application/connect+json) on the
    HTTP/1.1 connection and over gRPC-Web (application/grpc-web+proto) on the HTTP/2 streams."""
    watchers_never_read(ctx, "browser", seconds)


def watchers_never_read(ctx, kind, seconds):
    token = ctx.token("service")
    auth = {"Authorization": f"Bearer {token}"}
    http, sid = ctx.session(token, f"hostile-{kind}")
    if sid is None:
        return
    path = f"/api/sessions/{sid}/events"
    watch = "/sessions.v1.SessionService/WatchSession"
    json_request = ('{"sessionId": "%s"}' % sid).encode()
    proto_request = pb_string(1, sid)  # WatchSessionRequest.session_id

    sock = ctx.socket(rcvbuf=SMALL_RCVBUF)
    if kind == "sse":
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Bearer {token}\r\n\r\n"
                     .encode())
        first_event, content_type = b"data:", b"text/event-stream"
    else:
        body = b"\x00" + struct.pack(">I", len(json_request)) + json_request
        sock.sendall(f"POST {watch} HTTP/1.1\r\nHost: x\r\nContent-Type: application/connect+json\r\n"
                     f"Connect-Protocol-Version: 1\r\nAuthorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
                     .encode() + body)
        first_event, content_type = sid.encode(), b"application/connect+json"
    head, deadline = b"", time.monotonic() + FRESH_SECONDS
    while first_event not in head and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            break
        if not chunk:
            break
        head += chunk
    ctx.expect(head.startswith(b"HTTP/1.1 200") and content_type in head.lower() and first_event in head,
               f"HTTP/1.1 {kind} subscription: got {head[:200]!r}")

    client = ctx.h2(rcvbuf=SMALL_RCVBUF)
    if kind == "sse":
        fields = [(":method", "GET"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
                  ("accept", "text/event-stream"), ("authorization", f"Bearer {token}")]
    else:
        fields = [(":method", "POST"), (":scheme", "http"), (":path", watch), (":authority", "localhost"),
                  ("content-type", "application/grpc-web+proto"), ("x-grpc-web", "1"), ("authorization", f"Bearer {token}")]
    client.sendall(client.preface())
    client.wait(lambda: client.settings_seen, 3)
    streams = min(SSE_H2_STREAMS, client.server_settings.get(SETTINGS_MAX_CONCURRENT_STREAMS, SSE_H2_STREAMS))
    sids = [1 + 2 * index for index in range(streams)]
    if kind == "sse":
        client.sendall(b"".join(client.headers(s, fields, end_stream=True) for s in sids))
    else:
        client.sendall(b"".join(client.headers(s, fields) + client.data(s, grpc_message(proto_request), end_stream=True)
                                for s in sids))
    client.wait(lambda: all(":status" in client.stream(s).headers for s in sids), FRESH_SECONDS)
    subscribed = sum(client.stream(s).headers.get(":status") == "200" for s in sids)
    ctx.expect(subscribed == len(sids), f"only {subscribed} of {len(sids)} HTTP/2 {kind} streams answered 200 "
                                        f"{client.describe_end()}".rstrip())
    client.reading = False  # from here on, never recv (nor on the HTTP/1.1 one)

    changes, started = 0, time.monotonic()
    while changes < SSE_CHANGES and time.monotonic() - started < seconds and not ctx.should_stop():
        action = "pause" if changes % 2 == 0 else "resume"
        reply = http.post(f"{ctx.base}/api/sessions/{sid}/{action}", headers=auth, timeout=FRESH_SECONDS)
        if not ctx.expect(reply.status_code == 200, f"{action} #{changes + 1}: {reply.status_code} {reply.text[:200]}"):
            break
        changes += 1
    took = time.monotonic() - started
    time.sleep(1.0)  # the fan-out may lag the commits
    ctx.note(f"{changes} changes published in {took:.1f} s to {1 + subscribed} subscribers that never read")
    http.close()


def watch_metrics(ctx, http):
    """(WatchSession calls ended, REST GET 200 replies) from /metrics."""
    import re
    text = http.get(f"{ctx.base}/metrics", timeout=FRESH_SECONDS).text
    ended = sum(int(n) for n in re.findall(
        r'rpc_server_handled_total\{method="/sessions.v1.SessionService/WatchSession",code="[A-Z_]+"\} (\d+)', text))
    ok = re.search(r'http_server_requests_total\{method="GET",status="200"\} (\d+)', text)
    return ended, int(ok.group(1)) if ok else 0


def sse_subscribers_that_leave(ctx, count=100):
    """HTTP/1.1 SSE subscribers that reset their connection right after sending the request: every
    watch call that was started must end with its connection (none left running)."""
    token = ctx.token("service")
    http, sid = ctx.session(token, "leave")
    if sid is None:
        return
    ended_before, ok_before = watch_metrics(ctx, http)
    for _ in range(count):
        sock = ctx.socket()
        sock.sendall(f"GET /api/sessions/{sid}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
                     .encode())
        time.sleep(0.002 * (_ % 5))  # some leave before the server answers, some while it does
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    deadline = time.monotonic() + 10
    reads = 1  # /metrics reads so far; each is counted as a GET 200 by the next one
    while True:
        ended, ok = watch_metrics(ctx, http)
        started = ok - ok_before - reads
        reads += 1
        finished = ended - ended_before
        if finished >= started or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    ctx.note(f"{count} subscribers left at once: {started} watch calls started, {finished} ended")
    ctx.expect(started > 0, "no watch call started: the case exercised nothing")
    ctx.expect(finished >= started, f"{started - finished} of {started} watch calls kept running after their client left")


def poll_closed(entries, timeout):
    """Marks the entries ([socket, opened at, closed at]) whose connection the server closed."""
    still_open = [entry for entry in entries if entry[2] is None]
    if not still_open:
        time.sleep(timeout)
        return
    readable, _, _ = select.select([entry[0] for entry in still_open], [], [], timeout)
    now = time.monotonic()
    for entry in still_open:
        if entry[0] not in readable:
            continue
        try:
            if not entry[0].recv(4096):
                entry[2] = now
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:  # reset
            entry[2] = now


def silent_connections_one_address(ctx):
    count = 200
    silent = []  # [socket, opened at, closed at]
    failed_connects = 0
    started = time.monotonic()
    while len(silent) + failed_connects < count and time.monotonic() - started < 15:
        try:
            sock = ctx.socket(timeout=1)
        except OSError:
            failed_connects += 1
            continue
        sock.setblocking(False)
        silent.append([sock, time.monotonic(), None])
        poll_closed(silent, 0)
    opened_all = time.monotonic()

    second = {}
    helper = threading.Thread(target=lambda: second.update(problems=fresh_client_problems(ctx.port, "127.0.0.2")),
                              daemon=True)
    helper.start()
    deadline = opened_all + ctx.handshake_timeout + 3
    while time.monotonic() < deadline or helper.is_alive():
        if time.monotonic() > deadline + 2 * FRESH_SECONDS + 2:
            break
        if all(entry[2] is not None for entry in silent) and not helper.is_alive():
            break
        poll_closed(silent, 0.05)
    helper.join(timeout=1)
    ctx.problems += second.get("problems", ["the client from 127.0.0.2 did not finish"])

    at_once = min(1.0, ctx.handshake_timeout / 2)
    refused = sum(1 for s in silent if s[2] is not None and s[2] - s[1] <= at_once)
    timed_out = sum(1 for s in silent if s[2] is not None and at_once < s[2] - s[1] <= ctx.handshake_timeout + 3)
    late = sum(1 for s in silent if s[2] is not None and s[2] - s[1] > ctx.handshake_timeout + 3)
    still = sum(1 for s in silent if s[2] is None)
    ctx.note(f"{len(silent)} opened ({failed_connects} connects failed) in {opened_all - started:.1f} s: "
             f"{refused} closed at once, {timed_out} closed by the deadline, {late} closed late, {still} still open")
    ctx.expect(still == 0 and late == 0,
               f"{still + late} of {len(silent)} silent connections were not closed within "
               f"{ctx.handshake_timeout} + 3 s ({still} still open)")


CASES = [carried_over_authorization, unauthenticated_partial_unary_streams, authenticated_partial_unary_streams,
         unauthenticated_rest_bodies, unauthenticated_browser_bodies, unauthenticated_http1_body_forever,
         sse_subscribers_that_leave, gzip_bomb_bidi, connect_gzip_bomb_bidi, browser_gzip_bombs,
         pipelining_http1_never_reads, rest_targets_mixed_never_read, grpc_metadata_mixed_never_read,
         ping_flood_never_reads, sse_subscriber_never_reads, browser_watchers_never_read,
         silent_connections_one_address]


def run_case(ctx, case):
    ctx.problems, ctx.notes = [], []
    monitor = RSSMonitor(ctx.pid)
    ctx.monitor = monitor
    started = time.monotonic()
    if monitor.rss() is None:
        return [f"the server (pid {ctx.pid}) is not running"], "", 0.0
    monitor.start()
    try:
        case(ctx)
    except Failure as error:
        ctx.problems.append(str(error))
    except Exception:  # noqa: BLE001 - report it and go on with the next case
        ctx.problems.append("the case crashed: " + traceback.format_exc().strip().replace("\n", " | "))
    finally:
        monitor.stop()
        ctx.close_all()
        ctx.monitor = None
    problems = list(ctx.problems)
    if monitor.gone:
        problems.append(f"the server (pid {ctx.pid}) died")
    elif monitor.growth_mib >= RSS_BOUND_MIB:
        stopped = f"; the attack was stopped at the {ABORT_MIB} MiB abort threshold" if monitor.over.is_set() else ""
        problems.append(f"RSS grew {monitor.growth_mib:.1f} MiB above idle (bound {RSS_BOUND_MIB} MiB{stopped})")
    if not monitor.gone:
        problems += fresh_client_problems(ctx.port)
        monitor.after = monitor.rss()  # what the server kept once the attacker left (information only)
    details = monitor.summary() + f", {time.monotonic() - started:.1f} s"
    if ctx.notes:
        details += "; " + "; ".join(ctx.notes)
    return problems, details, time.monotonic() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--handshake-timeout", type=float, default=2.0,
                        help="the server's --handshake-timeout, in seconds")
    parser.add_argument("--cases", default=",".join(case.__name__ for case in CASES))
    args = parser.parse_args()
    wanted = [name for name in args.cases.split(",") if name]
    known = {case.__name__ for case in CASES}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        sys.exit(f"unknown cases: {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    with open(args.secret_file) as file:
        secret = file.read().strip()
    ctx = Context(args, secret)
    passed = failed = 0
    for case in CASES:
        if case.__name__ not in wanted:
            continue
        problems, details, _ = run_case(ctx, case)
        if problems:
            failed += 1
            print(f"FAIL {case.__name__}: {'; '.join(problems)} [{details}]", flush=True)
        else:
            passed += 1
            print(f"PASS {case.__name__}: {details}", flush=True)
    print(f"hostile clients: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
