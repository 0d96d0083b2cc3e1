"""Issue 3 §8: a 2 GiB artifact streams through arca in both directions in bounded memory. The body is
generated as it is sent (chunked, never held in memory) and hashed on both sides; the server's resident
memory is sampled from /proc while it works and its peak (VmHWM, over its whole life) must stay below
100 MiB. The figures go to `harness.FIGURES`, which conftest.py prints in the terminal summary (so they
show in the CI log). Afterwards the file is deleted and purged from the recycle bin, which frees its blob."""

import hashlib
import os
import shutil
import time

import pytest
import requests

from harness import FIGURES, RssSampler, proc_status_kib

SIZE = 2 * 1024 ** 3
CHUNK = 1024 ** 2
MIN_FREE = 5 * 1024 ** 3
RSS_LIMIT_KIB = 100 * 1024


@pytest.fixture
def workdir(tmp_path):
    """The test's directory; its blobs are removed afterwards even when the test failed before purging
    (after the server stopped: fixtures tear down in reverse order), so repeated runs do not pile up
    gigabytes in pytest's kept temp directories."""
    usage = shutil.disk_usage(tmp_path)
    if usage.free < MIN_FREE:
        pytest.skip("needs 5 GiB free under %s for a 2 GiB artifact (stored blob and in-flight temp file); "
                    "%.1f GiB free" % (tmp_path, usage.free / 1024 ** 3))
    yield tmp_path
    for blobs in tmp_path.glob("arca-*/data/blobs"):
        shutil.rmtree(blobs, ignore_errors=True)


def test_two_gib_upload_and_download_in_bounded_memory(workdir, start_arca):
    srv = start_arca()
    project = srv.create_project()
    repo = srv.create_repo(project, "generic")
    login = srv.repo_login()
    url = srv.url("/artifactory/%s/big/blob-2g.bin" % repo)
    pid = srv.proc.pid
    idle_kib = proc_status_kib(pid, "VmRSS")

    seed = os.urandom(CHUNK)
    sent_sha256, sent_md5 = hashlib.sha256(), hashlib.md5()

    def body():
        for i in range(SIZE // CHUNK):
            chunk = i.to_bytes(8, "big") + seed[8:]  # every chunk differs
            sent_sha256.update(chunk)
            sent_md5.update(chunk)
            yield chunk

    t0 = time.monotonic()
    with RssSampler(pid) as up:
        put = requests.put(url, data=body(), auth=login, timeout=(10, 900))
    upload_s = time.monotonic() - t0
    assert put.status_code == 201, (put.status_code, put.text[:500])
    stored = put.json()

    t0 = time.monotonic()
    got, got_sha256 = 0, hashlib.sha256()
    with RssSampler(pid) as down:
        with requests.get(url, auth=login, stream=True, timeout=(10, 900)) as resp:
            assert resp.status_code == 200, resp.text[:500]
            length, etag = int(resp.headers["Content-Length"]), resp.headers["ETag"]
            for chunk in resp.iter_content(CHUNK):
                got += len(chunk)
                got_sha256.update(chunk)
    download_s = time.monotonic() - t0
    hwm_kib = proc_status_kib(pid, "VmHWM")

    figures = ("2 GiB artifact: upload %.1f s (%.0f MiB/s), download %.1f s (%.0f MiB/s); server RSS idle %.1f MiB, "
               "peak sampled during upload %.1f MiB, during download %.1f MiB, VmHWM %.1f MiB (limit %d MiB)"
               % (upload_s, SIZE / 1024 ** 2 / upload_s, download_s, SIZE / 1024 ** 2 / download_s,
                  idle_kib / 1024, up.peak / 1024, down.peak / 1024, hwm_kib / 1024, RSS_LIMIT_KIB // 1024))
    FIGURES.append(figures)

    assert stored["size"] == SIZE
    assert stored["checksums"]["sha256"] == sent_sha256.hexdigest()
    assert stored["checksums"]["md5"] == sent_md5.hexdigest()
    assert length == got == SIZE
    assert got_sha256.hexdigest() == sent_sha256.hexdigest()
    assert etag == '"%s"' % sent_sha256.hexdigest()
    assert up.peak > 0 and down.peak > 0
    assert max(up.peak, down.peak, hwm_kib) < RSS_LIMIT_KIB, figures
    # Nothing was left in the temporary area.
    assert list((srv.data_dir / "tmp").iterdir()) == []
    # Deleted, then purged from the recycle bin: the blob is reclaimed.
    assert requests.delete(url, auth=login, timeout=60).status_code == 204
    purge = srv.signed("DELETE", "/cloudartifact/v5/trashes", body=[{"id": repo, "uri": "/big"}])
    assert purge.status_code == 200 and purge.json()["result"]["freedBytes"] == SIZE, purge.text
    assert not any(p.is_file() for p in (srv.data_dir / "blobs").rglob("*")), "the 2 GiB blob was not removed"
