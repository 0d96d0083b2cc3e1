"""Soak: a steady mixed load on one arca for a long time, sampling its memory and open files.

    cargo build --release --locked
    .venv-e2e/bin/python scripts/soak.py --minutes 60 --clients 32      # ARCA_BIN defaults to the release build

32 clients (threads) each loop over a weighted mix: artifact downloads (a seeded set), new uploads,
overwrites of a hot set, repository lists and searches through the signed management API, and package-index
reads (npm packument, PyPI simple page, Cargo sparse index). Every answer's status is checked and every
download's bytes compared with what was last acknowledged for the path. Every `--sample-secs` the server's
VmRSS and open descriptors are printed; at the end the script prints the figures RELIABILITY.md records:
operations, errors, wrong bytes, RSS after warm-up and at the end, the slope over the second half (MiB per
minute) and the descriptor range. It exits non-zero on an error or a wrong byte.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import random
import struct
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
os.environ.setdefault("ARCA_BIN", str(REPO_ROOT / "target" / "release" / "arca"))

from harness import launch, proc_status_kib  # noqa: E402

MIB = 1024 * 1024
METRICS_TOKEN = "soak-metrics-token-%d" % os.getpid()


def open_fds(pid: int) -> int:
    return len(os.listdir("/proc/%d/fd" % pid))


class World:
    """Repositories and packages seeded before the load starts."""

    def __init__(self, srv, seed_files: int):
        self.srv = srv
        project = self.project = srv.create_project()
        self.login = srv.repo_login()
        self.generic = srv.create_repo(project, "generic")
        self.npm = srv.create_repo(project, "npm")
        self.pypi = srv.create_repo(project, "pypi")
        self.cargo = srv.create_repo(project, "cargo")
        self.lock = threading.Lock()
        self.sent, self.generation, self.in_flight, self.busy_period, self.settled = {}, {}, {}, {}, {}
        session = self.session()
        for i in range(seed_files):
            self.put(session, "seed/file-%04d.bin" % i, os.urandom(random.randint(1024, 64 * 1024)))
        for i in range(20):
            self.put(session, "hot/file-%02d.bin" % i, os.urandom(8 * 1024))
        for i in range(50):
            version = "1.0.%d" % i
            tarball = b"tarball %d" % i
            body = {"name": "soakpkg", "versions": {version: {"name": "soakpkg", "version": version}},
                    "dist-tags": {"latest": version},
                    "_attachments": {"soakpkg-%s.tgz" % version: {"data": base64.b64encode(tarball).decode(),
                                                                  "length": len(tarball)}}}
            check(session.put(self.url("/artifactory/api/npm/%s/soakpkg" % self.npm), json=body, timeout=30), 201)
        for i in range(20):
            content = wheel("soakpy", "1.%d" % i)
            form = {":action": "file_upload", "name": "soakpy", "version": "1.%d" % i, "filetype": "bdist_wheel",
                    "sha256_digest": hashlib.sha256(content).hexdigest()}
            check(session.post(self.url("/artifactory/api/pypi/%s/" % self.pypi), data=form,
                               files={"content": ("soakpy-1.%d-py3-none-any.whl" % i, content)}, timeout=30), 200)
        for i in range(20):
            check(session.put(self.url("/artifactory/api/cargo/%s/api/v1/crates/new" % self.cargo),
                              data=crate_frame("soakcrate", "1.0.%d" % i), timeout=30), 200)

    def url(self, path):
        return self.srv.url(path)

    def session(self):
        s = requests.Session()
        s.auth = self.login
        return s

    def put(self, session, rel, data):
        """Uploads `rel`. Writers of one path that overlap in time commit in an order no client sees, so
        what a quiet read must answer is one of the last busy period's acknowledged uploads."""
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.sent.setdefault(rel, set()).add(digest)
            self.generation[rel] = self.generation.get(rel, 0) + 1
            if self.in_flight.get(rel, 0) == 0:
                self.busy_period[rel] = set()
            self.in_flight[rel] = self.in_flight.get(rel, 0) + 1
        acknowledged = False
        try:
            check(session.put(self.url("/artifactory/%s/%s" % (self.generic, rel)), data=data, timeout=30),
                  200, 201)
            acknowledged = True
        finally:
            with self.lock:
                self.in_flight[rel] -= 1
                if acknowledged:
                    self.busy_period[rel].add(digest)
                if self.in_flight[rel] == 0 and self.busy_period[rel]:
                    self.settled[rel] = set(self.busy_period[rel])


def wheel(name, version) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("%s-%s.dist-info/METADATA" % (name, version),
                   "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
    return buf.getvalue()


def crate_frame(name, vers) -> bytes:
    meta = json.dumps({"name": name, "vers": vers, "deps": [], "features": {}, "authors": [],
                       "description": "soak", "license": "MIT"}).encode()
    crate = b"crate " + vers.encode()
    return struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate)) + crate


class Failure(Exception):
    pass


def check(resp, *ok):
    if resp.status_code not in ok:
        raise Failure("%s %s -> %d %s" % (resp.request.method, resp.request.path_url, resp.status_code,
                                          resp.text[:200]))
    return resp


class Client(threading.Thread):
    def __init__(self, world, index, stop, counts):
        super().__init__(daemon=True)
        self.world, self.index, self.stop, self.counts = world, index, stop, counts
        self.rng = random.Random(index)

    def run(self):
        w, session, rng = self.world, self.world.session(), self.rng
        ops = [(self.download, 40), (self.upload, 10), (self.overwrite, 10), (self.listing, 8),
               (self.search, 7), (self.npm, 10), (self.pypi, 8), (self.cargo, 7)]
        names = [op for op, weight in ops for _ in range(weight)]
        n = 0
        while not self.stop.is_set():
            op = rng.choice(names)
            try:
                op(session)
                self.counts["ok"] += 1
            except Failure as e:
                self.counts["errors"] += 1
                print("error:", e, flush=True)
            except requests.RequestException as e:
                self.counts["errors"] += 1
                print("transport error:", e, flush=True)
            n += 1

    def download(self, session):
        w = self.world
        with w.lock:
            rel, settled = self.rng.choice(list(w.settled.items()))
            quiet = w.in_flight[rel] == 0
            generation = w.generation[rel]
        resp = check(session.get(w.url("/artifactory/%s/%s" % (w.generic, rel)), timeout=30), 200)
        served = hashlib.sha256(resp.content).hexdigest()
        with w.lock:
            quiet = quiet and w.generation[rel] == generation
            sent = set(w.sent[rel])
        # With no upload to the path around the read, the answer is a settled acknowledged version;
        # otherwise it may be any bytes sent to the path, never bytes nobody sent.
        if (quiet and served not in settled) or served not in sent:
            self.counts["wrong_bytes"] += 1
            print("wrong bytes for", rel, flush=True)

    def upload(self, session):
        rel = "new/c%02d/%d.bin" % (self.index, self.counts["ok"] + self.rng.randrange(1 << 30))
        self.world.put(session, rel, os.urandom(self.rng.choice([512, 4096, 65536])))

    def overwrite(self, session):
        self.world.put(session, "hot/file-%02d.bin" % self.rng.randrange(20), os.urandom(8 * 1024))

    def listing(self, session):
        srv = self.world.srv
        check(srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, self.world.project),
                         query=[("in_project", "false"), ("page_no", 1), ("page_size", 20)]), 200)

    def search(self, session):
        check(self.world.srv.signed("POST", "/cloudartifact/v5/tree/repos/artifacts",
                                    body={"artifact_name": "file-0%d" % self.rng.randrange(10),
                                          "page_no": 1, "page_size": 20}), 200)

    def npm(self, session):
        check(session.get(self.world.url("/artifactory/api/npm/%s/soakpkg" % self.world.npm), timeout=30), 200)

    def pypi(self, session):
        check(session.get(self.world.url("/artifactory/api/pypi/%s/simple/soakpy/" % self.world.pypi),
                          timeout=30), 200)

    def cargo(self, session):
        check(session.get(self.world.url("/artifactory/api/cargo/%s/index/so/ak/soakcrate" % self.world.cargo),
                          timeout=30), 200)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=7)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--sample-secs", type=float, default=15)
    parser.add_argument("--seed-files", type=int, default=300)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="arca-soak-") as tmp:
        srv = launch(Path(tmp), env={"ARCA_LOG": "warn", "ARCA_METRICS_TOKEN": METRICS_TOKEN})
        try:
            world = World(srv, args.seed_files)
            counts = {"ok": 0, "errors": 0, "wrong_bytes": 0}
            stop = threading.Event()
            clients = [Client(world, i, stop, counts) for i in range(args.clients)]
            start = time.monotonic()
            for c in clients:
                c.start()
            samples = []
            end = start + args.minutes * 60
            while time.monotonic() < end:
                time.sleep(args.sample_secs)
                t = (time.monotonic() - start) / 60
                rss = proc_status_kib(srv.proc.pid, "VmRSS") / 1024
                fds = open_fds(srv.proc.pid)
                threads = proc_status_kib(srv.proc.pid, "Threads")
                heap = heap_gauges(srv)
                db_mib = sum(f.stat().st_size for f in srv.data_dir.glob("arca.db*")) / MIB
                samples.append((t, rss, fds, heap["allocated"], heap["resident"], db_mib))
                print("%6.1f min  ops %8d  errors %d  wrong %d  RSS %6.1f MiB  heap %6.1f live %6.1f active %6.1f resident  "
                      "db %6.1f MiB  fds %d  threads %d"
                      % (t, counts["ok"], counts["errors"], counts["wrong_bytes"], rss, heap["allocated"],
                         heap["active"], heap["resident"], db_mib, fds, threads), flush=True)
            stop.set()
            for c in clients:
                c.join(timeout=60)
            report(args, counts, samples)
            failed = counts["errors"] or counts["wrong_bytes"]
        finally:
            srv.stop()
    sys.exit(1 if failed else 0)


def heap_gauges(srv) -> dict:
    """The allocator's own figures from /metrics: live allocations and the RAM it keeps (MiB)."""
    text = requests.get(srv.url("/metrics"), headers={"Authorization": "Bearer " + METRICS_TOKEN},
                        timeout=30).text
    values = dict(line.split(" ", 1) for line in text.splitlines() if line.startswith("arca_heap_"))
    return {name: float(values["arca_heap_%s_bytes" % name]) / MIB for name in ("allocated", "active", "resident")}


def slope(points):
    """Least-squares slope of (minute, MiB) points."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(p[0] for p in points) / n
    my = sum(p[1] for p in points) / n
    den = sum((p[0] - mx) ** 2 for p in points)
    return sum((p[0] - mx) * (p[1] - my) for p in points) / den if den else 0.0


def report(args, counts, samples):
    warm = [s for s in samples if s[0] >= args.minutes / 6] or samples
    second_half = [s for s in samples if s[0] >= args.minutes / 2] or samples
    print()
    print("soak: %.0f min, %d clients: %d operations (%.0f/s), %d errors, %d wrong bytes"
          % (args.minutes, args.clients, counts["ok"], counts["ok"] / (args.minutes * 60), counts["errors"],
             counts["wrong_bytes"]))
    print("RSS: %.1f MiB after warm-up (%.1f min), %.1f MiB at the end, max %.1f MiB; second-half slope %+.2f MiB/min"
          % (warm[0][1], warm[0][0], samples[-1][1], max(s[1] for s in samples),
             slope([(s[0], s[1]) for s in second_half])))
    print("heap (live allocations): %.1f MiB after warm-up, %.1f MiB at the end; second-half slope %+.2f MiB/min"
          % (warm[0][3], samples[-1][3], slope([(s[0], s[3]) for s in second_half])))
    print("allocator resident: %.1f MiB after warm-up, %.1f MiB at the end; second-half slope %+.2f MiB/min"
          % (warm[0][4], samples[-1][4], slope([(s[0], s[4]) for s in second_half])))
    print("database files: %.1f MiB after warm-up, %.1f MiB at the end" % (warm[0][5], samples[-1][5]))
    print("open descriptors: %d..%d" % (min(s[2] for s in samples), max(s[2] for s in samples)))


if __name__ == "__main__":
    main()
