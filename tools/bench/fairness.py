"""How long a fresh client waits while CONNECTIONS clients pipeline REST requests as fast as the
server takes them and never read the answers: the hostile suite's rest_targets_mixed_never_read
write (valid and invalid targets, some costly to parse), from more connections and timed.

    fairness.py --port P --pid SERVER_PID --secret-file DATA/jwt-secret [--connections 150]
                [--seconds 8]

Prints, before, during (halfway) and after the flood, the seconds until a fresh connection had
every answer to the same write (and its statuses, which must be the expected ones), then the
seconds the hostile suite's fresh-client check took. Exits 1 when an answer was wrong or late
(past the suite's fresh-client time, 5 s). 127.0.0.1 only; bounded in time.
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SessionServerTests"))
import hostile_clients as hostile  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--connections", type=int, default=150)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--handshake-timeout", type=float, default=10.0)
    args = parser.parse_args()
    with open(args.secret_file) as file:
        ctx = hostile.Context(args, file.read().strip())
    batch, expected = hostile.rest_targets_batch(ctx)
    if batch is None:
        sys.exit(f"could not create the session the requests read: {ctx.problems}")
    expected = expected + [b"200"]
    failures = []

    def fresh(when):
        statuses, took = hostile.rest_targets_answered(ctx, batch)
        right = statuses == expected
        print(f"{when}: {len(statuses)} of {len(expected)} answers in {took:.3f} s"
              + ("" if right else f", statuses {[s.decode() for s in statuses]}"), flush=True)
        if not right:
            failures.append(when)

    fresh("before")
    results = [None] * args.connections
    senders = []
    for index in range(args.connections):
        sock = ctx.socket(rcvbuf=hostile.SMALL_RCVBUF)
        sock.setblocking(False)

        def send(index=index, sock=sock):
            results[index] = hostile.send_for(ctx, sock, batch, args.seconds)
        senders.append(threading.Thread(target=send))
    for sender in senders:
        sender.start()
    time.sleep(args.seconds / 2)
    fresh("during")
    for sender in senders:
        sender.join()
    sent = sum(result[0] for result in results if result)
    print(f"{args.connections} connections sent {sent / hostile.MIB:.0f} MiB without reading", flush=True)
    fresh("after")
    started = time.monotonic()
    problems = hostile.fresh_client_problems(args.port)
    print(f"fresh-client check (gRPC and REST health): {time.monotonic() - started:.3f} s"
          + (f", problems: {problems}" if problems else ""), flush=True)
    ctx.close_all()
    sys.exit(1 if failures or problems else 0)


if __name__ == "__main__":
    main()
