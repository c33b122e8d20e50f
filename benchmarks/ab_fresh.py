"""Before/after of fresh_build.c binaries (one build per new process),
alternated run by run so the machine's fast and slow states fall on all.

    python3 benchmarks/ab_fresh.py RUNS ./fresh_A ./fresh_B [...]

Prints each binary's medians and, against the first, the median of the
per-run ratios (run i of B over run i of A).
"""
import re
import statistics
import subprocess
import sys

LINE = re.compile(r"read ([\d.]+) finish ([\d.]+) total ([\d.]+) ms faults read (\d+) finish (\d+)")
FIELDS = ("read", "finish", "total", "faults_read", "faults_finish")


def main():
    runs, bins = int(sys.argv[1]), sys.argv[2:]
    got = {b: [] for b in bins}
    for _ in range(runs):
        for b in bins:
            out = subprocess.run([b], capture_output=True, text=True, check=True).stdout
            got[b].append([float(x) for x in LINE.search(out).groups()])
    for b in bins:
        cols = list(zip(*got[b]))
        print(b, " ".join(f"{f} {statistics.median(c):.1f}" for f, c in zip(FIELDS, cols)))
    base = got[bins[0]]
    for b in bins[1:]:
        ratios = [
            f"{f} {statistics.median(y[k] / x[k] for x, y in zip(base, got[b])):.3f}"
            for k, f in enumerate(FIELDS[:3])
        ]
        print(f"{b} / {bins[0]}, median per-run ratio:", " ".join(ratios))


if __name__ == "__main__":
    main()
