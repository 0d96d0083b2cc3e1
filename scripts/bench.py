"""Benchmarks of a release build of arca on loopback; prints a Markdown table for BENCHMARKS.md.

    cargo build --release --locked
    .venv-e2e/bin/python scripts/bench.py            # ARCA_BIN defaults to target/release/arca

Every figure comes from a real server process started here with a fresh data directory; RSS is read from
/proc/<pid>/status (VmRSS when idle, VmHWM as the peak over a phase).
"""

import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
os.environ.setdefault("ARCA_BIN", str(REPO_ROOT / "target" / "release" / "arca"))

from harness import RssSampler, launch, proc_status_kib  # noqa: E402
from huaweicloudsdkcodeartsartifact.v2 import ListAllRepositoriesRequest  # noqa: E402

MIB = 1024 * 1024
rows = []


def record(what, value, note=""):
    rows.append((what, value, note))
    print("%-60s %s %s" % (what, value, note), flush=True)


def proc_status(pid, key):
    return proc_status_kib(pid, key) * 1024


BLOCK = os.urandom(MIB)


def chunks(total, size=MIB):
    block = BLOCK[:size]
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        yield block[:n]
        sent += n


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def bench_stream(srv, login, repo, size, workdir):
    """One large file up and down with curl (a Python client would be the bottleneck)."""
    source = Path(workdir) / "stream.bin"
    expected = hashlib.sha256()
    with open(source, "wb") as f:
        for c in chunks(size):
            f.write(c)
            expected.update(c)
    url = srv.url("/artifactory/%s/big/blob.bin" % repo)
    user = "%s:%s" % login
    with RssSampler(srv.proc.pid) as rss:
        start = time.monotonic()
        out = subprocess.run(["curl", "-sS", "-f", "-u", user, "-T", str(source), url], capture_output=True)
        up = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    record("upload %d MiB (curl -T, one PUT)" % (size // MIB), "%.0f MB/s" % (size / up / 1e6),
           "server peak RSS %.1f MiB" % (rss.peak / 1024))
    source.unlink()
    target = Path(workdir) / "back.bin"
    with RssSampler(srv.proc.pid) as rss:
        start = time.monotonic()
        out = subprocess.run(["curl", "-sS", "-f", "-u", user, "-o", str(target), url], capture_output=True)
        down = time.monotonic() - start
    assert out.returncode == 0, out.stderr
    got = hashlib.sha256()
    with open(target, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            got.update(block)
    target.unlink()
    assert got.hexdigest() == expected.hexdigest()
    record("download %d MiB (curl, one GET)" % (size // MIB), "%.0f MB/s" % (size / down / 1e6),
           "server peak RSS %.1f MiB" % (rss.peak / 1024))


def bench_small_files(srv, login, repo, count=2000):
    session = requests.Session()
    session.auth = login
    payload = os.urandom(4096)
    put_ms, get_ms = [], []
    for i in range(count):
        start = time.monotonic()
        r = session.put(srv.url("/artifactory/%s/small/%05d.bin" % (repo, i)), data=payload, timeout=30)
        put_ms.append((time.monotonic() - start) * 1000)
        assert r.status_code == 201
    for i in range(count):
        start = time.monotonic()
        r = session.get(srv.url("/artifactory/%s/small/%05d.bin" % (repo, i)), timeout=30)
        get_ms.append((time.monotonic() - start) * 1000)
        assert r.status_code == 200
    record("PUT 4 KiB file, %d sequential (Basic auth)" % count,
           "p50 %.2f ms, p99 %.2f ms" % (statistics.median(put_ms), percentile(put_ms, 0.99)))
    record("GET 4 KiB file, %d sequential (Basic auth)" % count,
           "p50 %.2f ms, p99 %.2f ms" % (statistics.median(get_ms), percentile(get_ms, 0.99)))


def bench_maven_metadata(srv, login, repo, versions=1000):
    session = requests.Session()
    session.auth = login
    for v in range(versions):
        path = "com/acme/big/1.%d/big-1.%d.pom" % (v, v)
        r = session.put(srv.url("/artifactory/%s/%s" % (repo, path)), data=b"<project/>", timeout=30)
        assert r.status_code == 201, r.text
    times = []
    for _ in range(50):
        start = time.monotonic()
        r = session.get(srv.url("/artifactory/%s/com/acme/big/maven-metadata.xml" % repo), timeout=30)
        times.append((time.monotonic() - start) * 1000)
        assert r.status_code == 200 and r.text.count("<version>") == versions
    record("maven-metadata.xml of an artifact with %d versions" % versions,
           "p50 %.2f ms, p99 %.2f ms" % (statistics.median(times), percentile(times, 0.99)))


def bench_list_repositories(srv, project, count=300):
    for i in range(count):
        srv.create_repo(project, "generic", "bench-list-%04d" % i)
    client = srv.artifact_client()
    times = []
    for _ in range(30):
        start = time.monotonic()
        resp = client.list_all_repositories(ListAllRepositoriesRequest(
            tenant_id=srv.domain_id, project_id=project, page_size=100, qname="bench-list"))
        times.append((time.monotonic() - start) * 1000)
        assert resp.result.total == count
    record("list_all_repositories, %d repositories, page of 100 (SDK, signed)" % count,
           "p50 %.2f ms, p99 %.2f ms" % (statistics.median(times), percentile(times, 0.99)))


def publish_many(srv, login, project, versions=2000):
    """One package with `versions` versions in each of npm, PyPI and Cargo, through their upload APIs."""
    import base64
    import json
    import struct
    npm_repo = srv.create_repo(project, "npm")
    pypi_repo = srv.create_repo(project, "pypi")
    cargo_repo = srv.create_repo(project, "cargo")
    session = requests.Session()
    session.auth = login
    cargo_auth = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % login).encode()).decode()}
    for i in range(versions):
        v = "1.0.%d" % i
        data = b"payload %d" % i
        r = session.put(srv.url("/artifactory/api/npm/%s/many" % npm_repo), json={
            "name": "many", "versions": {v: {"name": "many", "version": v, "dependencies": {"x": "^1"}}},
            "dist-tags": {"latest": v},
            "_attachments": {"many-%s.tgz" % v: {"data": base64.b64encode(data).decode(), "length": len(data)}}},
            timeout=30)
        assert r.status_code == 201, r.text
        r = session.post(srv.url("/artifactory/api/pypi/%s/" % pypi_repo), data={
            ":action": "file_upload", "name": "many", "version": v, "filetype": "sdist",
            "sha256_digest": hashlib.sha256(data).hexdigest()}, files={"content": ("many-%s.tar.gz" % v, data)},
            timeout=30)
        assert r.status_code == 200, r.text
        meta = json.dumps({"name": "many", "vers": v, "deps": [], "features": {}}).encode()
        frame = struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(data)) + data
        r = requests.put(srv.url("/artifactory/api/cargo/%s/api/v1/crates/new" % cargo_repo), data=frame,
                         headers=cargo_auth, timeout=30)
        assert r.status_code == 200, r.text
    return npm_repo, pypi_repo, cargo_repo


def bench_metadata_of_many_versions(srv, login, project, versions=2000):
    npm_repo, pypi_repo, cargo_repo = publish_many(srv, login, project, versions)
    session = requests.Session()
    session.auth = login
    cases = [
        ("npm packument, full", srv.url("/artifactory/api/npm/%s/many" % npm_repo), {},
         lambda r: len(r.json()["versions"])),
        ("npm packument, abbreviated", srv.url("/artifactory/api/npm/%s/many" % npm_repo),
         {"Accept": "application/vnd.npm.install-v1+json"}, lambda r: len(r.json()["versions"])),
        ("PyPI simple page, PEP 691 JSON", srv.url("/artifactory/api/pypi/%s/simple/many/" % pypi_repo),
         {"Accept": "application/vnd.pypi.simple.v1+json"}, lambda r: len(r.json()["files"])),
        ("PyPI simple page, PEP 503 HTML", srv.url("/artifactory/api/pypi/%s/simple/many/" % pypi_repo),
         {"Accept": "text/html"}, lambda r: r.text.count("<a href=")),
        ("Cargo sparse index file", srv.url("/artifactory/api/cargo/%s/index/ma/ny/many" % cargo_repo), {},
         lambda r: len(r.text.splitlines())),
    ]
    for what, url, headers, count in cases:
        times = []
        for _ in range(30):
            start = time.monotonic()
            r = session.get(url, headers=headers, timeout=30)
            times.append((time.monotonic() - start) * 1000)
            assert r.status_code == 200 and count(r) == versions, (what, r.status_code)
        record("%s, %d versions (%d KiB)" % (what, versions, len(r.content) // 1024),
               "p50 %.2f ms, p99 %.2f ms" % (statistics.median(times), percentile(times, 0.99)),
               "sequential, requests (gzip asked and decoded)")
    # Under load, as npm asks (brotli accepted), against a 10 KiB artifact of the same server.
    npm_url = srv.url("/artifactory/api/npm/%s/many" % npm_repo)
    coded = ("Accept: application/vnd.npm.install-v1+json", "Accept-Encoding: gzip, deflate, br")
    figure = wrk(npm_url, login, headers=coded)
    if figure:
        record("npm packument, abbreviated, %d versions, wrk c=32" % versions, figure, "brotli")
        revalidate = session.get(npm_url, headers=dict(h.split(": ", 1) for h in coded), timeout=30)
        figure = wrk(npm_url, login, headers=coded + ("If-None-Match: " + revalidate.headers["ETag"],))
        record("npm packument, abbreviated, %d versions, wrk c=32, If-None-Match" % versions, figure, "304")
        generic = srv.create_repo(project, "generic")
        assert session.put(srv.url("/artifactory/%s/ten.bin" % generic), data=os.urandom(10240),
                           timeout=30).status_code == 201
        record("10 KiB artifact, wrk c=32", wrk(srv.url("/artifactory/%s/ten.bin" % generic), login),
               "same run, for the ratio")


def timed_gets(session, url, count):
    times = []
    for _ in range(count):
        start = time.monotonic()
        r = session.get(url, timeout=30)
        times.append((time.monotonic() - start) * 1000)
        assert r.status_code == 200
    return "p50 %.2f ms, p99 %.2f ms" % (statistics.median(times), percentile(times, 0.99))


def wrk(url, login, seconds=10, headers=()):
    """Requests per second and latency from wrk (Debian's `wrk`), or None where it is not installed."""
    import base64
    import re
    import shutil
    if shutil.which("wrk") is None:
        return None
    token = base64.b64encode(("%s:%s" % login).encode()).decode()
    extra = [arg for h in headers for arg in ("-H", h)]
    out = subprocess.run(["wrk", "-t2", "-c32", "-d%ds" % seconds, "--latency", "-H",
                          "Authorization: Basic " + token, *extra, url], capture_output=True, text=True,
                         check=True)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1)
    p50 = re.search(r"^\s*50%\s+(\S+)", out.stdout, re.M).group(1)
    p99 = re.search(r"^\s*99%\s+(\S+)", out.stdout, re.M).group(1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    assert errors is None, out.stdout
    return "%.0f req/s, p50 %s, p99 %s" % (float(rate), p50, p99)


def bench_remote_and_virtual(srv, login, project, workdir, count=2000, callers=50):
    """A cached hit through a remote and through a virtual repository against the same file hosted, and the
    upstream requests that many concurrent misses of one file cause (a real static server upstream)."""
    from concurrent.futures import ThreadPoolExecutor

    from upstream_server import StaticUpstream
    upstream = StaticUpstream(Path(workdir) / "upstream")
    try:
        payload = os.urandom(4096)
        upstream.put("files/hot.bin", payload)
        hosted = srv.create_repo(project, "generic")
        empty = srv.create_repo(project, "generic")
        session = requests.Session()
        session.auth = login
        assert session.put(srv.url("/artifactory/%s/files/hot.bin" % hosted), data=payload, timeout=30).ok
        remote = "remote-bench"
        assert srv.signed("POST", "/cloudartifact/v5/artifact/", body={
            "format": "generic", "type": "remote", "repository_name": remote, "project_id": project,
            "remote_url": upstream.url, "metadata_max_age_secs": 86400}).ok
        virtual = "virtual-bench"
        assert srv.signed("POST", "/cloudartifact/v5/artifact/", body={
            "format": "generic", "type": "virtual", "repository_name": virtual, "project_id": project,
            "repository_ids": [empty, remote]}).ok
        assert session.get(srv.url("/artifactory/%s/files/hot.bin" % remote), timeout=30).content == payload
        for name, repo, note in ((hosted, hosted, "hosted"), (remote, remote, "remote, cached"),
                                 (virtual, virtual, "virtual: an empty hosted member, then the remote")):
            url = srv.url("/artifactory/%s/files/hot.bin" % repo)
            record("GET 4 KiB file, %d sequential, %s" % (count, note), timed_gets(session, url, count))
            throughput = wrk(url, login)
            if throughput:
                record("GET 4 KiB file, wrk 2 threads 32 connections 10 s, %s" % note, throughput)
        assert upstream.count("/files/hot.bin") == 1
        big = os.urandom(32 * MIB)
        upstream.put("files/big.bin", big)
        want = hashlib.sha256(big).hexdigest()

        def fetch(_):
            r = requests.get(srv.url("/artifactory/%s/files/big.bin" % remote), auth=login, timeout=120)
            return hashlib.sha256(r.content).hexdigest()

        start = time.monotonic()
        with ThreadPoolExecutor(callers) as pool:
            digests = list(pool.map(fetch, range(callers)))
        elapsed = time.monotonic() - start
        assert all(d == want for d in digests)
        record("%d concurrent GETs of one uncached 32 MiB file through a remote" % callers,
               "%d upstream request(s), all done in %.2f s" % (upstream.count("/files/big.bin"), elapsed),
               "every caller streamed the bytes as they arrived")
    finally:
        upstream.stop()


def main():
    size = int(os.environ.get("BENCH_STREAM_MIB", "1024")) * MIB
    with tempfile.TemporaryDirectory(prefix="arca-bench-") as tmp:
        srv = launch(Path(tmp), extra_args=["--remote-allow-private-networks"])
        try:
            time.sleep(0.5)
            record("idle RSS after start", "%.1f MiB" % (proc_status(srv.proc.pid, "VmRSS") / MIB))
            project = srv.create_project()
            login = srv.repo_login()
            generic = srv.create_repo(project, "generic")
            maven = srv.create_maven_repo(project)["release"]
            bench_stream(srv, login, generic, size, tmp)
            bench_small_files(srv, login, generic)
            bench_maven_metadata(srv, login, maven)
            bench_list_repositories(srv, project)
            bench_metadata_of_many_versions(srv, login, project)
            bench_remote_and_virtual(srv, login, project, tmp)
            record("RSS after the run", "%.1f MiB" % (proc_status(srv.proc.pid, "VmRSS") / MIB))
        finally:
            srv.stop()
    print("\n| what | figure | note |\n|---|---|---|")
    for what, value, note in rows:
        print("| %s | %s | %s |" % (what, value, note))


if __name__ == "__main__":
    main()
