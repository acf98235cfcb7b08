"""The authorization table, cell by cell: every RPC over gRPC (grpcio) and every REST route
(requests), with every role, against a session that is the caller's own, another tester's in the
same organization, or another organization's; each cell asserts the exact status.

    authz_matrix.py --port PORT --secret-file DATA/jwt-secret

Each cell gets a fresh session in the state its call needs, so only authorization can fail it.
The server should run with rate limits high enough for a few thousand calls.
"""
import argparse
import itertools
import time

import grpc
import jwt
import requests

from session_stubs import pb, rpc

ROLES = ("tester", "researcher", "admin", "service")
RELATIONS = ("own", "peer", "foreign")  # own session (own org); another tester's, same org; another org's
OK, NOT_FOUND, DENIED = "OK", "NOT_FOUND", "PERMISSION_DENIED"
HTTP = {OK: (200, 201, 202), NOT_FOUND: (404,), DENIED: (403,)}

# The state each call needs, and who may make it on a session they can see (the issue's table).
NEEDS = {
    "GetSession": "active", "WatchSession": "active", "PauseSession": "active", "ResumeSession": "paused",
    "CompleteSession": "active", "SubmitFeedback": "completed", "AnalyzeSession": "completed",
    "GetAnalysis": "analyzed", "GetNotes": "active", "UpdateNotes": "active", "ConfirmSession": "analyzed",
}
MAY = {
    "GetSession": set(ROLES), "WatchSession": set(ROLES), "PauseSession": set(ROLES), "ResumeSession": set(ROLES),
    "CompleteSession": set(ROLES), "SubmitFeedback": {"tester"},
    "AnalyzeSession": {"researcher", "admin", "service"}, "GetAnalysis": {"researcher", "admin", "service"},
    "GetNotes": {"researcher", "admin", "service"}, "UpdateNotes": {"researcher", "admin", "service"},
    "ConfirmSession": {"researcher", "admin"},
}

passes, failures = [], []


def check(condition, message):
    if not condition:
        print("FAIL " + message, flush=True)
    (passes if condition else failures).append(message)


def expected(method, role, relation):
    if relation == "foreign" or (relation == "peer" and role == "tester"):
        return NOT_FOUND
    return OK if role in MAY[method] else DENIED


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret-file", required=True)
    args = parser.parse_args()
    secret = open(args.secret_file).read().strip()
    base = f"http://127.0.0.1:{args.port}"
    stub = rpc.SessionServiceStub(grpc.insecure_channel(f"127.0.0.1:{args.port}"))
    http = requests.Session()
    run = str(int(time.time() * 1000))
    counter = itertools.count()

    def token(sub, role, org):
        now = int(time.time())
        return jwt.encode({"sub": sub, "role": role, "org": org, "iat": now, "exp": now + 900}, secret, "HS256")

    def meta(tok):
        return (("authorization", f"Bearer {tok}"),)

    def prepare(org, tester, state):
        """A session of `tester` in `org`, brought to `state` by that org's service, tester and researcher."""
        service, researcher = token("svc", "service", org), token("res", "researcher", org)
        session = stub.CreateSession(pb.CreateSessionRequest(job_id=f"job-{run}", tester_id=tester), metadata=meta(service))
        sid = session.session_id
        if state == "paused":
            stub.PauseSession(pb.PauseSessionRequest(session_id=sid), metadata=meta(service))
        if state in ("completed", "analyzed"):
            stub.CompleteSession(pb.CompleteSessionRequest(session_id=sid), metadata=meta(service))
        if state == "analyzed":
            stub.AnalyzeSession(pb.AnalyzeSessionRequest(session_id=sid), metadata=meta(researcher))
            deadline = time.time() + 20
            while stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=meta(service)).status != pb.SESSION_STATUS_ANALYZED:
                if time.time() > deadline:
                    raise RuntimeError(f"{sid} never got analyzed")
                time.sleep(0.05)
        return sid

    def grpc_call(method, sid, tok):
        metadata = meta(tok)
        try:
            if method == "WatchSession":
                stream = stub.WatchSession(pb.WatchSessionRequest(session_id=sid), metadata=metadata, timeout=10)
                next(stream)
                stream.cancel()
                return OK
            request = {
                "GetSession": pb.GetSessionRequest, "PauseSession": pb.PauseSessionRequest,
                "ResumeSession": pb.ResumeSessionRequest, "CompleteSession": pb.CompleteSessionRequest,
                "AnalyzeSession": pb.AnalyzeSessionRequest, "GetAnalysis": pb.GetAnalysisRequest,
                "GetNotes": pb.GetNotesRequest,
            }.get(method)
            if request:
                message = request(session_id=sid)
            elif method == "UpdateNotes":
                message = pb.UpdateNotesRequest(session_id=sid, notes=[pb.UpdateNotesRequest.NoteUpdate(content="x")])
            elif method == "ConfirmSession":
                message = pb.ConfirmSessionRequest(session_id=sid, rating=5)
            else:
                message = pb.SubmitFeedbackRequest(session_id=sid, clarity=4, difficulty=3, technical_issues=False)
            getattr(stub, method)(message, metadata=metadata, timeout=10)
            return OK
        except grpc.RpcError as error:
            return error.code().name

    def rest_call(method, sid, tok):
        headers = {"Authorization": f"Bearer {tok}"}
        path = f"{base}/api/sessions/{sid}"
        route = {
            "GetSession": ("GET", path, None), "WatchSession": ("GET", path + "/events", None),
            "PauseSession": ("POST", path + "/pause", None), "ResumeSession": ("POST", path + "/resume", None),
            "CompleteSession": ("POST", path + "/complete", None), "AnalyzeSession": ("POST", path + "/analyze", None),
            "GetAnalysis": ("GET", path + "/analysis", None), "GetNotes": ("GET", path + "/notes", None),
            "UpdateNotes": ("PATCH", path + "/notes", {"notes": [{"content": "x"}]}),
            "ConfirmSession": ("POST", path + "/confirm", {"rating": 5}),
            "SubmitFeedback": ("POST", path + "/feedback", {"clarity": 4, "difficulty": 3, "technicalIssues": False}),
        }[method]
        with http.request(route[0], route[1], json=route[2], headers=headers, stream=True, timeout=10) as response:
            return response.status_code

    cells = 0
    for method, role, relation, transport in itertools.product(MAY, ROLES, RELATIONS, ("grpc", "rest")):
        cell = next(counter)
        caller_org, caller = "acme", f"{role}-{run}-{cell}"
        session_org = "globex" if relation == "foreign" else "acme"
        owner = caller if (relation == "own" and role == "tester") else f"owner-{run}-{cell}"
        sid = prepare(session_org, owner, NEEDS[method])
        tok = token(caller, role, caller_org)
        want = expected(method, role, relation)
        if transport == "grpc":
            got = grpc_call(method, sid, tok)
            check(got == want, f"gRPC {method} as {role} on a {relation} session: {want} (got {got})")
        else:
            got = rest_call(method, sid, tok)
            check(got in HTTP[want], f"REST {method} as {role} on a {relation} session: {HTTP[want]} (got {got})")
        cells += 1

    # CreateSession: a tester only for themselves; everyone else for any tester of their org.
    for role, transport in itertools.product(ROLES, ("grpc", "rest")):
        for relation in ("own", "peer"):
            cell = next(counter)
            caller = f"{role}-{run}-{cell}"
            tester = caller if relation == "own" else f"someone-{run}-{cell}"
            want = DENIED if (role == "tester" and relation == "peer") else OK
            tok = token(caller, role, "acme")
            if transport == "grpc":
                try:
                    stub.CreateSession(pb.CreateSessionRequest(job_id=f"job-{run}", tester_id=tester), metadata=meta(tok))
                    got = OK
                except grpc.RpcError as error:
                    got = error.code().name
                check(got == want, f"gRPC CreateSession as {role} for {relation}: {want} (got {got})")
            else:
                got = http.post(f"{base}/api/sessions", json={"jobId": f"job-{run}", "testerId": tester},
                                headers={"Authorization": f"Bearer {tok}"}).status_code
                check(got in HTTP[want], f"REST CreateSession as {role} for {relation}: {HTTP[want]} (got {got})")
            cells += 1

    # ListSessions: everyone may list; what comes back is only what the caller may see.
    job = f"list-{run}"
    service = token("svc", "service", "acme")
    mine = stub.CreateSession(pb.CreateSessionRequest(job_id=job, tester_id=f"lister-{run}"), metadata=meta(service)).session_id
    theirs = stub.CreateSession(pb.CreateSessionRequest(job_id=job, tester_id=f"other-{run}"), metadata=meta(service)).session_id
    foreign = stub.CreateSession(pb.CreateSessionRequest(job_id=job, tester_id=f"lister-{run}"),
                                 metadata=meta(token("svc", "service", "globex"))).session_id
    for role, transport in itertools.product(ROLES, ("grpc", "rest")):
        caller = f"lister-{run}" if role == "tester" else f"{role}-{run}"
        tok = token(caller, role, "acme")
        want = {mine} if role == "tester" else {mine, theirs}
        if transport == "grpc":
            listed = {s.session_id for s in stub.ListSessions(pb.ListSessionsRequest(job_id=job), metadata=meta(tok)).sessions}
        else:
            listed = {s["sessionId"] for s in http.get(f"{base}/api/sessions", params={"jobId": job},
                                                       headers={"Authorization": f"Bearer {tok}"}).json()["data"]}
        check(listed == want and foreign not in listed, f"{transport} ListSessions as {role}: {sorted(want)} (got {sorted(listed)})")
        cells += 1

    # ListPayouts (gRPC only): admins and services of the org; never another org's payouts.
    globex_session = prepare("globex", f"paid-{run}", "analyzed")
    stub.ConfirmSession(pb.ConfirmSessionRequest(session_id=globex_session, rating=4),
                        metadata=meta(token("res", "researcher", "globex")))
    globex_payouts = stub.ListPayouts(pb.ListPayoutsRequest(page_size=200), metadata=meta(token("svc", "service", "globex"))).payouts
    check(any(p.session_id == globex_session for p in globex_payouts), "ListPayouts shows an org its own payout")
    for role in ROLES:
        tok = token(f"{role}-{run}", role, "acme")
        try:
            payouts = stub.ListPayouts(pb.ListPayoutsRequest(page_size=200), metadata=meta(tok)).payouts
            got = OK
        except grpc.RpcError as error:
            got, payouts = error.code().name, []
        want = OK if role in ("admin", "service") else DENIED
        check(got == want, f"gRPC ListPayouts as {role}: {want} (got {got})")
        check(all(p.session_id != globex_session for p in payouts), f"ListPayouts as {role} never shows another org's payout")
        cells += 1

    print(f"{cells} cells; {len(passes)} passed, {len(failures)} failed")
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
