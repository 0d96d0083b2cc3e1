"""Issue 10, the standing crash test in its short mode: 3 rounds of `kill -9` during 50 concurrent uploads of
every format (scripts/crash_test.py runs 20 and more by hand). After each restart nothing acknowledged is
lost, nothing half-written is visible, and the start-up sweep leaves no orphan blob."""

import os
import random
import sys
import threading
import time
from pathlib import Path

import requests

import uploads
from harness import FIGURES

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import crash_test  # noqa: E402


def test_kill_9_during_uploads_loses_nothing_and_leaves_no_orphan(tmp_path):
    figures = crash_test.run(rounds=3, per_round=50, workdir=tmp_path, say=lambda line: None)
    assert figures.lost == 0
    assert figures.orphans_reclaimed == figures.orphans_found
    FIGURES.append(figures.summary())


def test_scheduled_sweeps_leave_uploads_in_flight_alone(start_arca):
    """Sweeps every second with no grace period while 16 clients upload, half of them the same bytes (a
    blob reused by deduplication is the one a careless sweep would delete between its storing and its
    commit): every acknowledged upload is served whole afterwards."""
    srv = start_arca(env={"ARCA_BLOB_SWEEP_INTERVAL_SECS": "1", "ARCA_BLOB_SWEEP_GRACE_SECS": "0"})
    repo = srv.create_repo(srv.create_project(), "generic")
    auth = srv.repo_login()
    shared = os.urandom(200_000)
    acknowledged, failures = {}, []
    done = threading.Event()

    def client(n):
        with requests.Session() as session:
            i = 0
            while not done.is_set():
                data = shared if n % 2 else os.urandom(random.randint(1, 300_000))
                path = "sweep/%d/%d.bin" % (n, i)
                resp = uploads.put_file(srv.base_url, repo, path, data, auth, session)
                if resp.status_code == 201:
                    acknowledged[path] = data
                else:
                    failures.append((path, resp.status_code))
                i += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    # Upload until two scheduled sweeps (besides the one at start) have run amid the uploads.
    give_up = time.monotonic() + 120
    while srv.log_tail(100000).count("blob sweep finished") < 3 and time.monotonic() < give_up:
        time.sleep(0.2)
    done.set()
    for t in threads:
        t.join()
    assert srv.log_tail(100000).count("blob sweep finished") >= 3
    assert not failures, failures[:5]
    with requests.Session() as session:
        for path, data in acknowledged.items():
            assert uploads.served_file(srv.base_url, repo, path, auth, session) == data, path
    FIGURES.append("scheduled sweeps every 1 s during 16 concurrent uploaders: %d uploads acknowledged, all served "
                   "whole" % len(acknowledged))
