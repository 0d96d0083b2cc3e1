#!/usr/bin/env python3
"""The crash test (issue 10): rounds of `kill -9` during concurrent uploads of every format.

Each round starts arca on the same data directory, sends UPLOADS concurrent uploads (generic, Maven,
PyPI, npm, Cargo: the requests their clients send, each to a coordinate of its own and of random size)
while a few earlier generic files are deleted for good (to the recycle bin, then purged: their blobs are
reclaimed), kills the server with SIGKILL while they are in flight, counts what the crash left in the blob store
(bytes no database row records, rows no file references), and restarts it. After every restart:

- the server starts;
- every upload ever acknowledged (2xx) and not purged is served with its exact bytes, and its index entry (PyPI simple
  index, npm packument, Cargo index) describes those bytes;
- nothing half-written is visible: an upload cut off by the kill is either absent everywhere or complete
  and consistent everywhere (its commit landed, only the answer was lost); a purged file is gone, and one
  whose purge was cut off is either gone or whole;
- every blob row has its bytes on disk under its own digest, and once the start-up sweep has run no blob
  without a row and no row without a file remains; what the crash left in tmp/ is gone,
  and what the new server writes there (a security scan's copy of a file on S3) goes away on its own.

    scripts/crash_test.py                 # 20 rounds, the figures RELIABILITY.md records
    scripts/crash_test.py --rounds 3      # what the e2e suite runs (tests/e2e/test_crash.py)

Environment: ARCA_BIN (default target/debug/arca), as for the e2e suite. Needs the e2e virtualenv
(.venv-e2e: requests and the SDKs harness.py imports).
"""

import argparse
import hashlib
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Optional

E2E = Path(__file__).resolve().parents[1] / "tests" / "e2e"
sys.path.insert(0, str(E2E))

import requests  # noqa: E402

import uploads  # noqa: E402
from harness import launch, sql_rows  # noqa: E402

FORMATS = ("generic", "maven", "pypi", "npm", "cargo")
SWEEP_WAIT_S = 30
KILL_WAIT_S = 30
TMP_DRAIN_S = 15
PURGES_PER_ROUND = 5
SWEEP_LINE = re.compile(r"blob sweep finished.*?orphans=(\d+) orphan_bytes=(\d+) unreferenced=(\d+)")


@dataclass
class Upload:
    fmt: str
    coordinate: str  # path, or version
    data: bytes
    summary: str = ""
    status: Optional[int] = None
    error: str = ""
    # "cut": a purge was sent and its answer lost to the kill; "done": purged
    purged: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class Figures:
    rounds: int = 0
    uploads: int = 0
    acknowledged: int = 0
    cut_off: int = 0
    cut_off_committed: int = 0
    acknowledged_bytes: int = 0
    lost: int = 0
    orphans_found: int = 0
    orphan_bytes_found: int = 0
    unreferenced_found: int = 0
    unreferenced_reclaimed: int = 0
    purges: int = 0
    purges_done: int = 0
    orphans_reclaimed: int = 0
    orphan_bytes_reclaimed: int = 0
    per_round: list = field(default_factory=list)

    def summary(self) -> str:
        return ("crash test: %d rounds of kill -9 during %d concurrent uploads: %d uploads, %d acknowledged "
                "(%.1f MiB), lost %d; %d cut off (%d of them committed, consistent); %d purges of earlier files sent amid "
                "them (%d answered before the kill); "
                "orphans found after the kills %d blobs (%.1f MiB) + %d unreferenced rows, reclaimed by the "
                "start-up sweeps %d blobs (%.1f MiB) + %d rows; none left" % (
                    self.rounds, self.uploads // max(self.rounds, 1), self.uploads, self.acknowledged,
                    self.acknowledged_bytes / 2**20, self.lost, self.cut_off, self.cut_off_committed, self.purges,
                    self.purges_done,
                    self.orphans_found, self.orphan_bytes_found / 2**20, self.unreferenced_found,
                    self.orphans_reclaimed, self.orphan_bytes_reclaimed / 2**20, self.unreferenced_reclaimed))


class World:
    """One data directory, restarted by each round, and the repositories the uploads go to."""

    def __init__(self, workdir: Path, env: dict):
        self.workdir, self.env = workdir, env
        self.server = None
        self.start()
        srv = self.server
        project = srv.create_project()
        self.repos = {"generic": srv.create_repo(project, "generic"),
                      "maven": srv.create_maven_repo(project)["release"],
                      "pypi": srv.create_repo(project, "pypi"), "npm": srv.create_repo(project, "npm"),
                      "cargo": srv.create_repo(project, "cargo")}
        self.auth = srv.repo_login()

    def start(self) -> int:
        """Starts arca; answers the log offset where this run's lines begin."""
        log = self.workdir / "arca.log"
        offset = log.stat().st_size if log.exists() else 0
        self.server = launch(self.workdir, env=self.env)
        return offset

    @property
    def base(self) -> str:
        return self.server.base_url

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    def kill(self):
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()

    def wait_for_sweep(self, offset: int):
        """The start-up sweep's figures from this run's log: (orphans, orphan bytes, unreferenced rows);
        None when no sweep reported within SWEEP_WAIT_S (the store checks that follow then say why)."""
        deadline = time.monotonic() + SWEEP_WAIT_S
        while time.monotonic() < deadline:
            with open(self.server.log_path, "rb") as f:
                f.seek(offset)
                m = SWEEP_LINE.search(f.read().decode("utf-8", errors="replace"))
            if m:
                return tuple(int(g) for g in m.groups())
            time.sleep(0.1)
        return None


# -- uploads -------------------------------------------------------------------------------------------

def make_upload(fmt: str, round_no: int, i: int, rng: random.Random) -> Upload:
    size = rng.choice((rng.randint(1, 16 << 10), rng.randint(16 << 10, 256 << 10), rng.randint(256 << 10, 2 << 20)))
    data = os.urandom(size)
    version = "%d.%d.0" % (round_no, i)
    if fmt == "generic":
        return Upload(fmt, "crash/r%d/file-%d.bin" % (round_no, i), data)
    if fmt == "maven":
        v = "%d.%d" % (round_no, i)
        return Upload(fmt, "com/acme/crash/%s/crash-%s.jar" % (v, v), data)
    if fmt == "pypi":
        summary = "round %d upload %d" % (round_no, i)
        return Upload(fmt, version, uploads.wheel("crashpkg", version, summary, data), summary)
    return Upload(fmt, version, data)


def send(world: World, up: Upload, session: requests.Session) -> requests.Response:
    base, repo, auth = world.base, world.repos[up.fmt], world.auth
    if up.fmt in ("generic", "maven"):
        return uploads.put_file(base, repo, up.coordinate, up.data, auth, session)
    if up.fmt == "pypi":
        return uploads.pypi_upload(base, repo, "crashpkg", up.coordinate, up.data, auth, session)
    if up.fmt == "npm":
        return uploads.npm_publish(base, repo, "crash-pkg", up.coordinate, up.data, auth, session)
    return uploads.cargo_publish(base, repo, "crash_crate", up.coordinate, up.data, auth, session)


def purge(world: World, up: Upload):
    """Deletes a generic file for good, as the management API's clients do: to the bin, then purged."""
    repo = world.repos["generic"]
    trashed = world.server.signed("DELETE", "/cloudartifact/v5/file", body={"path": "/%s/%s" % (repo, up.coordinate)})
    assert trashed.status_code == 200, trashed.text
    purged = world.server.signed("DELETE", "/cloudartifact/v5/trashes", body=[{"id": repo, "uri": "/" + up.coordinate}])
    assert purged.status_code == 200 and purged.json()["result"]["successNum"] == 1, purged.text


def served(world: World, up: Upload, session: requests.Session):
    """What the server shows of this upload now: None when nothing, True when all of it, consistently;
    anything else is a description of what is wrong."""
    base, repo, auth = world.base, world.repos[up.fmt], world.auth
    sha256 = hashlib.sha256(up.data).hexdigest()
    if up.fmt in ("generic", "maven"):
        body = uploads.served_file(base, repo, up.coordinate, auth, session)
        if body is None:
            return None
        return True if body == up.data else "served %d other bytes" % len(body)
    if up.fmt == "pypi":
        dist, listed, meta = uploads.served_pypi(base, repo, "crashpkg", up.coordinate, auth, session)
        if dist is None and listed is None and meta is None:
            return None
        expected_meta = uploads.wheel_metadata("crashpkg", up.coordinate, up.summary).encode()
        if dist == up.data and listed == sha256 and meta == expected_meta:
            return True
        return "partial: file %s, index %s, metadata %s" % (dist == up.data, listed == sha256, meta == expected_meta)
    if up.fmt == "npm":
        tarball, shasum = uploads.served_npm(base, repo, "crash-pkg", up.coordinate, auth, session)
        if tarball is None and shasum is None:
            return None
        if tarball == up.data and shasum == hashlib.sha1(up.data).hexdigest():
            return True
        return "partial: tarball %s, packument %s" % (tarball == up.data, shasum)
    crate, cksum = uploads.served_cargo(base, repo, "crash_crate", up.coordinate, auth, session)
    if crate is None and cksum is None:
        return None
    if crate == up.data and cksum == sha256:
        return True
    return "partial: crate %s, index %s" % (crate == up.data, cksum)


def upload_all(world: World, batch, purges, rng: random.Random):
    """Sends the batch and the purges at once and kills the server while they are in flight: once a
    random share of the uploads (none to four fifths) has been acknowledged."""
    barrier = threading.Barrier(len(batch) + len(purges) + 1)
    answered = threading.Semaphore(0)
    failures = []

    def run(up: Upload):
        with requests.Session() as session:
            barrier.wait()
            try:
                up.status = send(world, up, session).status_code
            except requests.RequestException as e:
                up.error = type(e).__name__
            answered.release()

    def run_purge(up: Upload):
        barrier.wait()
        up.purged = "cut"
        try:
            purge(world, up)
            up.purged = "done"
        except requests.RequestException:
            pass
        except AssertionError as e:
            failures.append(str(e))

    threads = [threading.Thread(target=run, args=(up,)) for up in batch]
    threads += [threading.Thread(target=run_purge, args=(up,)) for up in purges]
    for t in threads:
        t.start()
    barrier.wait()
    for _ in range(rng.randint(0, len(batch) * 4 // 5)):
        if not answered.acquire(timeout=KILL_WAIT_S):
            break
    world.kill()
    for t in threads:
        t.join()
    assert not failures, "purges refused: %s" % failures[:3]


# -- the blob store against the database ---------------------------------------------------------------

def store_state(data_dir: Path):
    """(blobs on disk {sha: size}, blob rows {sha: size}, rows no file references)."""
    on_disk = {p.name: p.stat().st_size for p in (data_dir / "blobs").rglob("*") if p.is_file()}
    server = SimpleNamespace(data_dir=data_dir)
    rows = dict(sql_rows(server, "SELECT sha256, size FROM blobs"))
    unreferenced = {r[0] for r in sql_rows(
        server, "SELECT sha256 FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256)")}
    return on_disk, rows, unreferenced


def check_recorded_blobs_whole(data_dir: Path, rows: dict):
    """Every recorded blob is on disk, whole, under its own digest."""
    for sha, size in rows.items():
        path = data_dir / "blobs" / sha[:2] / sha[2:4] / sha
        assert path.is_file(), "recorded blob %s is missing from disk" % sha
        data = path.read_bytes()
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha, "recorded blob %s is damaged" % sha


def temporary_files(data_dir: Path):
    tmp = data_dir / "tmp"
    return [p.name for p in tmp.iterdir()] if tmp.is_dir() else []


def check_temporary_files_cleared(data_dir: Path, left_by_crash: set):
    """What the crash left in tmp/ is gone once the server has started. The new server writes there too
    while it works (on S3, the security scan of the last round's uploads copies each file to tmp/ and
    removes the copy when done), so files newer than the start must only go away on their own."""
    survivors = left_by_crash & set(temporary_files(data_dir))
    assert not survivors, "tmp/ still holds %d files the crash left after the start" % len(survivors)
    deadline = time.monotonic() + TMP_DRAIN_S
    while (current := temporary_files(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not current, "tmp/ holds %d files %d s after the checks" % (len(current), TMP_DRAIN_S)


# -- the rounds ----------------------------------------------------------------------------------------

def run(rounds: int, per_round: int, workdir: Path, seed: Optional[int] = None, say=print) -> Figures:
    rng = random.Random(seed)
    env = {"ARCA_BLOB_SWEEP_GRACE_SECS": "0", "ARCA_LOG": "info"}
    world = World(workdir, env)
    figures = Figures()
    history = []
    try:
        for round_no in range(1, rounds + 1):
            batch = [make_upload(FORMATS[i % len(FORMATS)], round_no, i, rng) for i in range(per_round)]
            candidates = [u for u in history if u.fmt == "generic" and u.acknowledged and not u.purged]
            purges = rng.sample(candidates, min(PURGES_PER_ROUND, len(candidates)))
            upload_all(world, batch, purges, rng)
            refused = [u for u in batch if u.status is not None and not u.acknowledged]
            assert not refused, "uploads refused: %s" % [(u.fmt, u.status) for u in refused]
            history.extend(batch)

            on_disk, rows, unreferenced = store_state(world.data_dir)
            orphans = set(on_disk) - set(rows)
            found = (len(orphans), sum(on_disk[s] for s in orphans), len(unreferenced))
            left_by_crash = set(temporary_files(world.data_dir))
            offset = world.start()
            reclaimed = world.wait_for_sweep(offset) or (0, 0, 0)

            lost, cut_off_committed, this_round = [], 0, {id(u) for u in batch}
            with requests.Session() as session:
                for up in history:
                    shown = served(world, up, session)
                    if up.purged == "done" and shown is not None:
                        raise AssertionError("purged file still served: %s: %s" % (up.coordinate, shown))
                    elif up.purged == "cut" and shown not in (None, True):
                        raise AssertionError("file whose purge was cut off: %s: %s" % (up.coordinate, shown))
                    elif up.purged:
                        continue
                    elif up.acknowledged and shown is not True:
                        lost.append((up.fmt, up.coordinate, shown))
                    elif not up.acknowledged and shown not in (None, True):
                        raise AssertionError("half-written upload visible: %s %s: %s" % (up.fmt, up.coordinate, shown))
                    elif not up.acknowledged and shown is True and id(up) in this_round:
                        cut_off_committed += 1
            assert not lost, "acknowledged uploads lost: %s" % lost[:10]

            on_disk, rows, unreferenced = store_state(world.data_dir)
            check_recorded_blobs_whole(world.data_dir, rows)
            assert set(on_disk) == set(rows), "after the sweep: %d blobs without a row, %d rows without bytes" % (
                len(set(on_disk) - set(rows)), len(set(rows) - set(on_disk)))
            assert not unreferenced, "after the sweep: %d blob rows no file references" % len(unreferenced)
            assert reclaimed == found, "found %s orphans, the sweep reported %s" % (found, reclaimed)
            check_temporary_files_cleared(world.data_dir, left_by_crash)

            acked = [u for u in batch if u.acknowledged]
            figures.rounds += 1
            figures.uploads += len(batch)
            figures.acknowledged += len(acked)
            figures.acknowledged_bytes += sum(len(u.data) for u in acked)
            figures.cut_off += len(batch) - len(acked)
            figures.cut_off_committed += cut_off_committed
            figures.orphans_found += found[0]
            figures.orphan_bytes_found += found[1]
            figures.unreferenced_found += found[2]
            figures.purges += len(purges)
            figures.purges_done += sum(1 for u in purges if u.purged == "done")
            figures.unreferenced_reclaimed += reclaimed[2]
            figures.orphans_reclaimed += reclaimed[0]
            figures.orphan_bytes_reclaimed += reclaimed[1]
            figures.per_round.append((round_no, len(acked), len(batch) - len(acked), found[0], found[1]))
            say("round %d: %d/%d acknowledged, %d cut off (%d committed), %d/%d purges done, orphans %d "
                "(%d bytes), unreferenced rows %d, reclaimed %d + %d; %d uploads re-checked" % (
                    round_no, len(acked), len(batch), len(batch) - len(acked), cut_off_committed,
                    sum(1 for u in purges if u.purged == "done"), len(purges), found[0], found[1], found[2],
                    reclaimed[0], reclaimed[2], len(history)))
    finally:
        code = world.server.stop()
    assert code == 0, "arca did not stop gracefully after the last round (exit %s)" % code
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--uploads", type=int, default=50, help="concurrent uploads per round")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None, help="kept afterwards (default: a temporary one)")
    args = parser.parse_args()
    if args.workdir:
        figures = run(args.rounds, args.uploads, args.workdir, args.seed)
    else:
        with tempfile.TemporaryDirectory(prefix="arca-crash-") as tmp:
            figures = run(args.rounds, args.uploads, Path(tmp), args.seed)
    print(figures.summary())


if __name__ == "__main__":
    main()
