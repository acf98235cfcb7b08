"""Crash loop: a mixed lifecycle workload through the real server, kill -9 at random moments,
restart, check; on the embedded SQLite store or on PostgreSQL.

    crash_loop.py --binary .build/release/sessiond [--cycles 50] [--seed 1] [--database-url postgres://…]
                  [--time-limit SECONDS]

Each cycle starts sessiond on the same data directory (and database), runs concurrent clients
that create sessions and take them through notes, pause/resume, completion, feedback, analysis
and confirmation, kills the server with SIGKILL after a random 0.3–1.5 s, checks the store
(SQLite: PRAGMA integrity_check and foreign_key_check; PostgreSQL: amcheck's bt_index_check on
every B-tree index), restarts it and checks that every acknowledged write is there: creates,
note contents, feedback (sending it again is ALREADY_EXISTS), confirms. At the end: every
acknowledged analysis request finished (analyzed, or completed with lastAnalysisError), every
confirm has exactly one payout, and the ledger file holds every payout once. Stops starting new
cycles when --time-limit is reached. Prints "N passed, M failed".
"""
import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import jwt

from session_stubs import pb, rpc


def start(binary, data, database_url):
    # A 2 s job lease: jobs the killed process had claimed are taken over by the next one within
    # the final wait (with the default 30 s they would still be held).
    command = [binary, "serve", "--port", "0", "--data-dir", data, "--job-lease", "2",
               "--rate-limits", "tester=100000/100000,researcher=100000/100000,admin=100000/100000"]
    if database_url:
        command += ["--database-url", database_url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"sessiond did not start: {line!r}")
    return process, int(line.rsplit(":", 1)[1])


class Tokens:
    def __init__(self, secret):
        self.secret = secret
        self.cache = {}

    def metadata(self, sub, role):
        key = (sub, role)
        if key not in self.cache:
            claims = {"sub": sub, "role": role, "org": "crash", "exp": int(time.time()) + 7200}
            self.cache[key] = (("authorization", f"Bearer {jwt.encode(claims, self.secret, algorithm='HS256')}"),)
        return self.cache[key]


class Load:
    """Clients that record every acknowledged write, until the server goes away."""

    def __init__(self, port, tokens, cycle, rng_seed):
        self.stub = rpc.SessionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        self.tokens = tokens
        self.service = tokens.metadata("loader", "service")
        self.researcher = tokens.metadata("checker", "researcher")
        self.cycle = cycle
        self.rng = random.Random(rng_seed)
        self.created, self.notes, self.feedback, self.analyzing, self.confirmed = [], [], [], [], []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def record(self, kind, item):
        with self.lock:
            getattr(self, kind).append(item)

    def worker(self, index):
        count = 0
        while not self.stop.is_set():
            count += 1
            tester = f"t-{self.cycle}-{index}-{count}"
            try:
                self.lifecycle(tester, count)
            except grpc.RpcError:
                if self.stop.is_set():
                    return
                time.sleep(0.01)

    def lifecycle(self, tester, count):
        stub, service = self.stub, self.service
        session = stub.CreateSession(pb.CreateSessionRequest(job_id=f"job-{self.cycle}", tester_id=tester),
                                     metadata=service, timeout=5)
        sid = session.session_id
        self.record("created", sid)
        step = count % 4
        if step == 0:
            return
        content = f"note {sid}"
        stub.UpdateNotes(pb.UpdateNotesRequest(session_id=sid, notes=[pb.UpdateNotesRequest.NoteUpdate(content=content)]),
                         metadata=self.researcher, timeout=5)
        self.record("notes", (sid, content))
        stub.PauseSession(pb.PauseSessionRequest(session_id=sid), metadata=service, timeout=5)
        stub.ResumeSession(pb.ResumeSessionRequest(session_id=sid), metadata=service, timeout=5)
        stub.CompleteSession(pb.CompleteSessionRequest(session_id=sid), metadata=service, timeout=5)
        if step == 1:
            return
        stub.SubmitFeedback(pb.SubmitFeedbackRequest(session_id=sid, clarity=4, difficulty=2, technical_issues=False),
                            metadata=self.tokens.metadata(tester, "tester"), timeout=5)
        self.record("feedback", (sid, tester))
        stub.AnalyzeSession(pb.AnalyzeSessionRequest(session_id=sid), metadata=self.researcher, timeout=5)
        self.record("analyzing", sid)
        if step == 2:
            return
        deadline = time.time() + 5
        while time.time() < deadline and not self.stop.is_set():
            status = stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=service, timeout=5).status
            if status == pb.SESSION_STATUS_ANALYZED:
                stub.ConfirmSession(pb.ConfirmSessionRequest(session_id=sid, rating=4), metadata=self.researcher, timeout=5)
                self.record("confirmed", sid)
                return
            time.sleep(0.02)


def store_checks(data, database_url):
    """(clean, what) for the store right after a kill -9."""
    if not database_url:
        database = sqlite3.connect(os.path.join(data, "sessions.sqlite"))
        integrity = database.execute("PRAGMA integrity_check").fetchall()
        foreign = database.execute("PRAGMA foreign_key_check").fetchall()
        duplicates = database.execute(
            "SELECT session_id, COUNT(*) FROM payouts GROUP BY session_id HAVING COUNT(*) > 1").fetchall()
        database.close()
        return integrity == [("ok",)] and not foreign and not duplicates, f"integrity {integrity[:2]}, {len(duplicates)} doubled payouts"
    url = database_url.split("?")[0]
    script = """
        CREATE EXTENSION IF NOT EXISTS amcheck;
        SELECT count(bt_index_check(c.oid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE a.amname = 'btree' AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast');
        SELECT count(*) FROM (SELECT session_id FROM payouts GROUP BY session_id HAVING count(*) > 1) d;
    """
    result = subprocess.run(["psql", url, "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", script],
                            capture_output=True, text=True, timeout=60, env={**os.environ, "PGSSLMODE": "disable"})
    lines = [line for line in result.stdout.split() if line]
    clean = result.returncode == 0 and len(lines) == 2 and int(lines[0]) > 0 and lines[1] == "0"
    return clean, f"amcheck of {lines[0] if lines else '?'} indexes, doubled payouts {lines[1:] or '?'} {result.stderr.strip()[:200]}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--cycles", "--iterations", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url")
    parser.add_argument("--time-limit", type=float, default=1800)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    began = time.time()
    data = tempfile.mkdtemp(prefix="crash-data-")
    store = "PostgreSQL" if args.database_url else "SQLite"
    # The tokens are signed with the secret the first start creates.
    process, port = start(args.binary, data, args.database_url)
    tokens = Tokens(open(os.path.join(data, "jwt-secret")).read().strip())
    service = tokens.metadata("loader", "service")
    created, notes, feedback, analyzing, confirmed = [], [], [], [], []
    passed = failed = cycles = 0

    def check(condition, message):
        nonlocal passed, failed
        if not condition or os.environ.get("CRASH_LOOP_VERBOSE"):
            print(("PASS " if condition else "FAIL ") + message, flush=True)
        if condition:
            passed += 1
        else:
            failed += 1

    for cycle in range(args.cycles):
        if time.time() - began > args.time_limit:
            print(f"time limit reached after {cycle} cycles", flush=True)
            break
        cycles += 1
        load = Load(port, tokens, cycle, rng.random())
        threads = [threading.Thread(target=load.worker, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(process.pid, signal.SIGKILL)  # the process this script started
        process.wait()
        load.stop.set()
        for thread in threads:
            thread.join(timeout=10)
        created += load.created
        notes += load.notes
        feedback += load.feedback
        analyzing += load.analyzing
        confirmed += load.confirmed

        clean, what = store_checks(data, args.database_url)
        check(clean, f"cycle {cycle}: the {store} store checks clean ({what})")

        process, port = start(args.binary, data, args.database_url)
        stub = rpc.SessionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        missing = []
        for sid in load.created:
            try:
                stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=service, timeout=5)
            except grpc.RpcError:
                missing.append(sid)
        check(not missing, f"cycle {cycle}: all {len(load.created)} acknowledged creates survived ({missing[:3]} missing)")
        lost_notes = []
        for sid, content in load.notes:
            found = stub.GetNotes(pb.GetNotesRequest(session_id=sid), metadata=tokens.metadata("checker", "researcher"), timeout=5)
            if content not in [note.content for note in found.notes]:
                lost_notes.append(sid)
        check(not lost_notes, f"cycle {cycle}: all {len(load.notes)} acknowledged notes survived ({lost_notes[:3]} lost)")
        lost_feedback = []
        for sid, tester in load.feedback:
            try:
                stub.SubmitFeedback(pb.SubmitFeedbackRequest(session_id=sid, clarity=1, difficulty=1, technical_issues=True),
                                    metadata=tokens.metadata(tester, "tester"), timeout=5)
                lost_feedback.append(sid)  # accepted again: the first was lost
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.ALREADY_EXISTS:
                    lost_feedback.append(sid)
        check(not lost_feedback, f"cycle {cycle}: all {len(load.feedback)} acknowledged feedback survived ({lost_feedback[:3]} lost)")
        wrong = [sid for sid in load.confirmed
                 if stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=service, timeout=5).status
                 != pb.SESSION_STATUS_CONFIRMED]
        check(not wrong, f"cycle {cycle}: all {len(load.confirmed)} acknowledged confirms survived")

    # Let the workers finish what was queued (leases of killed processes expire after 2 s).
    stub = rpc.SessionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

    def all_payouts():
        found, page_token = [], ""
        while True:
            page = stub.ListPayouts(pb.ListPayoutsRequest(page_size=200, page_token=page_token), metadata=service, timeout=5)
            found += page.payouts
            page_token = page.next_page_token
            if not page_token:
                return found

    def unfinished():
        stuck = []
        for sid in analyzing:
            session = stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=service, timeout=5)
            done = session.status in (pb.SESSION_STATUS_ANALYZED, pb.SESSION_STATUS_CONFIRMED) or (
                session.status == pb.SESSION_STATUS_COMPLETED and session.HasField("last_analysis_error"))
            if not done:
                stuck.append(sid)
        return stuck

    deadline = time.time() + 30
    payouts, stuck = [], analyzing
    while time.time() < deadline:
        payouts = all_payouts()
        stuck = unfinished()
        if not stuck and all(p.status == pb.PAYOUT_STATUS_DELIVERED for p in payouts):
            break
        time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)
    ledger = [json.loads(line)["payoutId"] for line in open(os.path.join(data, "payout-ledger.jsonl")) if line.strip()]
    sessions_paid = [p.session_id for p in payouts]
    check(not stuck, f"every acknowledged analysis request finished ({len(analyzing)}; {stuck[:3]} still analyzing)")
    check(set(confirmed) <= set(sessions_paid), f"every acknowledged confirm has a payout ({len(confirmed)})")
    check(len(sessions_paid) == len(set(sessions_paid)), "no payout is doubled")
    check(len(ledger) == len(set(ledger)), f"the ledger holds each payout once ({len(ledger)} entries)")
    check(sorted(ledger) == sorted(p.payout_id for p in payouts), "every payout was delivered to the ledger, none lost")
    print(f"crash loop on {store} ({cycles} kills in {time.time() - began:.0f} s; {len(created)} creates, {len(notes)} notes, "
          f"{len(feedback)} feedback, {len(analyzing)} analyses, {len(confirmed)} confirms): {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
