"""sessiond instances on one PostgreSQL, one of them killed with SIGKILL during payout delivery
and restarted, again and again: every confirmed session is paid exactly once.

    instances_test.py --binary .build/debug/sessiond --database-url postgres://… \
        [--instances 3] [--kills 2] [--sessions 200]

Starts the instances (each its own data directory, one shared JWT secret, a 2 s job lease) and
spreads the sessions' calls over all of them: create, complete and analyze through one, confirm
through the next, so analyses and payouts are claimed wherever they land. Each time another
share of the sessions is confirmed it kills the second instance with SIGKILL while confirms (and
their deliveries) keep coming, sends its calls to the others meanwhile (as a load balancer
would), and restarts it on the same data directory. Then it waits, bounded, until every payout
is delivered and checks, reading PostgreSQL directly: one ledger record per payout ID
(`payout_deliveries`), the same set as the payouts; each record copied to exactly one instance's
ledger file (the recording instance's); every instance delivered some. Prints "N passed, M failed".
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import jwt

from session_stubs import pb, rpc

passes, failures = [], []


def check(condition, message):
    print(("PASS " if condition else "FAIL ") + message, flush=True)
    (passes if condition else failures).append(message)


class Instance:
    def __init__(self, name, binary, database_url, secret_file):
        self.name = name
        self.binary = binary
        self.data = tempfile.mkdtemp(prefix=f"instance-{name}-")
        self.arguments = [binary, "serve", "--port", "0", "--data-dir", self.data, "--database-url", database_url,
                          "--jwt-secret-file", secret_file, "--job-lease", "2"]
        self.process = None
        self.stub = None
        self.start()

    def start(self):
        self.process = subprocess.Popen(self.arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.process.kill()
            raise RuntimeError(f"sessiond {self.name} did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])
        self.stub = rpc.SessionServiceStub(grpc.insecure_channel(f"127.0.0.1:{self.port}"))

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)  # the process this script started
        self.process.wait()
        self.stub = None

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)

    def ledger(self):
        path = os.path.join(self.data, "payout-ledger.jsonl")
        if not os.path.exists(path):
            return []
        return [json.loads(line)["payoutId"] for line in open(path) if line.strip()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=200)
    args = parser.parse_args()
    secret = "instances-test-secret-" + "x" * 32
    secret_file = os.path.join(tempfile.mkdtemp(prefix="instances-secret-"), "jwt-secret")
    with open(secret_file, "w") as handle:
        handle.write(secret)
    expires = int(time.time()) + 3600
    service = (("authorization", "Bearer " + jwt.encode(
        {"sub": "svc", "role": "service", "org": "multi", "exp": expires}, secret, algorithm="HS256")),)
    researcher = (("authorization", "Bearer " + jwt.encode(
        {"sub": "r1", "role": "researcher", "org": "multi", "exp": expires}, secret, algorithm="HS256")),)

    instances = [Instance("ABCDEFGH"[index], args.binary, args.database_url, secret_file)
                 for index in range(args.instances)]
    lock = threading.Lock()

    def call(preferred, method, request, metadata):
        """Calls through the preferred instance, or the other one while it is down. A call resent
        after UNAVAILABLE may find its first sending committed (the instance died before
        answering): it returns None for FAILED_PRECONDITION or ALREADY_EXISTS then, and the caller
        checks the state."""
        deadline = time.time() + 20
        resent = False
        while True:
            for instance in instances[preferred:] + instances[:preferred]:
                with lock:
                    stub = instance.stub
                if stub is None:
                    continue
                try:
                    return getattr(stub, method)(request, metadata=metadata, timeout=5)
                except grpc.RpcError as error:
                    if resent and error.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS):
                        return None
                    if error.code() != grpc.StatusCode.UNAVAILABLE or time.time() > deadline:
                        raise
                    resent = True
            time.sleep(0.05)

    confirmed = []

    def lifecycle(index):
        here, there = index % len(instances), (index + 1) % len(instances)
        tester = f"tester-{index}"
        session = call(here, "CreateSession", pb.CreateSessionRequest(job_id="job-multi", tester_id=tester), service)
        if session is None:
            session = call(here, "ListSessions", pb.ListSessionsRequest(tester_id=tester), service).sessions[0]
        sid = session.session_id
        call(here, "CompleteSession", pb.CompleteSessionRequest(session_id=sid), service)
        call(here, "AnalyzeSession", pb.AnalyzeSessionRequest(session_id=sid), service)
        deadline = time.time() + 30
        while call(there, "GetSession", pb.GetSessionRequest(session_id=sid), service).status != pb.SESSION_STATUS_ANALYZED:
            if time.time() > deadline:
                raise RuntimeError(f"session {sid} was not analyzed in 30 s")
            time.sleep(0.02)
        if call(there, "ConfirmSession", pb.ConfirmSessionRequest(session_id=sid, rating=5), researcher) is None:
            status = call(there, "GetSession", pb.GetSessionRequest(session_id=sid), service).status
            if status != pb.SESSION_STATUS_CONFIRMED:
                raise RuntimeError(f"confirming {sid} was refused and it is {status}")
        with lock:
            confirmed.append(sid)

    def workers(indices):
        errors = []

        def run(chunk):
            for index in chunk:
                try:
                    lifecycle(index)
                except Exception as error:  # noqa: BLE001 - reported as a failure below
                    errors.append(f"session {index}: {error}")
        chunks = [indices[i::6] for i in range(6)]
        threads = [threading.Thread(target=run, args=(chunk,)) for chunk in chunks]
        for thread in threads:
            thread.start()
        return threads, errors

    started = time.time()
    threads, errors = workers(list(range(args.sessions)))
    victim = instances[1]
    for kill in range(args.kills):
        # Killed while confirms, and so deliveries, keep coming; down for a moment; restarted.
        share = args.sessions * (kill + 1) // (args.kills + 1)
        while len(confirmed) < share and any(thread.is_alive() for thread in threads):
            time.sleep(0.01)
        with lock:
            victim.stub = None
        victim.kill()
        check(True, f"killed {victim.name} (SIGKILL) with {len(confirmed)} sessions confirmed")
        time.sleep(0.5)
        victim.start()
    for thread in threads:
        thread.join(timeout=120)
    check(not errors, f"every session's calls succeeded ({len(errors)} errors: {errors[:3]})")
    check(len(confirmed) == args.sessions, f"{len(confirmed)} of {args.sessions} sessions confirmed")
    print(f"all confirmed after {time.time() - started:.1f} s", flush=True)

    # Every payout delivered, bounded: B's claims from before the kill come back when their 2 s lease expires.
    def payouts():
        found, token = [], ""
        while True:
            page = call(0, "ListPayouts", pb.ListPayoutsRequest(page_size=200, page_token=token), service)
            found += page.payouts
            token = page.next_page_token
            if not token:
                return found
    deadline = time.time() + 60
    listed = payouts()
    while time.time() < deadline and not (len(listed) == len(confirmed)
                                          and all(p.status == pb.PAYOUT_STATUS_DELIVERED for p in listed)):
        time.sleep(0.1)
        listed = payouts()
    delivered = [p for p in listed if p.status == pb.PAYOUT_STATUS_DELIVERED]
    check(len(delivered) == len(confirmed), f"all {len(confirmed)} payouts delivered ({len(delivered)})")
    for instance in instances:
        instance.stop()  # graceful: the ledger files are complete

    rows = subprocess.run(["psql", args.database_url, "-At", "-F", " ", "-c",
                           "SELECT idempotency_key, recorded_by FROM payout_deliveries"],
                          capture_output=True, text=True, check=True).stdout.split("\n")
    records = [row.split(" ", 1) for row in rows if row.strip()]
    keys = [key for key, _ in records]
    payout_ids = sorted(p.payout_id for p in listed)
    check(len(keys) == len(set(keys)), f"the ledger table holds each payout ID once ({len(keys)} records)")
    check(sorted(keys) == payout_ids, "the ledger table holds exactly the payouts")
    files = [instance.ledger() for instance in instances]
    copied = [payout for file in files for payout in file]
    split = ", ".join(f"{instance.name} {len(file)}" for instance, file in zip(instances, files))
    check(sorted(copied) == payout_ids, f"each record is in exactly one instance's ledger file ({split})")
    check(all(len(f) > 0 for f in files), "every instance delivered payouts")
    print(f"instances test ({len(instances)} instances, {args.sessions} sessions, {args.kills} kills, "
          f"{time.time() - started:.1f} s): "
          f"{len(passes)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
