"""Issue 10 §3: concurrent uploads to one coordinate. 16 clients, each with its own bytes, released at once
by a barrier, several trials per format:

- immutable coordinates (a Maven release repository, a generic repository with `disable_redeploy`, a PyPI
  file name, an npm version, a Cargo version): exactly one upload is acknowledged, every other one gets the
  format's refusal, the served bytes (and the checksums and index entries describing them) are the
  winner's, and no loser's bytes stay in the blob store;
- overwritable coordinates (a Maven SNAPSHOT repository, a generic repository allowing redeploys): every
  upload is acknowledged with its own checksums, and what is served afterwards is one acknowledged upload,
  its bytes and its checksums together.
"""

import hashlib
import os
import threading

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import UpdateArtifactoryRequest, UpdateNotMavenRepoDO

import uploads
from harness import unique

CLIENTS = 16
TRIALS = 6
SIZE = 96 * 1024


@pytest.fixture(scope="module")
def ctx(srv, project, login):
    disabled = srv.create_repo(project, "generic")
    srv.artifact_client().update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=disabled, deployment_policy="disable_redeploy")))
    return {"maven": srv.create_maven_repo(project), "disabled": disabled,
            "generic": srv.create_repo(project, "generic"), "pypi": srv.create_repo(project, "pypi"),
            "npm": srv.create_repo(project, "npm"), "cargo": srv.create_repo(project, "cargo"),
            "login": login}


def race(upload, payloads):
    """Runs `upload(payload)` for every payload in its own thread, all released together; answers the
    responses in payload order."""
    barrier = threading.Barrier(len(payloads))
    results = [None] * len(payloads)

    def run(i):
        with requests.Session() as session:
            barrier.wait()
            results[i] = upload(payloads[i], session)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def stored_blobs(srv) -> set:
    return {p.name for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()}


def one_winner(label, responses, refusal_status, refusal_text):
    """The index of the one acknowledged upload; every other one refused as the format's client expects."""
    winners = [i for i, r in enumerate(responses) if 200 <= r.status_code < 300]
    assert len(winners) == 1, "%s: %d uploads acknowledged: %s" % (
        label, len(winners), sorted(r.status_code for r in responses))
    for i, r in enumerate(responses):
        if i != winners[0]:
            assert r.status_code == refusal_status, (label, r.status_code, r.text[:300])
            assert refusal_text in r.text, (label, r.text[:300])
    return winners[0]


def losers_reclaimed(srv, label, payload_digests, winner):
    blobs = stored_blobs(srv)
    left = [d for i, d in enumerate(payload_digests) if i != winner and d in blobs]
    assert not left, "%s: %d refused uploads left their bytes in the blob store" % (label, len(left))
    assert payload_digests[winner] in blobs


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("kind", ["maven-release", "generic-disable-redeploy"])
def test_hosted_immutable_paths_have_one_winner(srv, ctx, kind):
    auth = ctx["login"]
    repo = ctx["maven"]["release"] if kind == "maven-release" else ctx["disabled"]
    for trial in range(TRIALS):
        version = "1.%d" % trial
        path = "com/acme/race/%s/race-%s.jar" % (version, version)
        payloads = [os.urandom(SIZE) for _ in range(CLIENTS)]
        responses = race(lambda data, s: uploads.put_file(srv.base_url, repo, path, data, auth, s), payloads)
        label = "%s trial %d" % (kind, trial)
        winner = one_winner(label, responses, 409, "does not allow redeployment")
        assert responses[winner].status_code == 201
        assert responses[winner].json()["checksums"]["sha256"] == sha256(payloads[winner])
        assert uploads.served_file(srv.base_url, repo, path, auth) == payloads[winner], label
        if kind == "maven-release":
            served_sha1 = uploads.served_file(srv.base_url, repo, path + ".sha1", auth)
            assert served_sha1 == hashlib.sha1(payloads[winner]).hexdigest().encode(), label
        losers_reclaimed(srv, label, [sha256(p) for p in payloads], winner)


def test_pypi_file_name_has_one_winner(srv, ctx):
    auth, repo = ctx["login"], ctx["pypi"]
    for trial in range(TRIALS):
        name, version = "racepkg", "1.0.%d" % trial
        summaries = ["client %d %s" % (i, unique("s")) for i in range(CLIENTS)]
        payloads = [uploads.wheel(name, version, s, os.urandom(SIZE)) for s in summaries]
        responses = race(lambda data, s: uploads.pypi_upload(srv.base_url, repo, name, version, data, auth, s),
                         payloads)
        label = "pypi trial %d" % trial
        winner = one_winner(label, responses, 400, "File already exists")
        dist, listed, metadata = uploads.served_pypi(srv.base_url, repo, name, version, auth)
        assert dist == payloads[winner], label
        assert listed == sha256(payloads[winner]), label
        assert metadata == uploads.wheel_metadata(name, version, summaries[winner]).encode(), label
        losers_reclaimed(srv, label, [sha256(p) for p in payloads], winner)


def test_npm_version_has_one_winner(srv, ctx):
    auth, repo = ctx["login"], ctx["npm"]
    for trial in range(TRIALS):
        name, version = "race-pkg", "1.0.%d" % trial
        payloads = [os.urandom(SIZE) for _ in range(CLIENTS)]
        responses = race(lambda data, s: uploads.npm_publish(srv.base_url, repo, name, version, data, auth, s),
                         payloads)
        label = "npm trial %d" % trial
        winner = one_winner(label, responses, 403, "previously published")
        tarball, shasum = uploads.served_npm(srv.base_url, repo, name, version, auth)
        assert tarball == payloads[winner], label
        assert shasum == hashlib.sha1(payloads[winner]).hexdigest(), label
        losers_reclaimed(srv, label, [sha256(p) for p in payloads], winner)


def test_cargo_version_has_one_winner(srv, ctx):
    auth, repo = ctx["login"], ctx["cargo"]
    for trial in range(TRIALS):
        name, vers = "race_crate", "1.0.%d" % trial
        payloads = [os.urandom(SIZE) for _ in range(CLIENTS)]
        responses = race(lambda data, s: uploads.cargo_publish(srv.base_url, repo, name, vers, data, auth, s),
                         payloads)
        label = "cargo trial %d" % trial
        winner = one_winner(label, responses, 400, "already uploaded")
        crate, cksum = uploads.served_cargo(srv.base_url, repo, name, vers, auth)
        assert crate == payloads[winner], label
        assert cksum == sha256(payloads[winner]), label
        losers_reclaimed(srv, label, [sha256(p) for p in payloads], winner)


@pytest.mark.parametrize("kind", ["maven-snapshot", "generic-allow-redeploy"])
def test_overwritable_paths_serve_one_acknowledged_upload(srv, ctx, kind):
    auth = ctx["login"]
    repo = ctx["maven"]["snapshot"] if kind == "maven-snapshot" else ctx["generic"]
    for trial in range(TRIALS):
        path = "com/acme/race/1.%d-SNAPSHOT/race-1.%d-SNAPSHOT.jar" % (trial, trial)
        payloads = [os.urandom(SIZE) for _ in range(CLIENTS)]
        responses = race(lambda data, s: uploads.put_file(srv.base_url, repo, path, data, auth, s), payloads)
        label = "%s trial %d" % (kind, trial)
        for data, r in zip(payloads, responses):
            assert r.status_code in (200, 201), (label, r.status_code, r.text[:300])
            # Each answer describes the bytes that request stored, not a concurrent writer's.
            assert r.json()["checksums"]["sha256"] == sha256(data), label
            assert r.json()["checksums"]["sha1"] == hashlib.sha1(data).hexdigest(), label
        assert sorted(r.status_code for r in responses).count(201) == 1, label
        served = uploads.served_file(srv.base_url, repo, path, auth)
        assert served in payloads, label
        for algorithm in ("sha1", "sha256"):
            digest = uploads.served_file(srv.base_url, repo, path + "." + algorithm, auth)
            assert digest == hashlib.new(algorithm, served).hexdigest().encode(), label
        # The replaced uploads' bytes are reclaimed; only the served one stays.
        blobs = stored_blobs(srv)
        assert [sha256(p) in blobs for p in payloads].count(True) == 1, label


def test_management_writes_amid_uploads_never_answer_500(srv, ctx):
    """A transaction that reads before it writes must not fail when an upload commits in between: moving
    files to the recycle bin and back while 8 clients upload answers 200 every time (SQLite refuses such a
    deferred transaction at once with "database is locked", whatever the busy timeout)."""
    auth, repo = ctx["login"], ctx["generic"]
    done = threading.Event()
    upload_failures, management_failures = [], []

    def uploader(n):
        with requests.Session() as session:
            i = 0
            while not done.is_set():
                resp = uploads.put_file(srv.base_url, repo, "amid/%d/%d.bin" % (n, i), os.urandom(4096), auth, session)
                if resp.status_code != 201:
                    upload_failures.append(resp.status_code)
                i += 1

    def manager(n):
        path = "/%s/managed/%d.bin" % (repo, n)
        assert uploads.put_file(srv.base_url, repo, path[len(repo) + 2:], b"managed", auth).status_code == 201
        for _ in range(15):
            trashed = srv.signed("DELETE", "/cloudartifact/v5/file", body={"path": path})
            restored = srv.signed("PUT", "/cloudartifact/v5/trashes", body=[{"id": repo, "uri": path[len(repo) + 1:]}])
            for resp in (trashed, restored):
                if resp.status_code != 200:
                    management_failures.append((resp.status_code, resp.text[:200]))

    uploaders = [threading.Thread(target=uploader, args=(n,)) for n in range(8)]
    managers = [threading.Thread(target=manager, args=(n,)) for n in range(8)]
    for t in uploaders + managers:
        t.start()
    for t in managers:
        t.join()
    done.set()
    for t in uploaders:
        t.join()
    assert not management_failures, management_failures[:5]
    assert not upload_failures, upload_failures[:5]
