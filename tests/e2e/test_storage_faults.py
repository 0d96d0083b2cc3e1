"""Issue 10 §7: a full or read-only data directory, on real filesystems mounted for the test.

A full disk answers 507 `ARCA.00000011` and a read-only one 503 `ARCA.00000012`, each with a message a person
can act on; never a 500. Reads keep working throughout, nothing half-written becomes visible, and writes
work again once space is freed. A server started on a read-only directory starts and serves reads.

Needs root (mount); skipped with the reason when mounting is not permitted. tmpfs cannot be remounted
read-only under a running server (the kernel answers EBUSY while SQLite holds its files open for writing),
so the "goes read-only while running" case uses what happens in production: an ext4 volume that the kernel
turns read-only after an error (`errors=remount-ro`, triggered through `/sys/fs/ext4/<dev>/trigger_fs_error`).
"""

import errno
import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from harness import PG_ADMIN_URL, assert_error, blobs_on_s3, unique

FULL_CODE = "ARCA.00000011"
READ_ONLY_CODE = "ARCA.00000012"
CHUNK = 2 * 1024 * 1024


def _run(*cmd):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=60)


class Mounts:
    """Filesystems mounted for one test, unmounted when it ends (after its servers stopped)."""

    def __init__(self):
        self.points = []

    def _mount(self, point: Path, *args):
        point.mkdir(parents=True, exist_ok=True)
        if os.geteuid() != 0:
            pytest.skip("mounting filesystems needs root")
        out = _run("mount", *args, str(point))
        if out.returncode != 0:
            pytest.skip("mounting is not permitted here: %s" % out.stderr.strip())
        self.points.append(point)
        return point

    def tmpfs(self, point: Path, size: str) -> Path:
        return self._mount(point, "-t", "tmpfs", "-o", "size=%s,mode=0755" % size, "tmpfs")

    def ext4(self, point: Path, image: Path, size_mib: int) -> Path:
        if not shutil.which("mkfs.ext4"):
            pytest.skip("mkfs.ext4 is not installed")
        with open(image, "wb") as f:
            f.truncate(size_mib * 1024 * 1024)
        made = _run("mkfs.ext4", "-q", "-F", str(image))
        assert made.returncode == 0, made.stderr
        return self._mount(point, "-o", "loop,errors=remount-ro", str(image))

    def unmount_all(self):
        for point in reversed(self.points):
            _run("umount", "-l", str(point))


@pytest.fixture
def mounts():
    m = Mounts()
    yield m
    m.unmount_all()


def remount(point: Path, mode: str):
    out = _run("mount", "-o", "remount,%s" % mode, str(point))
    assert out.returncode == 0, out.stderr


def trigger_ext4_error(point: Path):
    """Makes the kernel turn the ext4 volume at `point` read-only, open files and all."""
    device = next(line.split()[0] for line in Path("/proc/mounts").read_text().splitlines()
                  if line.split()[1] == str(point))
    trigger = Path("/sys/fs/ext4") / Path(device).name / "trigger_fs_error"
    if not trigger.exists():
        pytest.skip("this kernel has no %s" % trigger)
    trigger.write_text("arca e2e: simulated disk error\n")
    flags = next(line.split()[3] for line in Path("/proc/mounts").read_text().splitlines()
                 if line.split()[1] == str(point))
    # Recent kernels mark it `emergency_ro` and leave `rw` in the mount flags; writes fail with EROFS either way.
    assert {"ro", "emergency_ro"} & set(flags.split(",")), flags


def fill(path: Path):
    """Writes `path` until the filesystem has no space left."""
    block = b"\0" * (256 * 1024)
    try:
        # Uploads may already have filled it to the last block, so that even creating the file fails.
        with open(path, "wb") as f:
            while True:
                f.write(block)
                f.flush()
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
    # Whatever the last partial write left is freed with the file; the filesystem stays full meanwhile.


def assert_storage_error(resp, status, code, words):
    body = assert_error(resp, status, re.escape(code))
    msg = body["error_msg"]
    assert any(w in msg.lower() for w in words), msg
    assert "/" not in msg, "the message shows a server path: %s" % msg
    return body


def assert_full(resp):
    return assert_storage_error(resp, 507, FULL_CODE, ("full",))


def assert_read_only(resp):
    return assert_storage_error(resp, 503, READ_ONLY_CODE, ("read-only",))


def create_repo(srv, project):
    return srv.signed("POST", "/cloudartifact/v5/artifact/", body={
        "format": "generic", "type": "hosted", "repository_name": unique("gen"), "project_id": project})


def list_repos(srv, project):
    return srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, project),
                      query={"is_need_paging": "false"})


def blob_names(data_dir: Path):
    return {p.name for p in (data_dir / "blobs").rglob("*") if p.is_file()}


def no_internal_errors(srv, offset=0):
    log = srv.log_since(offset, lines=100000)
    assert "internal error" not in log, log[-3000:]


class Files:
    """Uploads to one generic repository and what was acknowledged."""

    def __init__(self, srv, repo, login):
        self.srv, self.repo, self.login, self.acked = srv, repo, login, {}

    def url(self, name):
        return self.srv.url("/artifactory/%s/%s" % (self.repo, name))

    def put(self, name, data):
        resp = requests.put(self.url(name), data=data, auth=self.login, timeout=60)
        if resp.status_code == 201:
            self.acked[name] = hashlib.sha256(data).hexdigest()
        return resp

    def assert_readable(self):
        for name, sha in self.acked.items():
            resp = requests.get(self.url(name), auth=self.login, timeout=60)
            assert resp.status_code == 200, (name, resp.status_code, resp.text[:300])
            assert hashlib.sha256(resp.content).hexdigest() == sha, name


@pytest.mark.skipif(blobs_on_s3(), reason="with ARCA_TEST_BLOBS=s3 uploads do not fill the data directory's "
                    "volume; the S3 store's own faults are test_s3_blobs.py's")
def test_disk_full_answers_507_reads_keep_working_and_writes_resume(mounts, start_arca, tmp_path):
    data = mounts.tmpfs(tmp_path / "data", "24m")
    srv = start_arca(data_dir=data)
    project = srv.create_project()
    repo = srv.create_repo(project, "generic")
    files = Files(srv, repo, srv.repo_login())

    # Uploads until the disk is full: each is acknowledged or refused with 507, never a 500.
    refused = None
    for i in range(24):
        resp = files.put("fill/%d.bin" % i, os.urandom(CHUNK))
        if resp.status_code != 201:
            refused = ("fill/%d.bin" % i, resp)
            break
    assert refused, "24 uploads of 2 MiB fitted on a 24 MiB volume"
    name, resp = refused
    assert_full(resp)
    assert len(files.acked) >= 3, files.acked
    # Nothing half-written: the refused file does not exist, no temporary file stayed, no blob but the
    # acknowledged ones.
    assert requests.get(files.url(name), auth=files.login, timeout=60).status_code == 404
    assert os.listdir(data / "tmp") == []
    assert blob_names(data) == set(files.acked.values())
    files.assert_readable()

    # The volume filled from outside: now the database write is what fails.
    fill(data / "filler")
    outcomes = []
    for _ in range(40):
        resp = create_repo(srv, project)
        outcomes.append(resp.status_code)
        if resp.status_code != 200:
            break
    assert outcomes[-1] == 507, outcomes
    assert_full(resp)
    token = srv.request("POST", "/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": srv.root.name, "password": srv.root.password, "domain": {"name": srv.domain_name}}}},
        "scope": {"domain": {"name": srv.domain_name}}}})
    assert_full(token)
    assert_full(files.put("while-full.bin", os.urandom(64 * 1024)))
    # Reads keep working while the disk is full.
    files.assert_readable()
    listed = list_repos(srv, project)
    assert listed.status_code == 200, listed.text
    assert any(r["name"] == repo for r in listed.json()["result"]["repositories"]), listed.text

    # Space freed (what the filler took, less than one upload of the loop): uploads and database writes
    # work again.
    (data / "filler").unlink()
    assert files.put("after.bin", os.urandom(128 * 1024)).status_code == 201
    resp = create_repo(srv, project)
    assert resp.status_code == 200, resp.text
    files.assert_readable()
    assert os.listdir(data / "tmp") == []
    no_internal_errors(srv)


@pytest.mark.skipif(bool(PG_ADMIN_URL), reason="with ARCA_TEST_DB=pg the metadata is not in the data directory, so "
                    "its volume turning read-only leaves writes possible; an unreachable database is "
                    "test_cluster.py's")
def test_read_only_data_directory_at_start_serves_reads_and_refuses_writes(mounts, start_arca, tmp_path):
    data = mounts.tmpfs(tmp_path / "data", "32m")
    first = start_arca(data_dir=data)
    project = first.create_project()
    repo = first.create_repo(project, "generic")
    files = Files(first, repo, first.repo_login())
    assert files.put("kept.bin", os.urandom(300_000)).status_code == 201
    assert first.stop() == 0

    remount(data, "ro")
    assert not (data / "arca.db-shm").exists(), "a clean stop leaves no write-ahead log: %s" % os.listdir(data)
    srv = start_arca(data_dir=data)
    files.srv = srv
    assert "read-only" in srv.log_tail(), srv.log_tail()
    assert srv.get("/health").status_code == 200
    files.assert_readable()
    listed = list_repos(srv, project)
    assert listed.status_code == 200, listed.text
    assert any(r["name"] == repo for r in listed.json()["result"]["repositories"]), listed.text

    assert_read_only(files.put("refused.bin", os.urandom(300_000)))
    assert_read_only(create_repo(srv, project))
    assert requests.get(files.url("refused.bin"), auth=files.login, timeout=60).status_code == 404
    no_internal_errors(srv)

    # Writable again after a restart.
    assert srv.stop() == 0
    remount(data, "rw")
    again = start_arca(data_dir=data)
    files.srv = again
    assert files.put("later.bin", os.urandom(1000)).status_code == 201
    files.assert_readable()


@pytest.mark.skipif(bool(PG_ADMIN_URL), reason="with ARCA_TEST_DB=pg the metadata is not in the data directory, so "
                    "its volume turning read-only leaves writes possible; an unreachable database is "
                    "test_cluster.py's")
def test_volume_turning_read_only_under_a_running_server(mounts, start_arca, tmp_path):
    data = mounts.ext4(tmp_path / "data", tmp_path / "volume.img", 64)
    srv = start_arca(data_dir=data)
    project = srv.create_project()
    repo = srv.create_repo(project, "generic")
    files = Files(srv, repo, srv.repo_login())
    assert files.put("before.bin", os.urandom(300_000)).status_code == 201

    trigger_ext4_error(data)
    assert_read_only(files.put("refused.bin", os.urandom(300_000)))
    assert_read_only(create_repo(srv, project))
    files.assert_readable()
    assert list_repos(srv, project).status_code == 200
    no_internal_errors(srv)

    # Restarted on the volume that stayed read-only (its write-ahead log still there): starts, and serves
    # what was written before.
    srv.stop()
    assert (data / "arca.db-wal").exists() and (data / "arca.db-shm").exists(), os.listdir(data)
    again = start_arca(data_dir=data)
    files.srv = again
    assert "read-only" in again.log_tail(), again.log_tail()
    files.assert_readable()
    listed = list_repos(again, project)
    assert listed.status_code == 200 and any(r["name"] == repo for r in listed.json()["result"]["repositories"]), listed.text
    assert_read_only(files.put("refused-again.bin", b"x" * 1000))
    no_internal_errors(again)
