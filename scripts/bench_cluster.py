"""One node on the embedded defaults (SQLite + data directory) against one and two nodes on PostgreSQL + S3
(issue 12), on this machine in one run; prints a Markdown table for BENCHMARKS.md.

    cargo build --release --locked
    .venv-e2e/bin/python scripts/bench_cluster.py     # ARCA_BIN defaults to target/release/arca

Loads (wrk, Debian's, 32 connections for 10 s after a 2 s warm-up; with two nodes two wrk processes of 16
connections each, one per node, at the same time, their rates added):
- a metadata read: the full npm packument of a package of 100 versions;
- a 10 KiB artifact read (a generic file);
- a publish: PUTs of 10 KiB generic files, each to a new path with different content (so every one is a
  new blob: an S3 PUT, or a file written and fsynced).
PostgreSQL (Debian's, fsync off as in the tests) and the S3 server (s3s-fs) run on the same machine.
"""

import base64
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
os.environ.setdefault("ARCA_BIN", str(REPO_ROOT / "target" / "release" / "arca"))

import uploads  # noqa: E402
from cluster import Cluster  # noqa: E402
from harness import launch  # noqa: E402

SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
PUBLISH_LUA = """
counter = 0
local base = string.rep("%s", 10240 / 16)
request = function()
  counter = counter + 1
  local tag = string.format("%%d-%%d", math.random(1, 1000000000), counter)
  return wrk.format("PUT", "%s" .. tag .. ".bin", nil, tag .. base)
end
"""


def wrk_rate(urls, login, connections=32, script=None):
    """Requests per second over `urls` (one wrk each, at once, connections split between them)."""
    token = base64.b64encode(("%s:%s" % login).encode()).decode()
    per = max(1, connections // len(urls))

    def command(url, seconds):
        cmd = ["wrk", "-t1" if len(urls) > 1 else "-t2", "-c%d" % per, "-d%ds" % seconds, "--latency",
               "-H", "Authorization: Basic " + token]
        if script:
            cmd += ["-s", script]
        return cmd + [url]

    for url in urls:  # warm-up
        subprocess.run(command(url, 2), capture_output=True, check=True)
    procs = [subprocess.Popen(command(url, SECONDS), stdout=subprocess.PIPE, text=True) for url in urls]
    total, p99s = 0.0, []
    for proc in procs:
        out, _ = proc.communicate()
        assert "Non-2xx" not in out, out
        total += float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        p99s.append(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
    return total, "/".join(p99s)


def prepare(node, login, project, workdir):
    """An npm package of 100 versions and a 10 KiB file; answers the URL paths of the three loads."""
    npm = node.create_repo(project, "npm")
    name = "bench-pkg"
    for i in range(100):
        resp = uploads.npm_publish(node.base_url, npm, name, "1.0.%d" % i, b"tarball %d" % i, login)
        assert resp.status_code in (200, 201), resp.text
    generic = node.create_repo(project, "generic")
    assert uploads.put_file(node.base_url, generic, "files/10k.bin", os.urandom(10240), login).status_code == 201
    script = Path(workdir) / ("publish-%s.lua" % generic)
    script.write_text(PUBLISH_LUA % ("0123456789abcdef", "/artifactory/%s/publish/" % generic))
    return {"metadata": "/artifactory/api/npm/%s/%s" % (npm, name), "artifact": "/artifactory/%s/files/10k.bin"
            % generic, "publish": "/artifactory/%s/publish/" % generic, "script": str(script)}


def measure(nodes, login, paths):
    out = {}
    for load in ("metadata", "artifact"):
        out[load] = wrk_rate([n.url(paths[load]) for n in nodes], login)
    out["publish"] = wrk_rate([n.url(paths["publish"]) for n in nodes], login, script=paths["script"])
    return out


def main():
    results = {}
    with tempfile.TemporaryDirectory(prefix="arca-bench-cluster-") as tmp:
        embedded = launch(Path(tmp) / "embedded", env={"ARCA_BLOB_STORE": "fs", "ARCA_DATABASE_URL": ""})
        try:
            login = embedded.repo_login()
            paths = prepare(embedded, login, embedded.create_project(), tmp)
            results["1 node, SQLite + filesystem"] = measure([embedded], login, paths)
        finally:
            embedded.stop()
        cluster = Cluster(Path(tmp) / "cluster")
        try:
            first = cluster.start_node()
            login = first.repo_login()
            paths = prepare(first, login, first.create_project(), tmp)
            results["1 node, PostgreSQL + S3"] = measure([first], login, paths)
            second = cluster.start_node()
            results["2 nodes, PostgreSQL + S3"] = measure([first, second], login, paths)
        finally:
            cluster.close()
    base = results["1 node, SQLite + filesystem"]
    print("\n| setup | npm packument, 100 versions | 10 KiB artifact | publish 10 KiB |\n|---|---|---|---|")
    for setup, figures in results.items():
        cells = ["%.0f req/s (%.2f×), p99 %s" % (figures[k][0], figures[k][0] / base[k][0], figures[k][1])
                 for k in ("metadata", "artifact", "publish")]
        print("| %s | %s |" % (setup, " | ".join(cells)))


if __name__ == "__main__":
    main()
