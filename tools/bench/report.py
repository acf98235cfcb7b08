"""Reads a compare.sh result table, prints sessiond's ratios to the peers and draws the chart.

    report.py tools/bench/results/compare-<time>.txt     writes compare-<time>.png beside it
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RATIOS = [
    ("sessiond-grpc", "cpp-grpc", "gRPC GetSession vs C++ gRPC (target >= 3)"),
    ("sessiond-grpc", "grpc-swift", "gRPC GetSession vs grpc-swift-2"),
    ("sessiond-rest-h2", "nghttpd", "REST over h2 vs nghttpd static (target >= 0.5)"),
    ("sessiond-rest-h1", "hummingbird-rest", "REST over HTTP/1.1 vs Hummingbird (target >= 2)"),
    ("sessiond-rest-h1", "nginx", "REST over HTTP/1.1 vs nginx static"),
    ("sessiond-connect-h2", "sessiond-grpc", "Connect unary GetSession (POST, h2) vs gRPC, same server"),
    ("sessiond-connect-h2", "cpp-grpc", "Connect unary GetSession (POST, h2) vs C++ gRPC"),
    ("sessiond-connect-h1", "sessiond-rest-h1", "Connect GET over HTTP/1.1 vs REST GET, same server"),
]


def main():
    path = sys.argv[1]
    rows = {}
    for line in open(path):
        if line.startswith("#") or line.startswith("target"):
            continue
        fields = line.split()
        if len(fields) >= 9:
            rows[fields[0]] = {"kind": fields[1], "rps": float(fields[2]), "p99": float(fields[6]), "us": float(fields[7])}
    with open(path, "a") as out:
        for ours, peer, label in RATIOS:
            if ours in rows and peer in rows:
                line = f"ratio {ours} / {peer}: {rows[ours]['rps'] / rows[peer]['rps']:.2f}  ({label})"
                print(line)
                out.write(line + "\n")

    groups = [("gRPC and Connect unary GetSession (h2load -c8 -m32)", ("grpc", "connect")),
              ("REST GET over h2 (h2load -c8 -m32)", ("h2",)), ("REST and Connect GET over HTTP/1.1 (wrk -c64)", ("h1",))]
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    for axis, (title, kind) in zip(axes, groups):  # kind: the load kinds drawn together
        names = [name for name, row in rows.items() if row["kind"] in kind]
        names.sort(key=lambda name: rows[name]["rps"])
        values = [rows[name]["rps"] / 1000 for name in names]
        colours = ["#d95f02" if name.startswith("sessiond") else "#7570b3" for name in names]
        axis.barh(names, values, color=colours)
        for index, value in enumerate(values):
            axis.text(value, index, f" {value:.0f}k", va="center", fontsize=8)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("thousand requests/s (server on one core)")
        axis.set_xlim(0, max(values + [1]) * 1.25)
    figure.suptitle(open(path).readline().strip("# \n"), fontsize=9)
    figure.tight_layout()
    figure.savefig(path.replace(".txt", ".png"), dpi=110)


if __name__ == "__main__":
    main()
