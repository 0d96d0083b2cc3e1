"""Issue 11: reading generic and Maven files through remote repositories, against a real static HTTP
server on loopback (tests/e2e/upstream_server.py): caching, the not-found cache, upstream failures that are
never cached nor answered as 404, stale copies while the upstream is down, revalidation, one upstream
request for many concurrent callers with bytes streaming to all of them, checksums, and mvn itself."""

import concurrent.futures
import hashlib
import os
import shutil
import threading
import time

import pytest
import requests

from harness import assert_error, unique
from upstream_server import Fault, StaticUpstream

ARCA_ARGS = ["--remote-allow-private-networks"]


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    server = StaticUpstream(tmp_path_factory.mktemp("upstream"))
    yield server
    server.stop()


def remote_repo(srv, project, upstream, fmt="generic", prefix="", **settings):
    body = {"format": fmt, "type": "remote", "repository_name": unique("rem"), "project_id": project,
            "remote_url": upstream.url + prefix}
    body.update(settings)
    resp = srv.signed("POST", "/cloudartifact/v5/artifact/", body=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["artifactory"]["name"]


def get(srv, login, repo, rel, **kw):
    return requests.get(srv.url("/artifactory/%s/%s" % (repo, rel)), auth=login, timeout=60, **kw)


def test_a_file_is_fetched_once_and_served_from_the_cache(srv, project, login, upstream):
    data = os.urandom(300 * 1024)
    upstream.put("gen/a/file.bin", data)
    repo = remote_repo(srv, project, upstream, prefix="/gen")
    first = get(srv, login, repo, "a/file.bin")
    assert first.status_code == 200 and first.content == data
    second = get(srv, login, repo, "a/file.bin")
    assert second.status_code == 200 and second.content == data
    assert second.headers["ETag"] == '"%s"' % hashlib.sha256(data).hexdigest()
    assert second.headers["X-Checksum-Sha1"] == hashlib.sha1(data).hexdigest()
    assert upstream.count("/gen/a/file.bin") == 1
    ranged = get(srv, login, repo, "a/file.bin", headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == data[10:20]
    # The copy is a file of the repository like any other: tree, checksum search.
    tree = srv.signed("GET", "/cloudartifact/v5/%s/%s/%s/file-tree" % (srv.domain_id, project, repo),
                      query={"path": "/a/"})
    assert "file.bin" in tree.text
    found = srv.signed("GET", "/cloudartifact/v5/search/checksum",
                       query={"checksum": hashlib.sha256(data).hexdigest()})
    assert repo in found.text


def test_anonymous_and_unprivileged_reads_are_refused(srv, project, upstream):
    upstream.put("gen/private.bin", b"p")
    repo = remote_repo(srv, project, upstream, prefix="/gen")
    resp = requests.get(srv.url("/artifactory/%s/private.bin" % repo), timeout=10)
    assert resp.status_code == 401
    assert upstream.count("/gen/private.bin") == 0


def test_an_upstream_404_is_remembered_for_not_found_cache_secs(srv, project, login, upstream):
    repo = remote_repo(srv, project, upstream, prefix="/gen", not_found_cache_secs=3600)
    for _ in range(3):
        assert get(srv, login, repo, "nope/missing.bin").status_code == 404
    assert upstream.count("/gen/nope/missing.bin") == 1
    # Published upstream meanwhile: found once the not-found cache is turned off.
    upstream.put("gen/nope/missing.bin", b"late")
    resp = srv.signed("PUT", "/cloudartifact/v5/artifact/", body={"repo_name": repo, "not_found_cache_secs": 0})
    assert resp.status_code == 200
    assert get(srv, login, repo, "nope/missing.bin").content == b"late"


def test_an_upstream_error_is_a_502_and_never_cached(srv, project, login, upstream):
    repo = remote_repo(srv, project, upstream, prefix="/gen")
    upstream.faults["/gen/err/e.bin"] = Fault(status=500)
    upstream.put("gen/err/e.bin", b"fine")
    for _ in range(2):
        resp = get(srv, login, repo, "err/e.bin")
        body = assert_error(resp, 502, "ARCA.00000016")
        assert "127.0.0.1:%d" % upstream.port in body["error_msg"]
        assert "secret error text" not in resp.text
    assert upstream.count("/gen/err/e.bin") == 2
    del upstream.faults["/gen/err/e.bin"]
    assert get(srv, login, repo, "err/e.bin").content == b"fine"


def test_an_upstream_that_is_down_answers_502_or_the_stale_copy(srv, project, login, tmp_path):
    down = StaticUpstream(tmp_path / "down")
    down.put("f/kept.txt", b"kept v1")
    repo = remote_repo(srv, project, down, metadata_max_age_secs=0)
    assert get(srv, login, repo, "f/kept.txt").content == b"kept v1"
    down.stop()
    stale = get(srv, login, repo, "f/kept.txt")
    assert stale.status_code == 200 and stale.content == b"kept v1"
    assert "stale" in stale.headers.get("Warning", "").lower()
    never = get(srv, login, repo, "f/never.txt")
    assert_error(never, 502, "ARCA.00000016")
    # Back up: fetched again, and no longer marked stale; the repository did not give up on it.
    down.start()
    down.put("f/kept.txt", b"kept v2", mtime=time.time() + 60)
    fresh = get(srv, login, repo, "f/kept.txt")
    assert fresh.content == b"kept v2" and "Warning" not in fresh.headers
    down.stop()


def test_mutable_files_are_revalidated_with_a_conditional_request(srv, project, login, upstream):
    upstream.put("gen/rv/doc.txt", b"one", mtime=1_700_000_000)
    repo = remote_repo(srv, project, upstream, prefix="/gen", metadata_max_age_secs=0)
    assert get(srv, login, repo, "rv/doc.txt").content == b"one"
    assert get(srv, login, repo, "rv/doc.txt").content == b"one"
    revalidations = upstream.headers_of("/gen/rv/doc.txt")[1:]
    assert revalidations and all("if-modified-since" in {k.lower() for k in h} for h in revalidations)
    upstream.put("gen/rv/doc.txt", b"two", mtime=1_800_000_000)
    assert get(srv, login, repo, "rv/doc.txt").content == b"two"
    # A long max age: served without asking.
    cached = remote_repo(srv, project, upstream, prefix="/gen", metadata_max_age_secs=3600)
    get(srv, login, cached, "rv/doc.txt")
    before = upstream.count("/gen/rv/doc.txt")
    get(srv, login, cached, "rv/doc.txt")
    assert upstream.count("/gen/rv/doc.txt") == before


def test_many_concurrent_callers_cause_one_upstream_request_and_all_stream(srv, project, login, upstream):
    data = os.urandom(8 * 1024 * 1024)
    upstream.put("gen/big/large.bin", data)
    release = threading.Event()
    upstream.faults["/gen/big/large.bin"] = Fault(hold_at_half=release)
    repo = remote_repo(srv, project, upstream, prefix="/gen")
    callers = 12
    first_bytes = threading.Barrier(callers + 1, timeout=60)

    def fetch():
        try:
            with requests.get(srv.url("/artifactory/%s/big/large.bin" % repo), auth=login, stream=True,
                              timeout=60) as resp:
                assert resp.status_code == 200, (resp.status_code, resp.headers)
                chunks = resp.iter_content(64 * 1024)
                got = bytearray(next(chunks))
                # Every caller has bytes while the upstream still holds the second half back.
                first_bytes.wait()
                for chunk in chunks:
                    got.extend(chunk)
                return bytes(got)
        except BaseException:
            # Others stop waiting at once, and the cause is this caller's error, not their timeout.
            first_bytes.abort()
            raise

    with concurrent.futures.ThreadPoolExecutor(callers) as pool:
        futures = [pool.submit(fetch) for _ in range(callers)]
        try:
            first_bytes.wait()
        except threading.BrokenBarrierError:
            release.set()
            errors = [f.exception(timeout=120) for f in futures]
            raise AssertionError("a caller failed before its first bytes: %r"
                                 % [e for e in errors if not isinstance(e, threading.BrokenBarrierError)])
        assert not release.is_set()
        release.set()
        results = [f.result(timeout=120) for f in futures]
    assert all(r == data for r in results)
    assert upstream.count("/gen/big/large.bin") == 1
    del upstream.faults["/gen/big/large.bin"]
    assert get(srv, login, repo, "big/large.bin").headers["ETag"] == '"%s"' % hashlib.sha256(data).hexdigest()


def test_a_transfer_cut_short_is_not_kept(srv, project, login, upstream):
    data = os.urandom(4 * 1024 * 1024)
    upstream.put("gen/cut/c.bin", data)
    upstream.faults["/gen/cut/c.bin"] = Fault(cut_at=1024 * 1024)
    repo = remote_repo(srv, project, upstream, prefix="/gen")
    with pytest.raises(requests.exceptions.RequestException):
        resp = get(srv, login, repo, "cut/c.bin")
        assert len(resp.content) == len(data)  # never: the answer ends short and requests raises
        resp.raise_for_status()
    del upstream.faults["/gen/cut/c.bin"]
    again = get(srv, login, repo, "cut/c.bin")
    assert again.content == data
    assert upstream.count("/gen/cut/c.bin") == 2


def test_maven_checksums_are_verified_and_served_from_the_copy(srv, project, login, upstream):
    jar = os.urandom(20_000)
    base = "mvn/org/example/lib/1.0/lib-1.0.jar"
    upstream.put(base, jar)
    upstream.put(base + ".sha1", hashlib.sha1(jar).hexdigest().encode() + b"  lib-1.0.jar\n")
    repo = remote_repo(srv, project, upstream, fmt="maven2", prefix="/mvn")
    assert get(srv, login, repo, "org/example/lib/1.0/lib-1.0.jar").content == jar
    sha = get(srv, login, repo, "org/example/lib/1.0/lib-1.0.jar.sha256")
    assert sha.text == hashlib.sha256(jar).hexdigest()
    assert upstream.count("/" + base + ".sha256") == 0
    # Bytes that fail the upstream's own checksum: 502, nothing kept.
    bad = "mvn/org/example/lib/2.0/lib-2.0.jar"
    upstream.put(bad, os.urandom(1000))
    upstream.put(bad + ".sha1", b"0" * 40)
    resp = get(srv, login, repo, "org/example/lib/2.0/lib-2.0.jar")
    body = assert_error(resp, 502, "ARCA.00000016")
    assert "checksum" in body["error_msg"]
    assert get(srv, login, repo, "org/example/lib/2.0/lib-2.0.jar").status_code == 502
    assert upstream.count("/" + bad) == 2


def test_a_remote_url_at_a_link_local_address_is_refused_when_read(srv, project, login):
    body = {"format": "generic", "type": "remote", "repository_name": unique("meta"), "project_id": project,
            "remote_url": "http://169.254.169.254/latest"}
    assert srv.signed("POST", "/cloudartifact/v5/artifact/", body=body).status_code == 200
    resp = get(srv, login, body["repository_name"], "meta-data/iam")
    assert_error(resp, 502, "ARCA.00000016")


def test_mvn_resolves_through_a_remote_repository(srv, project, login, upstream, tmp_path):
    from test_maven import java_project, mvn, pom, settings_xml
    # The upstream: a repository made by a real `mvn deploy` to a file:// directory, served statically.
    published = tmp_path / "published"
    lib = java_project(tmp_path / "lib", pom("org.example", "hello-lib", "1.0", "file:///nowhere",
                                             "file:///nowhere"), {
        "org/example/Hello.java": "package org.example; public class Hello { "
                                  "public static String hi() { return \"hi\"; } }"})
    deployer = tmp_path / "deployer.xml"
    settings_xml(deployer, tmp_path / "deployer-m2", *login)
    mvn(deployer, lib, "deploy", "-DaltDeploymentRepository=local::default::file://%s" % published)
    shutil.copytree(published, upstream.root / "central", dirs_exist_ok=True)
    repo = remote_repo(srv, project, upstream, fmt="maven2", prefix="/central")
    url = srv.url("/artifactory/%s/" % repo)
    app = java_project(tmp_path / "app", pom("org.example", "app", "1.0", url, url, """
        <dependency><groupId>org.example</groupId><artifactId>hello-lib</artifactId><version>1.0</version></dependency>
        """), {"org/example/App.java": "package org.example; public class App { "
                                       "String x = Hello.hi(); }"})
    consumer = tmp_path / "consumer.xml"
    local = tmp_path / "consumer-m2"
    settings_xml(consumer, local, *login)
    mvn(consumer, app, "package")
    got = local / "org/example/hello-lib/1.0/hello-lib-1.0.jar"
    assert got.read_bytes() == (published / "org/example/hello-lib/1.0/hello-lib-1.0.jar").read_bytes()
    assert upstream.count("/central/org/example/hello-lib/1.0/hello-lib-1.0.jar") == 1
    # The upstream's .sha1 was read once, to verify the jar; mvn's own checksum requests were answered
    # from the verified copy.
    assert upstream.count("/central/org/example/hello-lib/1.0/hello-lib-1.0.jar.sha1") == 1


def test_a_cached_copy_deleted_to_the_bin_is_fetched_again(srv, project, login, upstream):
    upstream.put("gen/del/d.bin", b"first")
    repo = remote_repo(srv, project, upstream, prefix="/gen")
    assert get(srv, login, repo, "del/d.bin").content == b"first"
    resp = srv.signed("DELETE", "/cloudartifact/v5/file", body={"path": "/%s/del/d.bin" % repo})
    assert resp.status_code == 200, resp.text
    upstream.put("gen/del/d.bin", b"second")
    assert get(srv, login, repo, "del/d.bin").content == b"second"
    assert upstream.count("/gen/del/d.bin") == 2
    listed = srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, project),
                        query={"qname": repo}).json()["result"]["repositories"]
    assert listed[0]["storageSummaryInfo"]["filesCount"] == 1


def test_cached_copies_are_found_by_name_and_by_checksum(srv, project, login, upstream):
    from huaweicloudsdkcodeartsartifact.v2 import (
        IDERepoSearchDO, SearchArtifactsRequest, SearchByChecksumRequest)
    data = os.urandom(2048)
    leaf = unique("findme") + ".bin"
    upstream.put("gen/found/%s" % leaf, data)
    repo = remote_repo(srv, project, upstream, prefix="/gen")
    client = srv.artifact_client()
    digest = hashlib.sha256(data).hexdigest()
    assert client.search_by_checksum(SearchByChecksumRequest(checksum=digest)).result == []
    assert get(srv, login, repo, "found/%s" % leaf).content == data
    hits = client.search_by_checksum(SearchByChecksumRequest(checksum=digest)).result
    assert [(h.repo_name, h.relative_path) for h in hits] == [(repo, "found/%s" % leaf)]
    found = client.search_artifacts(SearchArtifactsRequest(body=IDERepoSearchDO(
        artifact_name=leaf, project_id=project, in_project=True))).result
    assert [(a.repo_name, a.relative_path) for a in found.artifacts] == [(repo, "found/%s" % leaf)]
