"""Issue 3 §1: a 2 GiB artifact streams through arca — uploaded and downloaded without the server ever
holding it in memory (RSS < 100 MiB, measured here and printed in the test summary) — and the bytes that
come back hash to the bytes that went in."""

import hashlib
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import requests

from harness import FIGURES

SIZE = 2 * 1024 * 1024 * 1024
CHUNK = 1024 * 1024
RSS_LIMIT = 100 * 1024 * 1024


def rss_bytes(pid: int) -> int:
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for pid %d" % pid)


class PeakRss:
    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def generated(total: int, digest):
    """Pseudo-random bytes, generated as they are sent and hashed on the way."""
    seed = hashlib.sha512(b"arca-2GiB").digest()
    block = (seed * (CHUNK // len(seed) + 1))[:CHUNK]
    sent = 0
    counter = 0
    while sent < total:
        counter += 1
        # Vary every chunk so identical-block deduplication cannot help.
        chunk = counter.to_bytes(8, "little") + block[8:]
        chunk = chunk[: min(CHUNK, total - sent)]
        digest.update(chunk)
        sent += len(chunk)
        yield chunk


@pytest.fixture(scope="module")
def srv(module_arca):
    return module_arca


def test_two_gib_stream_through(srv):
    free = shutil.disk_usage(srv.data_dir).free
    assert free > SIZE + 1024 ** 3, "needs more than 3 GiB free under %s, has %d" % (srv.data_dir, free)
    project = srv.create_project()
    repo = srv.create_repo(project, "generic")
    login = srv.repo_login()
    url = srv.url("/artifactory/%s/big/two-gib.bin" % repo)
    pid = srv.proc.pid

    sent = hashlib.sha256()
    with PeakRss(pid) as up:
        start = time.monotonic()
        resp = requests.put(url, data=generated(SIZE, sent), auth=login, timeout=3600)
        up_s = time.monotonic() - start
    assert resp.status_code == 201, resp.text

    got = hashlib.sha256()
    received = 0
    with PeakRss(pid) as down:
        start = time.monotonic()
        with requests.get(url, auth=login, stream=True, timeout=3600) as r:
            assert r.status_code == 200
            assert int(r.headers["Content-Length"]) == SIZE
            assert r.headers["ETag"] == '"%s"' % sent.hexdigest()
            for chunk in r.iter_content(CHUNK):
                got.update(chunk)
                received += len(chunk)
        down_s = time.monotonic() - start

    FIGURES.append("2 GiB upload: %.0f MB/s, server peak RSS %.1f MiB; download: %.0f MB/s, server peak RSS %.1f MiB"
                   % (SIZE / up_s / 1e6, up.peak / 2 ** 20, SIZE / down_s / 1e6, down.peak / 2 ** 20))
    assert received == SIZE
    assert got.hexdigest() == sent.hexdigest()
    assert up.peak < RSS_LIMIT, "upload peak RSS %d bytes" % up.peak
    assert down.peak < RSS_LIMIT, "download peak RSS %d bytes" % down.peak
    # Free the disk for the rest of the suite: delete, then purge from the recycle bin.
    assert requests.delete(url, auth=login, timeout=60).status_code in (200, 204)
    purge = srv.signed("DELETE", "/cloudartifact/v5/trashes", body=[{"id": repo, "uri": "/big"}])
    assert purge.status_code == 200 and purge.json()["result"]["freedBytes"] == SIZE
