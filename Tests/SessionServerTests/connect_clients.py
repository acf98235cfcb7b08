"""Calls a running sessiond over the Connect protocol and gRPC-Web with stock clients.

    connect_clients.py --port PORT --secret-file DATA/jwt-secret

- connectrpc (PyPI, the Connect project's Python client), with stubs its protoc plugin
  (protoc-gen-connectrpc, PyPI) generates at run time over google.protobuf messages: the whole
  lifecycle, every unary method of sessions.v1.SessionService and WatchSession, with both codecs
  (proto and JSON) over both HTTP/1.1 and h2 (prior knowledge), Connect GET for the side-effect-free
  methods, and the error cases; then gRPC-Web (HTTP/1.1, h2) and gRPC (h2) through the same client.
  The client's transport (pyqwest) reports the HTTP version of every response, which is checked.
- `buf curl` (PyPI buf-bin) with --protocol connect, grpcweb and grpc, over HTTP/1.1 (the schema from
  a descriptor set: buf needs h2 for reflection) and h2 (--http2-prior-knowledge; the schema from the
  server's reflection, a bidi stream in the protocol chosen): CreateSession with an idempotency key,
  GetSession, WatchSession's first event, and not_found.
- A gRPC-Web-text call written by hand with `requests` (HTTP/1.1): base64 frames in, data frame and
  trailer frame out.

Every call is bounded (10 s); talks to 127.0.0.1 only.
"""
import argparse
import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import grpc_tools
import jwt
import requests
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SCHEMA = os.path.join(ROOT, "schema")
WELL_KNOWN = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
TIMEOUT = 10

passes, failures = [], []


def check(condition, message):
    print(("PASS " if condition else "FAIL ") + message, flush=True)
    (passes if condition else failures).append(message)
    return condition


def tool(name):
    """A console script of this venv (where the script's python lives), else from PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), name)
    return beside if os.path.exists(beside) else shutil.which(name)


def generate():
    """Messages (python_out) and Connect stubs (protoc-gen-connectrpc over google.protobuf, sync
    client only) for schema/, plus a descriptor set for `buf curl --schema`."""
    out = tempfile.mkdtemp(prefix="sessions-connect-py-")
    plugin = tool("protoc-gen-connectrpc")
    if not plugin:
        sys.exit("protoc-gen-connectrpc is missing: pip install -r tools/requirements-test.txt")
    arguments = ["protoc", f"-I{SCHEMA}", f"-I{WELL_KNOWN}", f"--python_out={out}",
                 f"--plugin=protoc-gen-connectrpc={plugin}", f"--connectrpc_out={out}",
                 "--connectrpc_opt=protobuf=google,io=sync",
                 "--include_imports", f"--descriptor_set_out={os.path.join(out, 'sessions.binpb')}",
                 "sessions/v1/sessions.proto", "sessions/api/http.proto"]
    if protoc.main(arguments) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    return out


GENERATED = generate()
from sessions.v1 import sessions_pb2 as pb  # noqa: E402
from sessions.v1.sessions_connect import SessionServiceClientSync  # noqa: E402
from connectrpc.code import Code  # noqa: E402
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec  # noqa: E402
from connectrpc.errors import ConnectError  # noqa: E402
from connectrpc.protocol import ProtocolType  # noqa: E402
from google.rpc import error_details_pb2  # noqa: E402
from pyqwest import HTTPVersion, SyncClient, SyncHTTPTransport  # noqa: E402

# Strict JSON: a field or enum name the schema lacks fails the call instead of being dropped unseen.
CODECS = {"proto": google_protobuf_binary_codec(), "json": google_protobuf_json_codec(ignore_unknown_fields=False)}
TRANSPORTS = {"HTTP/1.1": HTTPVersion.HTTP1, "h2": HTTPVersion.HTTP2}


class RecordingTransport:
    """pyqwest's transport (HTTP/1.1 for http URLs, or h2 with prior knowledge when asked for
    HTTPVersion.HTTP2), recording the HTTP version of every response and the content type of every
    successful one (Connect's unary errors are application/json whatever the codec)."""

    def __init__(self, version):
        self.inner = SyncHTTPTransport(http_version=version, timeout=TIMEOUT, connect_timeout=5)
        self.versions, self.content_types, self.gets = set(), set(), set()

    def execute_sync(self, request):
        if request.method == "GET":
            self.gets.add(request.url.split("?")[0].rsplit("/", 1)[-1])
        response = self.inner.execute_sync(request)
        self.versions.add(str(response.http_version))
        if response.status == 200:
            self.content_types.add(response.headers.get("content-type", ""))
        return response


def code_of(call):
    try:
        call()
    except ConnectError as error:
        return error.code, error.message, error
    return None, "", None


class Context:
    def __init__(self, port, secret):
        self.port, self.secret = port, secret
        self.base = f"http://127.0.0.1:{port}"
        self.run = uuid.uuid4().hex[:6]  # in every id and key, so that a second run against one server starts afresh

    def token(self, sub, role, org="org-connect", **extra):
        claims = {"sub": sub, "role": role, "org": org, "iat": int(time.time()), "exp": int(time.time()) + 600}
        claims.update(extra)
        return jwt.encode(claims, self.secret, algorithm="HS256")

    @staticmethod
    def headers(token, key=None):
        headers = {"authorization": f"Bearer {token}"}
        if key:
            headers["idempotency-key"] = key
        return headers

    def client(self, version, codec=None, protocol=ProtocolType.CONNECT):
        transport = RecordingTransport(version)
        client = SessionServiceClientSync(self.base, codec=codec or CODECS["proto"], protocol=protocol,
                                          http_client=SyncClient(transport), timeout_ms=TIMEOUT * 1000)
        return client, transport


def connect_lifecycle(ctx, codec_name, transport_name):
    """Every unary method and WatchSession through connectrpc over the Connect protocol."""
    tag = f"{codec_name}-{'h1' if transport_name == 'HTTP/1.1' else 'h2'}-{ctx.run}"
    where = f"[connectrpc connect {codec_name} {transport_name}]"
    client, transport = ctx.client(TRANSPORTS[transport_name], CODECS[codec_name])
    h = ctx.headers
    tester_id, job = f"tester-connect-{tag}", f"job-connect-{tag}"
    tester, researcher = ctx.token(tester_id, "tester"), ctx.token(f"res-connect-{tag}", "researcher")
    service = ctx.token("svc-connect", "service")

    created = client.create_session(pb.CreateSessionRequest(job_id=job, tester_id=tester_id),
                                    headers=h(tester, f"create-{tag}"))
    check(created.session_id.startswith("sess_") and created.status == pb.SESSION_STATUS_ACTIVE
          and created.variant in ("A", "B") and created.HasField("created_at"),
          f"{where} CreateSession returns an active session: {created.session_id}")
    sid = created.session_id
    again = client.create_session(pb.CreateSessionRequest(job_id=job, tester_id=tester_id),
                                  headers=h(tester, f"create-{tag}"))
    check(again == created, f"{where} a retry with the same idempotency-key header returns the first reply")

    fetched = client.get_session(pb.GetSessionRequest(session_id=sid), headers=h(tester))
    check(fetched.session_id == sid and fetched.job_id == job and fetched.status == pb.SESSION_STATUS_ACTIVE,
          f"{where} GetSession (POST) returns the session")
    fetched = client.get_session(pb.GetSessionRequest(session_id=sid), headers=h(tester), use_get=True)
    check(fetched.session_id == sid and fetched.tester_id == tester_id, f"{where} GetSession as a Connect GET")

    notes = client.update_notes(pb.UpdateNotesRequest(session_id=sid, notes=[
        pb.UpdateNotesRequest.NoteUpdate(content="Tester could not find the back button."),
        pb.UpdateNotesRequest.NoteUpdate(content="Checkout page showed an error.")]), headers=h(researcher))
    check((notes.session_id, notes.updated_count, notes.created_count) == (sid, 0, 2),
          f"{where} UpdateNotes creates two notes")
    listed_notes = client.get_notes(pb.GetNotesRequest(session_id=sid), headers=h(researcher))
    check([n.content for n in listed_notes.notes] == ["Tester could not find the back button.",
                                                      "Checkout page showed an error."]
          and all(n.note_id for n in listed_notes.notes), f"{where} GetNotes (POST) returns them")
    got_notes = client.get_notes(pb.GetNotesRequest(session_id=sid), headers=h(researcher), use_get=True)
    check(got_notes == listed_notes, f"{where} GetNotes as a Connect GET returns the same")

    paused = client.pause_session(pb.PauseSessionRequest(session_id=sid), headers=h(tester))
    check(paused.status == pb.SESSION_STATUS_PAUSED and "resume" in paused.allowed_actions,
          f"{where} PauseSession, with allowed actions")
    resumed = client.resume_session(pb.ResumeSessionRequest(session_id=sid), headers=h(tester))
    check(resumed.status == pb.SESSION_STATUS_ACTIVE, f"{where} ResumeSession")
    done = client.complete_session(pb.CompleteSessionRequest(session_id=sid), headers=h(tester))
    check(done.session_id == sid and done.status == pb.SESSION_STATUS_COMPLETED and done.HasField("completed_at"),
          f"{where} CompleteSession")
    code, message, _ = code_of(lambda: client.complete_session(pb.CompleteSessionRequest(session_id=sid),
                                                               headers=h(tester)))
    check(code == Code.FAILED_PRECONDITION and "completed" in message,
          f"{where} completing twice is failed_precondition: {code} {message}")
    feedback = client.submit_feedback(pb.SubmitFeedbackRequest(session_id=sid, clarity=4, difficulty=3,
                                                               technical_issues=False, comment="fine"),
                                      headers=h(tester))
    check(feedback.feedback_id.startswith("fb_") and feedback.session_id == sid, f"{where} SubmitFeedback")

    # The stream: a snapshot first, then the changes analysis makes, then closed by the client.
    updates = client.watch_session(pb.WatchSessionRequest(session_id=sid), headers=h(researcher))
    try:
        first = next(updates)
        check(first.event == "snapshot" and first.session.session_id == sid
              and first.session.status == pb.SESSION_STATUS_COMPLETED,
              f"{where} WatchSession starts with a snapshot: {first.event}")
        analyzing = client.analyze_session(pb.AnalyzeSessionRequest(session_id=sid), headers=h(researcher))
        check(analyzing.status == pb.SESSION_STATUS_ANALYZING and analyzing.estimated_completion_seconds >= 1,
              f"{where} AnalyzeSession answers analyzing with an estimate")
        statuses = []
        for update in updates:
            statuses.append(update.session.status)
            if update.session.status == pb.SESSION_STATUS_ANALYZED:
                break
        check(statuses[-1:] == [pb.SESSION_STATUS_ANALYZED],
              f"{where} WatchSession streams the changes up to analyzed: {statuses}")
    finally:
        updates.close()

    analysis = client.get_analysis(pb.GetAnalysisRequest(session_id=sid), headers=h(researcher)).analysis
    check({p.category for p in analysis.friction_points} == {"navigation", "bug"},
          f"{where} GetAnalysis (POST) finds the friction")
    again = client.get_analysis(pb.GetAnalysisRequest(session_id=sid), headers=h(researcher), use_get=True)
    check(again.session_id == sid and again.analysis == analysis, f"{where} GetAnalysis as a Connect GET")
    confirmed = client.confirm_session(pb.ConfirmSessionRequest(session_id=sid, rating=5, comment="thorough"),
                                       headers=h(researcher))
    check(confirmed.payout_queued and confirmed.status == pb.SESSION_STATUS_CONFIRMED and confirmed.payout_id,
          f"{where} ConfirmSession queues the payout")
    deadline, mine = time.time() + TIMEOUT, []
    while time.time() < deadline:
        payouts = client.list_payouts(pb.ListPayoutsRequest(tester_id=tester_id), headers=h(service)).payouts
        mine = [p for p in payouts if p.session_id == sid]
        if mine and mine[0].status == pb.PAYOUT_STATUS_DELIVERED:
            break
        time.sleep(0.1)
    check(len(mine) == 1 and mine[0].payout_id == confirmed.payout_id and mine[0].tester_id == tester_id,
          f"{where} ListPayouts lists the payout: {[pb.PayoutStatus.Name(p.status) for p in mine]}")
    listed = client.list_sessions(pb.ListSessionsRequest(job_id=job), headers=h(researcher))
    check([s.session_id for s in listed.sessions] == [sid] and listed.sessions[0].status == pb.SESSION_STATUS_CONFIRMED,
          f"{where} ListSessions (POST) by job")
    listed = client.list_sessions(pb.ListSessionsRequest(job_id=job, page_size=5), headers=h(researcher),
                                  use_get=True)
    check([s.session_id for s in listed.sessions] == [sid] and listed.page_size == 5,
          f"{where} ListSessions as a Connect GET")

    # Errors.
    code, message, _ = code_of(lambda: client.get_session(pb.GetSessionRequest(session_id="sess_nope"),
                                                          headers=h(researcher)))
    check(code == Code.NOT_FOUND and "sess_nope" in message, f"{where} an unknown id is not_found: {code} {message}")
    code, _, _ = code_of(lambda: client.get_session(pb.GetSessionRequest(session_id="sess_nope"),
                                                    headers=h(researcher), use_get=True))
    check(code == Code.NOT_FOUND, f"{where} an unknown id over GET is not_found: {code}")
    code, _, _ = code_of(lambda: client.get_session(pb.GetSessionRequest(session_id=sid)))
    check(code == Code.UNAUTHENTICATED, f"{where} no token is unauthenticated: {code}")
    forged = jwt.encode({"sub": "x", "role": "admin", "org": "org-connect", "exp": int(time.time()) + 60},
                        "another secret, of the recommended 32 bytes", algorithm="HS256")
    code, _, _ = code_of(lambda: client.list_sessions(pb.ListSessionsRequest(), headers=h(forged)))
    check(code == Code.UNAUTHENTICATED, f"{where} a forged token is unauthenticated: {code}")
    code, _, _ = code_of(lambda: client.confirm_session(pb.ConfirmSessionRequest(session_id=sid, rating=5),
                                                        headers=h(tester)))
    check(code == Code.PERMISSION_DENIED, f"{where} a tester may not confirm: {code}")
    code, message, error = code_of(lambda: client.create_session(
        pb.CreateSessionRequest(job_id="", tester_id=tester_id, variant="C"), headers=h(tester)))
    fields = []
    for detail in error.details if error else []:
        if detail.type_name == "google.rpc.BadRequest":
            fields += [v.field for v in error_details_pb2.BadRequest.FromString(detail.message_bytes).field_violations]
    check(code == Code.INVALID_ARGUMENT and "jobId" in message,
          f"{where} invalid fields are invalid_argument by name: {code} {message}")
    check(fields == ["jobId", "variant"], f"{where} the error's details carry a BadRequest naming each field: {fields}")

    def watch_unknown():
        stream = client.watch_session(pb.WatchSessionRequest(session_id="sess_nope"), headers=h(researcher))
        try:
            next(stream)
        finally:
            stream.close()
    code, _, _ = code_of(watch_unknown)
    check(code == Code.NOT_FOUND, f"{where} WatchSession of an unknown id ends not_found: {code}")

    # The client gzips every request by default (as above); without compression either way too.
    plain = SessionServiceClientSync(ctx.base, codec=CODECS[codec_name], http_client=SyncClient(transport),
                                     send_compression=None, accept_compression=(), timeout_ms=TIMEOUT * 1000)
    fetched = plain.get_session(pb.GetSessionRequest(session_id=sid), headers=h(researcher))
    check(fetched.session_id == sid and fetched.status == pb.SESSION_STATUS_CONFIRMED,
          f"{where} GetSession uncompressed (send_compression=None, accept_compression=())")

    check(transport.gets == {"GetSession", "GetNotes", "GetAnalysis", "ListSessions"},
          f"{where} use_get sent HTTP GETs for the side-effect-free methods: {sorted(transport.gets)}")
    expected = "HTTP/1.1" if transport_name == "HTTP/1.1" else "HTTP/2"
    check(transport.versions == {expected}, f"{where} every response came over {expected}: {sorted(transport.versions)}")
    kinds = {t.split(";")[0].strip() for t in transport.content_types}
    check(kinds == {f"application/{codec_name}", f"application/connect+{codec_name}"},
          f"{where} unary replies are application/{codec_name}, streams application/connect+{codec_name}: "
          f"{sorted(kinds)}")


def other_protocols(ctx, protocol, transport_name):
    """gRPC-Web and gRPC through the same client: create, get, a stream's first event, an error."""
    name = {ProtocolType.GRPC_WEB: "grpc-web", ProtocolType.GRPC: "grpc"}[protocol]
    tag = f"{name}-{'h1' if transport_name == 'HTTP/1.1' else 'h2'}-{ctx.run}"
    where = f"[connectrpc {name} proto {transport_name}]"
    client, transport = ctx.client(TRANSPORTS[transport_name], protocol=protocol)
    h = ctx.headers
    tester_id = f"tester-{tag}"
    tester, researcher = ctx.token(tester_id, "tester"), ctx.token(f"res-{tag}", "researcher")
    created = client.create_session(pb.CreateSessionRequest(job_id=f"job-{tag}", tester_id=tester_id),
                                    headers=h(tester, f"create-{tag}"))
    again = client.create_session(pb.CreateSessionRequest(job_id=f"job-{tag}", tester_id=tester_id),
                                  headers=h(tester, f"create-{tag}"))
    check(created.session_id.startswith("sess_") and again == created,
          f"{where} CreateSession, and its retry with the idempotency key")
    fetched = client.get_session(pb.GetSessionRequest(session_id=created.session_id), headers=h(tester))
    check(fetched.session_id == created.session_id, f"{where} GetSession")
    paused = client.pause_session(pb.PauseSessionRequest(session_id=created.session_id), headers=h(tester))
    check(paused.status == pb.SESSION_STATUS_PAUSED, f"{where} PauseSession")
    updates = client.watch_session(pb.WatchSessionRequest(session_id=created.session_id), headers=h(researcher))
    try:
        first = next(updates)
    finally:
        updates.close()
    check(first.event == "snapshot" and first.session.status == pb.SESSION_STATUS_PAUSED,
          f"{where} WatchSession's first event is the snapshot")
    code, message, _ = code_of(lambda: client.get_session(pb.GetSessionRequest(session_id="sess_nope"),
                                                          headers=h(researcher)))
    check(code == Code.NOT_FOUND and "sess_nope" in message, f"{where} an unknown id is not_found: {code} {message}")
    code, _, _ = code_of(lambda: client.get_session(pb.GetSessionRequest(session_id="sess_nope")))
    check(code == Code.UNAUTHENTICATED, f"{where} no token is unauthenticated: {code}")
    expected = "HTTP/1.1" if transport_name == "HTTP/1.1" else "HTTP/2"
    check(transport.versions == {expected}, f"{where} every response came over {expected}: {sorted(transport.versions)}")


def buf_curl(ctx, protocol, transport_name):
    """`buf curl`: reflection needs HTTP/2 (buf speaks it in the --protocol chosen: a bidi stream), so over
    HTTP/1.1 the schema comes from a descriptor set. Over h2 every call takes its schema from reflection."""
    buf = tool("buf")
    tag = f"{protocol}-{'h1' if transport_name == 'HTTP/1.1' else 'h2'}-{ctx.run}"
    where = f"[buf curl --protocol {protocol} {transport_name}]"
    descriptors = ["--schema", os.path.join(GENERATED, "sessions.binpb")]
    expected = "HTTP/1.1" if transport_name == "HTTP/1.1" else "HTTP/2.0"
    versions = set()

    def run(arguments):
        """(exit code or None on a time-out, stdout, stderr)"""
        try:
            done = subprocess.run([buf, "curl", "-v", "--connect-timeout", "5", *arguments],
                                  capture_output=True, text=True, timeout=TIMEOUT)
            out, err, code = done.stdout, done.stderr, done.returncode
        except subprocess.TimeoutExpired as expired:
            decode = (lambda b: b.decode(errors="replace") if isinstance(b, bytes) else (b or ""))
            out, err, code = decode(expired.stdout), decode(expired.stderr), None
        versions.update(re.findall(r"^buf: < \(#\d+\) (HTTP/\S+) ", err, re.M))
        return code, out, err

    if transport_name == "HTTP/1.1":
        base = ["--protocol", protocol, *descriptors]
    else:
        base = ["--protocol", protocol, "--http2-prior-knowledge"]
        # Reflection is a bidi stream, spoken in the protocol chosen: full duplex over h2.
        code, out, err = run([*base, "--list-methods", ctx.base])
        check(code == 0 and "sessions.v1.SessionService/WatchSession" in out.split(),
              f"{where} reflection (a {protocol} bidi stream) lists the methods: exit {code} "
              f"{' '.join(err.splitlines()[-3:])[:300]}")

    def call(method, token, body, *extra):
        code, stdout, stderr = run([*base, *extra, "-H", f"authorization: Bearer {token}", "-d", json.dumps(body),
                                    f"{ctx.base}/sessions.v1.SessionService/{method}"])
        # The reply is printed on stdout, an RPC error as JSON on stderr (among -v's "buf: " lines).
        errors = "\n".join(line for line in stderr.splitlines() if not line.startswith("buf: "))
        text = stdout if code == 0 else errors
        try:
            out = json.loads(text) if text.strip() else {}
        except ValueError:
            out = {"unparsed": text[:300]}
        if code is None:  # the rest would hang too: end this section
            raise TimeoutError(f"buf curl {method} timed out after {TIMEOUT} s: {' '.join(stderr.splitlines()[-3:])}")
        return code, out, " ".join(errors.split())[:300]

    tester_id = f"tester-buf-{tag}"
    tester, researcher = ctx.token(tester_id, "tester"), ctx.token(f"res-buf-{tag}", "researcher")
    body = {"jobId": f"job-buf-{tag}", "testerId": tester_id}
    code, created, err = call("CreateSession", tester, body, "-H", f"idempotency-key: buf-{tag}")
    check(code == 0 and created.get("sessionId", "").startswith("sess_") and created.get("status") == "SESSION_STATUS_ACTIVE",
          f"{where} CreateSession with an idempotency key: exit {code} {created} {err}")
    code, again, err = call("CreateSession", tester, body, "-H", f"idempotency-key: buf-{tag}")
    check(code == 0 and again == created, f"{where} its retry with the same key returns the first reply: exit {code} {err}")
    sid = created.get("sessionId", "")
    code, fetched, err = call("GetSession", tester, {"sessionId": sid})
    check(code == 0 and fetched.get("sessionId") == sid and fetched.get("testerId") == tester_id,
          f"{where} GetSession returns it: exit {code} {err}")
    code, out, err = call("GetSession", researcher, {"sessionId": "sess_nope"})
    # buf curl exits with the gRPC code shifted left by 3: not_found (5) is 40, unauthenticated (16) 128.
    check(code == 5 << 3 and out.get("code") == "not_found",
          f"{where} an unknown id is not_found (exit {code}): {out} {err}")
    code, out, err = call("GetSession", "not-a-jwt", {"sessionId": sid})
    check(code == 16 << 3 and out.get("code") == "unauthenticated",
          f"{where} a bad token is unauthenticated (exit {code}): {out}")
    check(versions == {expected}, f"{where} every response came over {expected}: {sorted(versions)}")

    # The stream never ends on its own: read the first message printed, then stop buf.
    first, lines = None, []
    stream = subprocess.Popen([buf, "curl", "--connect-timeout", "5", *base, "-H", f"authorization: Bearer {researcher}",
                               "-d", json.dumps({"sessionId": sid}),
                               f"{ctx.base}/sessions.v1.SessionService/WatchSession"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    killer = threading.Timer(TIMEOUT, stream.kill)
    killer.start()
    try:
        for line in stream.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                first = json.loads("".join(lines))
                break
    finally:
        killer.cancel()
        stream.kill()
        stream.wait()
        stream.stdout.close()
    check(first is not None and first.get("event") == "snapshot" and first.get("session", {}).get("sessionId") == sid,
          f"{where} WatchSession prints the snapshot first: {(first or ''.join(lines))!s:.200}")


def unbase64(text):
    """gRPC-Web-text bodies may be several base64 chunks, each padded: decode 4 characters at a time."""
    text = "".join(text.split())
    return b"".join(base64.b64decode(text[i:i + 4]) for i in range(0, len(text), 4))


def grpc_web_text(ctx, method, message, token):
    """A gRPC-Web-text unary call by hand over HTTP/1.1: returns (response, data frames, trailers or None)."""
    payload = message.SerializeToString()
    body = base64.b64encode(b"\x00" + struct.pack(">I", len(payload)) + payload)
    response = requests.post(f"{ctx.base}/sessions.v1.SessionService/{method}", data=body, timeout=TIMEOUT,
                             headers={"content-type": "application/grpc-web-text", "x-grpc-web": "1",
                                      "accept": "application/grpc-web-text", "authorization": f"Bearer {token}"})
    if not response.headers.get("content-type", "").startswith("application/grpc-web-text"):
        return response, [("not grpc-web-text", response.content[:200])], None
    data, frames, trailers = unbase64(response.text), [], None
    while len(data) >= 5 and trailers is None:
        flag, length = data[0], struct.unpack(">I", data[1:5])[0]
        frame, data = data[5:5 + length], data[5 + length:]
        if flag & 0x80:
            trailers = {}
            for line in frame.decode().split("\r\n"):
                if line:
                    name, _, value = line.partition(":")
                    trailers[name.strip().lower()] = value.strip()
        else:
            frames.append((flag, frame))
    if data:
        frames.append(("left over", data))
    return response, frames, trailers


def grpc_web_text_by_hand(ctx):
    where = "[requests gRPC-Web-text HTTP/1.1]"
    tester_id, job = f"tester-grpcwebtext-{ctx.run}", f"job-grpcwebtext-{ctx.run}"
    tester = ctx.token(tester_id, "tester")
    client, _ = ctx.client(HTTPVersion.HTTP2, protocol=ProtocolType.GRPC)
    created = client.create_session(pb.CreateSessionRequest(job_id=job, tester_id=tester_id),
                                    headers=ctx.headers(tester))
    response, frames, trailers = grpc_web_text(ctx, "GetSession", pb.GetSessionRequest(session_id=created.session_id),
                                               tester)
    check(response.status_code == 200 and response.raw.version == 11
          and response.headers.get("content-type", "").startswith("application/grpc-web-text"),
          f"{where} GetSession: HTTP/1.1 200 grpc-web-text: {response.status_code} {response.headers.get('content-type')}")
    session = pb.Session.FromString(frames[0][1]) if len(frames) == 1 and frames[0][0] == 0 else None
    check(session is not None and session.session_id == created.session_id and session.job_id == job,
          f"{where} one data frame holding the Session: {[(flag, len(frame)) for flag, frame in frames]}")
    check(trailers is not None and trailers.get("grpc-status") == "0",
          f"{where} then a trailer frame with grpc-status 0: {trailers}")
    response, frames, trailers = grpc_web_text(ctx, "GetSession", pb.GetSessionRequest(session_id="sess_nope"), tester)
    check(response.status_code == 200 and not frames and trailers is not None and trailers.get("grpc-status") == "5"
          and "sess_nope" in requests.utils.unquote(trailers.get("grpc-message", "")),
          f"{where} an unknown id: no data frame, a trailer frame with grpc-status 5: {trailers} "
          f"(headers grpc-status {response.headers.get('grpc-status')})")


def section(name, run, *args):
    try:
        run(*args)
    except ConnectError as error:
        check(False, f"{name} raised ConnectError {error.code.value}: {error.message}")
    except Exception as error:  # noqa: BLE001 - any failure is the finding; the next section still runs
        check(False, f"{name} raised {error!r}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-file", required=True)
    args = parser.parse_args()
    ctx = Context(args.port, open(args.secret_file).read().strip())
    started = time.time()

    for codec in CODECS:
        for transport in TRANSPORTS:
            section(f"connectrpc connect {codec} {transport}", connect_lifecycle, ctx, codec, transport)
    for protocol, transports in ((ProtocolType.GRPC_WEB, ("HTTP/1.1", "h2")), (ProtocolType.GRPC, ("h2",))):
        for transport in transports:
            section(f"connectrpc {protocol.name} {transport}", other_protocols, ctx, protocol, transport)
    print("note: gRPC needs HTTP/2, so it runs over h2 only (buf curl and connectrpc alike)", flush=True)
    for protocol, transports in (("connect", ("HTTP/1.1", "h2")), ("grpcweb", ("HTTP/1.1", "h2")), ("grpc", ("h2",))):
        for transport in transports:
            section(f"buf curl {protocol} {transport}", buf_curl, ctx, protocol, transport)
    section("gRPC-Web-text by hand", grpc_web_text_by_hand, ctx)

    print(f"took {time.time() - started:.1f} s", flush=True)
    print(f"connect_clients: {len(passes)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
