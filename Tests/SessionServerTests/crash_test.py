"""Crash test: write load through the real server, kill -9 at random moments, restart, check.

    crash_test.py --binary .build/debug/sessiond [--iterations 8] [--seed 1]

Each iteration starts sessiond on the same data directory, runs concurrent clients that create
sessions and take some of them to confirmation, kills the server with SIGKILL after a random
0.3–1.5 s, checks the SQLite file with PRAGMA integrity_check, restarts it and checks that every
acknowledged create and confirm is present, that no session has more than one payout, and that
the payout ledger never holds a payout twice. Prints "N passed, M failed".
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


def start(binary, data):
    # A 2 s job lease: payouts the killed process had claimed are taken over by the next one
    # within the final wait (with the default 30 s they would still be held).
    process = subprocess.Popen([binary, "serve", "--port", "0", "--data-dir", data, "--job-lease", "2"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"sessiond did not start: {line!r}")
    return process, int(line.rsplit(":", 1)[1])


class Load:
    """Clients that record every acknowledged write, until the server goes away."""

    def __init__(self, port, token, researcher, iteration):
        self.stub = rpc.SessionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.researcher = (("authorization", f"Bearer {researcher}"),)  # confirming needs a researcher
        self.iteration = iteration
        self.created = []
        self.confirmed = []
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def worker(self, index):
        count = 0
        while not self.stop.is_set():
            count += 1
            try:
                session = self.stub.CreateSession(pb.CreateSessionRequest(
                    job_id=f"job-{self.iteration}", tester_id=f"t-{self.iteration}-{index}-{count}"),
                    metadata=self.metadata, timeout=5)
                with self.lock:
                    self.created.append(session.session_id)
                if count % 3 == 0:
                    self.confirm(session.session_id)
            except grpc.RpcError:
                if self.stop.is_set():
                    return
                time.sleep(0.01)

    def confirm(self, sid):
        self.stub.CompleteSession(pb.CompleteSessionRequest(session_id=sid), metadata=self.metadata, timeout=5)
        self.stub.AnalyzeSession(pb.AnalyzeSessionRequest(session_id=sid), metadata=self.metadata, timeout=5)
        deadline = time.time() + 5
        while time.time() < deadline and not self.stop.is_set():
            status = self.stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=self.metadata, timeout=5).status
            if status == pb.SESSION_STATUS_ANALYZED:
                self.stub.ConfirmSession(pb.ConfirmSessionRequest(session_id=sid, rating=4),
                                         metadata=self.researcher, timeout=5)
                with self.lock:
                    self.confirmed.append(sid)
                return
            time.sleep(0.02)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--iterations", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    data = tempfile.mkdtemp(prefix="crash-data-")
    # The service token is signed with the secret the first start creates.
    process, port = start(args.binary, data)
    secret = open(os.path.join(data, "jwt-secret")).read().strip()
    token = jwt.encode({"sub": "loader", "role": "service", "org": "crash", "exp": int(time.time()) + 3600},
                       secret, algorithm="HS256")
    confirmer = jwt.encode({"sub": "checker", "role": "researcher", "org": "crash", "exp": int(time.time()) + 3600},
                           secret, algorithm="HS256")
    all_created, all_confirmed = [], []
    passed = failed = 0

    def check(condition, message):
        nonlocal passed, failed
        print(("PASS " if condition else "FAIL ") + message, flush=True)
        if condition:
            passed += 1
        else:
            failed += 1

    for iteration in range(args.iterations):
        load = Load(port, token, confirmer, iteration)
        threads = [threading.Thread(target=load.worker, args=(i,)) for i in range(6)]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.3, 1.5))
        os.kill(process.pid, signal.SIGKILL)  # the process this script started
        process.wait()
        load.stop.set()
        for thread in threads:
            thread.join(timeout=10)
        all_created += load.created
        all_confirmed += load.confirmed

        database = sqlite3.connect(os.path.join(data, "sessions.sqlite"))
        integrity = database.execute("PRAGMA integrity_check").fetchall()
        foreign = database.execute("PRAGMA foreign_key_check").fetchall()
        duplicates = database.execute(
            "SELECT session_id, COUNT(*) FROM payouts GROUP BY session_id HAVING COUNT(*) > 1").fetchall()
        database.close()
        check(integrity == [("ok",)] and not foreign, f"iteration {iteration}: the database checks clean")
        check(not duplicates, f"iteration {iteration}: no session has two payouts")

        process, port = start(args.binary, data)
        stub = rpc.SessionServiceStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        # Checked as the service: researchers are rate limited, services are not.
        metadata = (("authorization", f"Bearer {token}"),)
        missing = []
        for sid in all_created:
            try:
                stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=metadata, timeout=5)
            except grpc.RpcError:
                missing.append(sid)
        check(not missing, f"iteration {iteration}: all {len(all_created)} acknowledged creates survived ({len(missing)} missing)")
        wrong = [sid for sid in all_confirmed
                 if stub.GetSession(pb.GetSessionRequest(session_id=sid), metadata=metadata, timeout=5).status
                 != pb.SESSION_STATUS_CONFIRMED]
        check(not wrong, f"iteration {iteration}: all {len(all_confirmed)} acknowledged confirms survived")

    # Let the dispatcher deliver what was queued, then compare payouts with the ledger.
    service_md = (("authorization", f"Bearer {token}"),)
    def all_payouts():
        found, token_ = [], ""
        while True:
            page = stub.ListPayouts(pb.ListPayoutsRequest(page_size=200, page_token=token_), metadata=service_md, timeout=5)
            found += page.payouts
            token_ = page.next_page_token
            if not token_:
                return found

    deadline = time.time() + 15
    payouts = []
    while time.time() < deadline:
        payouts = all_payouts()
        if all(p.status == pb.PAYOUT_STATUS_DELIVERED for p in payouts):
            break
        time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)
    ledger = [json.loads(line)["payoutId"] for line in open(os.path.join(data, "payout-ledger.jsonl")) if line.strip()]
    sessions_paid = [p.session_id for p in payouts]
    check(set(all_confirmed) <= set(sessions_paid), f"every acknowledged confirm has a payout ({len(all_confirmed)})")
    check(len(sessions_paid) == len(set(sessions_paid)), "no payout is doubled")
    check(len(ledger) == len(set(ledger)), f"the ledger holds each payout once ({len(ledger)} entries)")
    check(sorted(ledger) == sorted(p.payout_id for p in payouts), "every payout was delivered to the ledger, none lost")
    print(f"crash test ({args.iterations} kills, {len(all_created)} creates, {len(all_confirmed)} confirms): "
          f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
