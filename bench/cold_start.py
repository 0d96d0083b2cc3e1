#!/usr/bin/env python3
"""Cold start to first answer on an existing data directory (issue 15).

    bench/cold_start.py --data-dir DIR --artifact PATH [--runs N] [--database-url URL]

DIR is one bench/seed_rows.py filled with `--artifacts` (PATH: the `first_artifact` it printed, in the
`seed-generic` repository). Each run starts arca (ARCA_BIN) on DIR, polls `GET /health` every millisecond
from the moment the process is spawned, then sends one signed artifact GET, and stops the server. Prints
the median and worst of the runs, in milliseconds from spawn: first `/health` 200, first artifact 200.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", required=True, type=Path)
    ap.add_argument("--artifact", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    data_dir = args.data_dir.resolve()
    boot = json.loads((data_dir / "bootstrap.json").read_text())
    env = dict(os.environ, ARCA_LOG="warn", NO_COLOR="1")
    if args.database_url:
        env["ARCA_DATABASE_URL"] = args.database_url
    health, first_get = [], []
    for _ in range(args.runs):
        port = harness.free_port()
        base = "http://127.0.0.1:%d" % port
        log = open(data_dir.parent / "cold-start.log", "ab")
        started = time.perf_counter()
        proc = subprocess.Popen([harness.arca_bin(), "serve", "--listen", "127.0.0.1:%d" % port, "--data-dir",
                                 str(data_dir), "--region", harness.REGION], env=env, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        try:
            session = requests.Session()
            while True:
                if proc.poll() is not None:
                    raise SystemExit("arca exited with %s" % proc.returncode)
                try:
                    if session.get(base + "/health", timeout=5).status_code == 200:
                        break
                except (requests.ConnectionError, socket.error):
                    time.sleep(0.001)
            health.append((time.perf_counter() - started) * 1000)
            srv = harness.Arca(proc, base, data_dir, data_dir.parent / "cold-start.log", boot)
            resp = srv.signed("GET", "/artifactory/seed-generic/" + args.artifact, session=session,
                              project_header=False)
            resp.raise_for_status()
            first_get.append((time.perf_counter() - started) * 1000)
        finally:
            proc.terminate()
            proc.wait()
    print(json.dumps({"health_ms": {"median": round(statistics.median(health), 1), "max": round(max(health), 1)},
                      "first_artifact_ms": {"median": round(statistics.median(first_get), 1),
                                            "max": round(max(first_get), 1)}, "runs": args.runs}))


if __name__ == "__main__":
    main()
