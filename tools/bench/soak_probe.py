"""The soak's probe: for DURATION seconds, every SAMPLE seconds, times gRPC GetSession, REST GET and
gRPC CreateSession calls made one after another beside the load (grpc-status and HTTP status
checked), and samples the server's RSS; writes one CSV row per sample, a plot, and a verdict.

    soak_probe.py --port P --token T --session ID --pid PID --duration 600 --sample 10 --csv F --plot F.png

Verdict "probe: pass" when no probe call failed and RSS plateaued: the mean of the last third of
the samples is within 10 % of the middle third's.
"""
import argparse
import csv
import statistics
import time

import grpc
import requests


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--session", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--sample", type=float, default=10)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--plot")
    args = parser.parse_args()
    metadata = (("authorization", f"Bearer {args.token}"),)
    channel = grpc.insecure_channel(f"127.0.0.1:{args.port}")
    get = channel.unary_unary("/sessions.v1.SessionService/GetSession",
                              request_serializer=lambda b: b, response_deserializer=lambda b: b)
    create = channel.unary_unary("/sessions.v1.SessionService/CreateSession",
                                 request_serializer=lambda b: b, response_deserializer=lambda b: b)
    session = args.session.encode()
    get_request = bytes([0x0A, len(session)]) + session
    http = requests.Session()
    url = f"http://127.0.0.1:{args.port}/api/sessions/{args.session}"
    headers = {"Authorization": f"Bearer {args.token}"}
    rows, errors = [], []
    began = time.time()
    count = 0
    while time.time() - began < args.duration:
        window_end = min(began + args.duration, time.time() + args.sample)
        grpc_ms, rest_ms, create_ms = [], [], []
        while time.time() < window_end:
            count += 1
            try:
                start = time.perf_counter()
                reply = get(get_request, metadata=metadata, timeout=10)
                grpc_ms.append((time.perf_counter() - start) * 1000)
                if session not in reply:
                    errors.append("GetSession answered another session")
                start = time.perf_counter()
                response = http.get(url, headers=headers, timeout=10)
                rest_ms.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    errors.append(f"REST {response.status_code}")
                if count % 10 == 0:
                    tester = f"soak-{count}".encode()
                    job = b"job-soak"
                    body = bytes([0x0A, len(job)]) + job + bytes([0x12, len(tester)]) + tester
                    start = time.perf_counter()
                    create(body, metadata=metadata, timeout=10)
                    create_ms.append((time.perf_counter() - start) * 1000)
            except (grpc.RpcError, requests.RequestException) as error:
                errors.append(repr(error)[:200])
            time.sleep(0.02)
        row = {
            "seconds": round(time.time() - began), "rss_mib": round(rss_mib(args.pid), 1),
            "grpc_p50_ms": round(percentile(grpc_ms, 0.5), 2), "grpc_p99_ms": round(percentile(grpc_ms, 0.99), 2),
            "rest_p50_ms": round(percentile(rest_ms, 0.5), 2), "rest_p99_ms": round(percentile(rest_ms, 0.99), 2),
            "create_p99_ms": round(percentile(create_ms, 0.99), 2), "calls": len(grpc_ms) + len(rest_ms) + len(create_ms),
            "errors": len(errors),
        }
        rows.append(row)
        print(" ".join(f"{key}={value}" for key, value in row.items()), flush=True)
    with open(args.csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    if args.plot:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        seconds = [row["seconds"] for row in rows]
        figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
        top.plot(seconds, [row["rss_mib"] for row in rows], marker=".")
        top.set_ylabel("server RSS (MiB)")
        top.set_title("sessiond soak: 1,000 connections (gRPC + REST)")
        bottom.plot(seconds, [row["grpc_p99_ms"] for row in rows], marker=".", label="gRPC GetSession p99")
        bottom.plot(seconds, [row["rest_p99_ms"] for row in rows], marker=".", label="REST GET p99")
        bottom.set_ylabel("probe latency (ms)")
        bottom.set_xlabel("seconds")
        bottom.legend()
        figure.tight_layout()
        figure.savefig(args.plot, dpi=80)
    third = max(1, len(rows) // 3)
    middle = statistics.mean(row["rss_mib"] for row in rows[third:2 * third] or rows)
    last = statistics.mean(row["rss_mib"] for row in rows[-third:])
    plateau = last <= middle * 1.10
    print(f"probe: RSS middle third {middle:.1f} MiB, last third {last:.1f} MiB ({'plateau' if plateau else 'still growing'}); "
          f"{len(errors)} probe errors {errors[:3]}")
    print(f"probe: {'pass' if plateau and not errors else 'fail'}")


if __name__ == "__main__":
    main()
