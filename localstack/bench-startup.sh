#!/usr/bin/env bash
# devstack's startup time, from launch to ready (moto up, template provisioned, functions
# wired, users and products seeded), with the function binaries already built.
# usage: localstack/bench-startup.sh [runs]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo build --quiet --workspace --bins --tests --locked
target="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
python3 - "$target/debug/devstack" "$runs" <<'PY'
import re, statistics, subprocess, sys, time
devstack, runs = sys.argv[1], int(sys.argv[2])
ready, wall = [], []
for run in range(1, runs + 1):
    started = time.monotonic()
    out = subprocess.run([devstack, "--no-build", "--check", "--quiet", "--port", "0", "--edge-port", "0"],
                         capture_output=True, text=True, check=True).stdout
    wall.append(time.monotonic() - started)
    ready.append(float(re.search(r"ready (\d+\.\d+) s after start", out).group(1)))
    print(f"run {run}: ready after {ready[-1]:.1f} s (whole run with stop: {wall[-1]:.2f} s)")
print(f"launch to ready: median {statistics.median(ready):.1f} s, max {max(ready):.1f} s over {runs} runs")
PY
