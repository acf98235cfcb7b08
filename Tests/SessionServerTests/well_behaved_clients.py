"""Well-behaved clients the hostile-client bounds must never stall (regressions of an attacker's
review): each case is a legal client that reads everything and acknowledges what it reads.

    well_behaved_clients.py --port P --pid SERVER_PID --secret-file PATH [--cases a,b]

Prints PASS/FAIL per case and "well-behaved clients: N passed, M failed"; exits 1 on a failure.
Every case is bounded in time; loopback only.
"""
import argparse
import socket
import struct
import sys
import time

import h2.config
import h2.connection
import h2.events
import jwt

MIB = 1 << 20
HEALTH_CHECK = "/grpc.health.v1.Health/Check"
REFLECTION = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class Client:
    """An h2 connection that reads everything and acknowledges all data it receives."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(0.05)
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.flush()
        self.headers, self.ended, self.received, self.closed = {}, set(), {}, False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.settimeout(10)  # pump() leaves a short timeout meant for reading
            self.sock.sendall(data)

    def open(self, fields, end_stream=False):
        stream = self.conn.get_next_available_stream_id()
        self.conn.send_headers(stream, fields, end_stream=end_stream)
        return stream

    def pump(self, wait=0.05):
        self.sock.settimeout(wait)
        try:
            data = self.sock.recv(1 << 16)
        except (socket.timeout, BlockingIOError):
            return
        except OSError:
            self.closed = True
            return
        if not data:
            self.closed = True
            return
        for event in self.conn.receive_data(data):
            if isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                self.headers.setdefault(event.stream_id, {}).update(dict(event.headers))
            elif isinstance(event, h2.events.DataReceived):
                self.received[event.stream_id] = self.received.get(event.stream_id, 0) + len(event.data)
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                self.ended.add(event.stream_id)
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.closed = True
        self.flush()

    def upload(self, bodies, seconds):
        """Sends each stream's body as flow control allows, round-robin, ending each stream;
        returns once every stream ended or `seconds` passed."""
        pending = {stream: memoryview(body) for stream, body in bodies.items()}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self.closed and not set(bodies) <= self.ended:
            for stream, rest in list(pending.items()):
                if stream in self.ended:
                    del pending[stream]
                    continue
                size = min(self.conn.local_flow_control_window(stream), self.conn.max_outbound_frame_size, len(rest))
                if size > 0:
                    self.conn.send_data(stream, bytes(rest[:size]))
                    rest = rest[size:]
                pending[stream] = rest
                if not len(rest):
                    self.conn.end_stream(stream)
                    del pending[stream]
            self.flush()
            self.pump(0.001 if pending else 0.05)
        return {stream: stream in self.ended for stream in bodies}

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def grpc_fields(path, token=None):
    fields = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "localhost"),
              ("content-type", "application/grpc"), ("te", "trailers")]
    return fields + ([("authorization", f"Bearer {token}")] if token else [])


def framed(payload):
    return b"\x00" + struct.pack(">I", len(payload)) + payload


# --- cases -----------------------------------------------------------------------------------------

def many_large_responses(ctx):
    """100 concurrent GET /openapi.json (about 7 MiB of responses, more than the output cap)."""
    client = Client(ctx.port)
    streams = [client.open([(":method", "GET"), (":path", "/openapi.json"), (":scheme", "http"),
                            (":authority", "x")], end_stream=True) for _ in range(100)]
    client.flush()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not client.closed and not set(streams) <= client.ended:
        client.pump()
    done = [s for s in streams if client.headers.get(s, {}).get(":status") == "200" and s in client.ended]
    refused = [s for s in streams if s in client.ended and s not in done]
    client.close()
    # Streams past the output cap may be refused (REFUSED_STREAM, which clients retry), never stalled.
    check(len(done) + len(refused) == len(streams), f"{len(done)} done, {len(refused)} refused of {len(streams)}: some stalled")
    check(len(done) >= 50, f"only {len(done)} of {len(streams)} completed")
    return f"{len(done)} completed, {len(refused)} refused (retryable)"


def concurrent_largest_uploads(ctx):
    """Five unary messages of the largest allowed size (4 MiB) at once, sent round-robin: more
    than the connection's request budget together, each within it."""
    client = Client(ctx.port)
    body = framed(b"\x0a" * (4 * MIB - 5))
    bodies = {client.open(grpc_fields(HEALTH_CHECK)): body for _ in range(5)}
    answered = client.upload(bodies, 30)
    statuses = [client.headers.get(s, {}).get("grpc-status") for s in bodies]
    client.close()
    check(all(answered.values()), f"answered {sum(answered.values())} of {len(bodies)} (statuses {statuses})")
    check(all(status is not None for status in statuses), f"a stream ended without a status: {statuses}")
    return f"statuses {statuses}"


def rest_uploads(ctx):
    """Twenty authenticated 1 MB REST bodies on one connection (more than the budget together)."""
    client = Client(ctx.port)
    body = b'{"jobId": "' + b"j" * (1_000_000 - 40) + b'", "testerId": "t", "variant": "A"}'
    fields = [(":method", "POST"), (":scheme", "http"), (":path", "/api/sessions"), (":authority", "x"),
              ("content-type", "application/json"), ("content-length", str(len(body))),
              ("authorization", f"Bearer {ctx.token}")]
    bodies = {client.open(fields): body for _ in range(20)}
    answered = client.upload(bodies, 40)
    statuses = sorted({client.headers.get(s, {}).get(":status", "RST") for s in bodies})
    client.close()
    check(all(answered.values()), f"answered {sum(answered.values())} of {len(bodies)} (statuses {statuses})")
    return f"statuses {statuses}"


def large_streaming_message(ctx):
    """One 2 MiB message (twice the stream window) on a streaming call."""
    client = Client(ctx.port)
    host = b"a" * (2 * MIB)
    request = b"\x0a" + encode_varint(len(host)) + host  # ServerReflectionRequest.host
    stream = client.open(grpc_fields(REFLECTION))
    answered = client.upload({stream: framed(request)}, 20)
    status = client.headers.get(stream, {}).get("grpc-status")
    client.close()
    check(answered[stream] and status is not None, f"the call did not end with a status (got {client.headers.get(stream)})")
    return f"grpc-status {status}"


def streams_reset_in_their_first_read(ctx):
    """70 requests each reset in the same write that opened them, then /healthz on the same
    connection: the answers that were never sent must not pile up and wedge the connection."""
    client = Client(ctx.port)
    for _ in range(70):
        stream = client.open([(":method", "GET"), (":path", "/openapi.json"), (":scheme", "http"),
                              (":authority", "x")], end_stream=True)
        client.conn.reset_stream(stream, 8)
    client.flush()
    time.sleep(0.5)
    health = client.open([(":method", "GET"), (":path", "/healthz"), (":scheme", "http"), (":authority", "x")],
                         end_stream=True)
    client.flush()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and health not in client.ended and not client.closed:
        client.pump()
    status = client.headers.get(health, {}).get(":status")
    client.close()
    check(status == "200", f"/healthz on the same connection got {status}")
    return "the connection still answers"


def long_stream_with_split_messages(ctx):
    """A streaming call carrying 64 MiB in 4 KB messages cut across DATA frames: the server's
    buffers must not grow with what the stream has carried."""
    client = Client(ctx.port)
    stream = client.open(grpc_fields(REFLECTION))
    host = b"h" * 4000
    message = framed(b"\x0a" + encode_varint(len(host)) + host + b"\x3a\x00")  # host, list_services ""
    chunk = message * 64
    before = rss_mib(ctx.pid)
    peak = before
    sent = offset = 0
    deadline = time.monotonic() + 20
    while sent < 64 * MIB and time.monotonic() < deadline and not client.closed:
        window = min(client.conn.local_flow_control_window(stream), client.conn.max_outbound_frame_size)
        if window > 7:
            # An odd frame size, so messages are cut across frames.
            piece = chunk[offset:offset + window - 3]
            client.conn.send_data(stream, piece)
            sent += len(piece)
            offset = (offset + len(piece)) % len(chunk)
            client.flush()
        client.pump(0.001)
        peak = max(peak, rss_mib(ctx.pid))
    client.close()
    check(sent >= 16 * MIB, f"only {sent / MIB:.1f} MiB went through in 20 s")
    check(peak - before < 48, f"RSS grew {peak - before:.1f} MiB while the stream carried {sent / MIB:.0f} MiB")
    return f"{sent / MIB:.0f} MiB carried, RSS +{peak - before:.1f} MiB"


def encode_varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


CASES = [many_large_responses, concurrent_largest_uploads, rest_uploads, large_streaming_message,
         streams_reset_in_their_first_read, long_stream_with_split_messages]


class Context:
    def __init__(self, args, secret):
        self.port, self.pid = args.port, args.pid
        self.token = jwt.encode({"sub": "well-behaved", "role": "service", "org": "wb", "exp": int(time.time()) + 3600},
                                secret, "HS256")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--cases", default=",".join(case.__name__ for case in CASES))
    args = parser.parse_args()
    with open(args.secret_file) as file:
        ctx = Context(args, file.read().strip())
    wanted = set(args.cases.split(","))
    passed = failed = 0
    for case in CASES:
        if case.__name__ not in wanted:
            continue
        started = time.monotonic()
        try:
            note = case(ctx)
            passed += 1
            print(f"PASS {case.__name__}: {note} ({time.monotonic() - started:.1f} s)", flush=True)
        except Failure as error:
            failed += 1
            print(f"FAIL {case.__name__}: {error} ({time.monotonic() - started:.1f} s)", flush=True)
        except Exception as error:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"FAIL {case.__name__}: crashed: {error!r}", flush=True)
    print(f"well-behaved clients: {passed} passed, {failed} failed", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
