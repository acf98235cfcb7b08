"""Walks the session lifecycle over gRPC against a running sessiond with stock clients:
grpcio for calls, PyJWT for tokens signed with the server's secret.

    lifecycle_grpc.py --port PORT --secret-file DATA/jwt-secret
"""
import argparse
import sys
import time

import grpc
import jwt
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from session_stubs import pb, rpc

passes, failures = [], []


def check(condition, message):
    print(("PASS " if condition else "FAIL ") + message, flush=True)
    (passes if condition else failures).append(message)


def status_of(call):
    try:
        call()
    except grpc.RpcError as error:
        return error.code(), error.details()
    return grpc.StatusCode.OK, ""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-file", required=True)
    args = parser.parse_args()
    secret = open(args.secret_file).read().strip()

    def token(sub, role, org="org-1", **extra):
        claims = {"sub": sub, "role": role, "org": org, "iat": int(time.time()), "exp": int(time.time()) + 600}
        claims.update(extra)
        return jwt.encode(claims, secret, algorithm="HS256")

    def auth(tok, key=None):
        metadata = [("authorization", f"Bearer {tok}")]
        if key:
            metadata.append(("idempotency-key", key))
        return metadata

    stub = rpc.SessionServiceStub(grpc.insecure_channel(f"127.0.0.1:{args.port}"))
    tester, researcher, service = token("tester-1", "tester"), token("res-1", "researcher"), token("svc", "service")

    code, _ = status_of(lambda: stub.GetSession(pb.GetSessionRequest(session_id="x"), timeout=10))
    check(code == grpc.StatusCode.UNAUTHENTICATED, "no token is UNAUTHENTICATED")
    expired = token("tester-1", "tester", exp=int(time.time()) - 3600)
    code, _ = status_of(lambda: stub.GetSession(pb.GetSessionRequest(session_id="x"), metadata=auth(expired), timeout=10))
    check(code == grpc.StatusCode.UNAUTHENTICATED, "an expired token is UNAUTHENTICATED")
    forged = jwt.encode({"sub": "x", "role": "admin", "org": "org-1", "exp": int(time.time()) + 60}, "wrong", algorithm="HS256")
    code, _ = status_of(lambda: stub.GetSession(pb.GetSessionRequest(session_id="x"), metadata=auth(forged), timeout=10))
    check(code == grpc.StatusCode.UNAUTHENTICATED, "a token signed with another secret is UNAUTHENTICATED")

    created = stub.CreateSession(pb.CreateSessionRequest(job_id="job-1", tester_id="tester-1"),
                                 metadata=auth(tester, "create-1"), timeout=10)
    check(created.session_id.startswith("sess_") and created.status == pb.SESSION_STATUS_ACTIVE,
          "create returns an active session")
    check(created.variant in ("A", "B") and created.HasField("created_at"), "the variant is assigned, createdAt set")
    again = stub.CreateSession(pb.CreateSessionRequest(job_id="job-1", tester_id="tester-1"),
                               metadata=auth(tester, "create-1"), timeout=10)
    check(again == created, "a retry with the same idempotency key returns the first reply")
    code, _ = status_of(lambda: stub.CreateSession(pb.CreateSessionRequest(job_id="job-2", tester_id="tester-1"),
                                                   metadata=auth(tester, "create-1"), timeout=10))
    check(code == grpc.StatusCode.INVALID_ARGUMENT, "the same key with another request is INVALID_ARGUMENT naming the key")
    code, details = status_of(lambda: stub.CreateSession(pb.CreateSessionRequest(job_id="job-1", tester_id="tester-1"),
                                                         metadata=auth(tester), timeout=10))
    check(code == grpc.StatusCode.ALREADY_EXISTS and created.session_id in details,
          "a second session for (job, tester) is ALREADY_EXISTS naming the first")
    try:
        stub.CreateSession(pb.CreateSessionRequest(job_id="", tester_id="tester-1", variant="C"),
                           metadata=auth(tester), timeout=10)
        check(False, "invalid fields are INVALID_ARGUMENT by name")
    except grpc.RpcError as error:
        check(error.code() == grpc.StatusCode.INVALID_ARGUMENT and "jobId" in error.details(),
              "invalid fields are INVALID_ARGUMENT by name")
        # Rich details: google.rpc.Status in grpc-status-details-bin, read with grpcio-status.
        status = rpc_status.from_call(error)
        violations = []
        for detail in status.details if status else []:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations += [v.field for v in bad.field_violations]
        check(violations == ["jobId", "variant"],
              f"grpc-status-details-bin carries a BadRequest naming every offending field: {violations}")

    sid = created.session_id
    other_org = token("res-9", "researcher", org="org-2")
    code, _ = status_of(lambda: stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=auth(other_org), timeout=10))
    check(code == grpc.StatusCode.NOT_FOUND, "another org sees NOT_FOUND")
    notes = stub.UpdateNotes(pb.UpdateNotesRequest(session_id=sid, notes=[
        pb.UpdateNotesRequest.NoteUpdate(content="Tester could not find the back button."),
        pb.UpdateNotesRequest.NoteUpdate(content="Checkout page showed an error.")]),
        metadata=auth(researcher), timeout=10)
    check((notes.updated_count, notes.created_count) == (0, 2), "notes are created in one batch")
    paused = stub.PauseSession(pb.PauseSessionRequest(session_id=sid), metadata=auth(tester), timeout=10)
    check(paused.status == pb.SESSION_STATUS_PAUSED and "resume" in paused.allowed_actions, "pause, with allowed actions")
    stub.ResumeSession(pb.ResumeSessionRequest(session_id=sid), metadata=auth(tester), timeout=10)
    done = stub.CompleteSession(pb.CompleteSessionRequest(session_id=sid), metadata=auth(tester), timeout=10)
    check(done.status == pb.SESSION_STATUS_COMPLETED and done.HasField("completed_at"), "complete")
    code, details = status_of(lambda: stub.CompleteSession(pb.CompleteSessionRequest(session_id=sid),
                                                           metadata=auth(tester), timeout=10))
    check(code == grpc.StatusCode.FAILED_PRECONDITION and "completed" in details,
          "completing twice is FAILED_PRECONDITION naming the status")
    feedback = stub.SubmitFeedback(pb.SubmitFeedbackRequest(session_id=sid, clarity=4, difficulty=3,
                                                            technical_issues=False, comment="fine"),
                                   metadata=auth(tester), timeout=10)
    check(feedback.feedback_id.startswith("fb_"), "feedback is taken")
    code, _ = status_of(lambda: stub.ConfirmSession(pb.ConfirmSessionRequest(session_id=sid, rating=5),
                                                    metadata=auth(tester), timeout=10))
    check(code == grpc.StatusCode.PERMISSION_DENIED, "a tester may not confirm their own payout")

    updates = stub.WatchSession(pb.WatchSessionRequest(session_id=sid), metadata=auth(researcher), timeout=20)
    first = next(updates)
    check(first.event == "snapshot" and first.session.status == pb.SESSION_STATUS_COMPLETED, "watch starts with a snapshot")
    analyzing = stub.AnalyzeSession(pb.AnalyzeSessionRequest(session_id=sid), metadata=auth(researcher), timeout=10)
    check(analyzing.status == pb.SESSION_STATUS_ANALYZING and analyzing.estimated_completion_seconds >= 1,
          "analyze answers analyzing with an estimate")
    statuses = []
    for update in updates:
        statuses.append(update.session.status)
        if update.session.status == pb.SESSION_STATUS_ANALYZED:
            break
    updates.cancel()
    check(statuses[-1] == pb.SESSION_STATUS_ANALYZED, f"watch streams the changes up to analyzed: {statuses}")
    analysis = stub.GetAnalysis(pb.GetAnalysisRequest(session_id=sid), metadata=auth(researcher), timeout=10).analysis
    check({p.category for p in analysis.friction_points} == {"navigation", "bug"}, "the analysis finds the friction")
    confirmed = stub.ConfirmSession(pb.ConfirmSessionRequest(session_id=sid, rating=5, comment="thorough"),
                                    metadata=auth(researcher), timeout=10)
    check(confirmed.payout_queued and confirmed.status == pb.SESSION_STATUS_CONFIRMED, "confirm queues the payout")
    code, _ = status_of(lambda: stub.ConfirmSession(pb.ConfirmSessionRequest(session_id=sid, rating=5),
                                                    metadata=auth(researcher), timeout=10))
    check(code == grpc.StatusCode.FAILED_PRECONDITION, "a second confirm is FAILED_PRECONDITION")
    deadline = time.time() + 10
    payouts = []
    while time.time() < deadline:
        payouts = stub.ListPayouts(pb.ListPayoutsRequest(), metadata=auth(service), timeout=10).payouts
        if payouts and payouts[0].status == pb.PAYOUT_STATUS_DELIVERED:
            break
        time.sleep(0.1)
    check(len(payouts) == 1 and payouts[0].status == pb.PAYOUT_STATUS_DELIVERED and payouts[0].tester_id == "tester-1",
          "exactly one payout, delivered to the ledger")
    listed = stub.ListSessions(pb.ListSessionsRequest(job_id="job-1"), metadata=auth(researcher), timeout=10)
    check([s.session_id for s in listed.sessions] == [sid] and listed.next_page_token == "", "list by job")

    # Rate limits: a tester's burst is 40 calls; the rest wait, told when to retry.
    limited = None
    other = token("tester-2", "tester")
    # The bucket refills at 20/s, so the calls must outpace that: one at a time they did not when
    # the whole test suite shared two cores, so they go 10 at once.
    for _ in range(40):
        calls = [stub.ListSessions.future(pb.ListSessionsRequest(), metadata=auth(other), timeout=10) for _ in range(10)]
        for call in calls:
            try:
                call.result()
            except grpc.RpcError as error:
                limited = limited or error
        if limited is not None:
            break
    check(limited is not None and limited.code() == grpc.StatusCode.RESOURCE_EXHAUSTED,
          "a tester over the burst gets RESOURCE_EXHAUSTED")
    trailers = dict(limited.trailing_metadata() or []) if limited else {}
    check(trailers.get("retry-after") == "1" and trailers.get("ratelimit-remaining") == "0",
          f"with retry-after and RateLimit fields: {trailers}")
    listed = stub.ListSessions(pb.ListSessionsRequest(), metadata=auth(service), timeout=10)
    check(listed is not None, "services are not rate limited")

    print(f"lifecycle over gRPC: {len(passes)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
