"""Issue 11: npm through remote repositories. The upstream is a real npm registry on loopback — a second arca
whose hosted npm repository was filled by the real `npm publish` — or, for faults, the static server of
upstream_server.py holding hand-written packuments. The real `npm install` resolves a package, its dependency
and a scoped package through the remote repository, and again once the upstream is stopped."""

import base64
import concurrent.futures
import hashlib
import json
import os
import subprocess
import threading

import pytest
import requests

from conftest import _start, _stop
from harness import unique
from test_npm import ABBREVIATED, npm, npmrc, package, registry_url, ticket_for
from upstream_server import Fault, StaticUpstream

ARCA_ARGS = ["--remote-allow-private-networks"]


def npm_name(prefix):
    return unique(prefix).replace("_", "-")


@pytest.fixture(scope="module")
def upstream_arca(tmp_path_factory):
    server = _start(tmp_path_factory.mktemp("npm-upstream"))
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def published(upstream_arca, tmp_path_factory):
    """On the upstream arca: `dep` 1.0.0, `lib` 1.0.0 depending on `dep` ^1.0.0, and `@acme/…` 0.1.0, published
    by the real npm into a hosted repository open to anonymous reads."""
    up = upstream_arca
    project = up.create_project()
    repo = up.create_repo(project, "npm")
    resp = up.signed("PUT", "/cloudartifact/v5/artifact/", body={"repo_name": repo, "allow_anonymous": True})
    assert resp.status_code == 200, resp.text
    root = tmp_path_factory.mktemp("npm-publish")
    rc = npmrc(root / ".npmrc", up, repo, ticket_for(up))
    names = {"dep": npm_name("dep"), "lib": npm_name("lib"), "scoped": "@acme/%s" % npm_name("sc")}
    sources = [
        package(root, names["dep"], "1.0.0", "module.exports = 'dep-one';\n"),
        package(root, names["lib"], "1.0.0", "module.exports = () => 'lib+' + require(%r);\n" % names["dep"],
                dependencies={names["dep"]: "^1.0.0"}),
        package(root, names["scoped"], "0.1.0", "module.exports = 'scoped';\n"),
    ]
    for src in sources:
        out = npm(rc, src, "publish")
        assert out.returncode == 0, out.stderr
    return {"repo": repo, "url": up.url("/artifactory/api/npm/%s" % repo), **names}


def remote_npm(srv, project, remote_url, **settings):
    body = {"format": "npm", "type": "remote", "repository_name": unique("rnpm"), "project_id": project,
            "remote_url": remote_url}
    body.update(settings)
    resp = srv.signed("POST", "/cloudartifact/v5/artifact/", body=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["artifactory"]["name"]


def packument(srv, login, repo, name, **kw):
    return requests.get(registry_url(srv, repo) + name.replace("/", "%2f"), auth=login, timeout=60, **kw)


def file_tree(srv, project, repo, path):
    resp = srv.signed("GET", "/cloudartifact/v5/%s/%s/%s/file-tree" % (srv.domain_id, project, repo),
                      query={"path": path})
    assert resp.status_code == 200, resp.text
    return resp.text


def install(rc, root, label, *packages):
    app = root / label
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": label, "version": "1.0.0", "private": True}))
    return app, npm(rc, app, "install", *packages)


def test_packuments_point_at_arca_in_both_forms(srv, project, login, published, upstream_arca):
    repo = remote_npm(srv, project, published["url"])
    ours = registry_url(srv, repo)
    for name in (published["lib"], published["scoped"]):
        full = packument(srv, login, repo, name)
        assert full.status_code == 200, full.text
        doc = full.json()
        version = sorted(doc["versions"])[0]
        dist = doc["versions"][version]["dist"]
        assert dist["tarball"] == "%s%s/-/%s-%s.tgz" % (ours, name, name.rsplit("/", 1)[-1], version)
        assert upstream_arca.host not in full.text
        # The integrity is the upstream's, and the tarball served under arca's URL has it.
        upstream_doc = requests.get(published["url"] + "/" + name.replace("/", "%2f"), timeout=10).json()
        assert dist["integrity"] == upstream_doc["versions"][version]["dist"]["integrity"]
        tarball = requests.get(dist["tarball"], auth=login, timeout=60)
        assert tarball.status_code == 200
        assert dist["integrity"] == "sha512-" + base64.b64encode(hashlib.sha512(tarball.content).digest()).decode()
        small = packument(srv, login, repo, name, headers={"Accept": ABBREVIATED})
        assert small.headers["Content-Type"].startswith(ABBREVIATED)
        assert set(small.json()) == {"name", "modified", "dist-tags", "versions"}
        assert small.json()["versions"][version]["dist"]["tarball"] == dist["tarball"]
        assert upstream_arca.host not in small.text
        # Validators as hosted packuments answer them.
        assert full.headers["Last-Modified"] and full.headers["Vary"] == "Accept"
        again = packument(srv, login, repo, name, headers={"If-None-Match": full.headers["ETag"]})
        assert again.status_code == 304
    assert "packument.json" in file_tree(srv, project, repo, "/%s/-/" % published["lib"])
    tags = requests.get(ours + "-/package/%s/dist-tags" % published["lib"], auth=login, timeout=10)
    assert tags.json() == {"latest": "1.0.0"}


def test_a_package_the_upstream_lacks_is_npms_404(srv, project, login, published, tmp_path):
    repo = remote_npm(srv, project, published["url"])
    resp = packument(srv, login, repo, npm_name("nosuch"))
    assert resp.status_code == 404 and "not found" in resp.json()["error"]
    # A version the upstream's packument does not list: 404, whatever the upstream would say.
    resp = requests.get(registry_url(srv, repo) + "%s/-/%s-9.9.9.tgz" % (published["dep"], published["dep"]),
                        auth=login, timeout=10)
    assert resp.status_code == 404 and "error" in resp.json()
    rc = npmrc(tmp_path / ".npmrc", srv, repo, ticket_for(srv))
    _, out = install(rc, tmp_path, "missing", npm_name("nosuch"))
    assert out.returncode != 0 and "E404" in out.stderr


def test_upstream_credentials(srv, project, login, published, upstream_arca):
    up = upstream_arca
    closed = up.signed("PUT", "/cloudartifact/v5/artifact/", body={"repo_name": published["repo"],
                                                                     "allow_anonymous": False})
    assert closed.status_code == 200, closed.text
    try:
        user_name, password = up.repo_login()
        anonymous = remote_npm(srv, project, published["url"])
        refused = packument(srv, login, anonymous, published["dep"])
        assert refused.status_code == 502 and up.host in refused.json()["error"]
        with_login = remote_npm(srv, project, published["url"], user_name=user_name, password=password)
        doc = packument(srv, login, with_login, published["dep"])
        assert doc.status_code == 200, doc.text
        tarball = requests.get(doc.json()["versions"]["1.0.0"]["dist"]["tarball"], auth=login, timeout=60)
        assert tarball.status_code == 200 and tarball.content[:2] == b"\x1f\x8b"
    finally:
        up.signed("PUT", "/cloudartifact/v5/artifact/", body={"repo_name": published["repo"],
                                                                "allow_anonymous": True})


# --- faults, against a static upstream serving hand-written packuments --------------------------------------

@pytest.fixture(scope="module")
def static(tmp_path_factory):
    server = StaticUpstream(tmp_path_factory.mktemp("static-npm"))
    yield server
    server.stop()


def sri(data):
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def publish_static(static, name, versions):
    """A packument at /reg/{name} whose tarballs lie at /files/…; `versions` maps a version to (bytes, dist
    overrides)."""
    doc = {"_id": name, "name": name, "dist-tags": {"latest": sorted(versions)[-1]}, "versions": {}}
    for version, (data, dist) in versions.items():
        file = "files/%s-%s.tgz" % (name.replace("/", "-"), version)
        static.put(file, data)
        entry = {"tarball": "%s/%s" % (static.url, file), "shasum": hashlib.sha1(data).hexdigest(),
                 "integrity": sri(data)}
        entry.update(dist)
        doc["versions"][version] = {"name": name, "version": version, "dist": {k: v for k, v in entry.items()
                                                                               if v is not None}}
    static.put("reg/" + name, json.dumps(doc).encode())
    return doc


def tarball_url(srv, repo, name, version):
    return registry_url(srv, repo) + "%s/-/%s-%s.tgz" % (name, name.rsplit("/", 1)[-1], version)


def test_tarballs_failing_their_integrity_are_502_and_never_kept(srv, project, login, static):
    name = npm_name("bad")
    good, bad, bad_sha1 = os.urandom(5000), os.urandom(5000), os.urandom(5000)
    publish_static(static, name, {
        "1.0.0": (bad, {"integrity": sri(b"something else")}),
        "1.1.0": (bad_sha1, {"integrity": None, "shasum": "0" * 40}),
        "1.2.0": (good, {}),
    })
    repo = remote_npm(srv, project, static.url + "/reg")
    for version, data in (("1.0.0", bad), ("1.1.0", bad_sha1)):
        for _ in range(2):
            resp = requests.get(tarball_url(srv, repo, name, version), auth=login, timeout=60)
            assert resp.status_code == 502 and "checksum" in resp.json()["error"]
        assert static.count("/files/%s-%s.tgz" % (name, version)) == 2, "a bad tarball was kept"
        assert "%s-%s.tgz" % (name, version) not in file_tree(srv, project, repo, "/%s/-/" % name)
    # Only what the packument lists is fetched (nothing is asked of the upstream for another version), and
    # the packument kept beside the tarballs is not one.
    unlisted = requests.get(tarball_url(srv, repo, name, "9.0.0"), auth=login, timeout=60)
    assert unlisted.status_code == 404 and "error" in unlisted.json()
    assert not [r for r in static.requests if "9.0.0" in r[1]]
    kept = requests.get(registry_url(srv, repo) + "%s/-/packument.json" % name, auth=login, timeout=60)
    assert kept.status_code == 404
    ok = requests.get(tarball_url(srv, repo, name, "1.2.0"), auth=login, timeout=60)
    assert ok.status_code == 200 and ok.content == good
    requests.get(tarball_url(srv, repo, name, "1.2.0"), auth=login, timeout=60)
    assert static.count("/files/%s-1.2.0.tgz" % name) == 1
    assert static.count("/reg/" + name) == 1


def test_upstream_404_500_and_the_not_found_cache(srv, project, login, static):
    repo = remote_npm(srv, project, static.url + "/reg", not_found_cache_secs=3600)
    missing = npm_name("absent")
    for _ in range(2):
        resp = packument(srv, login, repo, missing)
        assert resp.status_code == 404 and "error" in resp.json()
    assert static.count("/reg/" + missing) == 1
    broken = npm_name("broken")
    publish_static(static, broken, {"1.0.0": (b"x", {})})
    static.faults["/reg/" + broken] = Fault(status=500)
    try:
        resp = packument(srv, login, repo, broken)
        assert resp.status_code == 502 and "127.0.0.1:%d" % static.port in resp.json()["error"]
        assert "secret error text" not in resp.text
    finally:
        del static.faults["/reg/" + broken]
    assert packument(srv, login, repo, broken).status_code == 200
    # A packument that is not one: 502, and not kept (the next read fetches it whole again).
    garbled = npm_name("garbled")
    static.put("reg/" + garbled, b"<html>not a packument</html>")
    resp = packument(srv, login, repo, garbled)
    assert resp.status_code == 502 and "not an npm package document" in resp.json()["error"]
    publish_static(static, garbled, {"1.0.0": (b"g", {})})
    assert packument(srv, login, repo, garbled).status_code == 200
    assert static.count("/reg/" + garbled) == 2
    # A scoped name is asked for as npm asks: `@scope%2fname`.
    scoped = "@acme/%s" % npm_name("st")
    publish_static(static, scoped, {"2.0.0": (b"scoped bytes", {})})
    doc = packument(srv, login, repo, scoped)
    assert doc.status_code == 200 and list(doc.json()["versions"]) == ["2.0.0"]
    assert static.count("/reg/" + scoped.replace("/", "%2f")) == 1
    assert requests.get(tarball_url(srv, repo, scoped, "2.0.0"), auth=login, timeout=60).content == b"scoped bytes"


def test_concurrent_requests_for_one_tarball_make_one_upstream_request(srv, project, login, static):
    name = npm_name("big")
    data = os.urandom(4 * 1024 * 1024)
    publish_static(static, name, {"1.0.0": (data, {})})
    path = "/files/%s-1.0.0.tgz" % name
    release = threading.Event()
    static.faults[path] = Fault(hold_at_half=release)
    repo = remote_npm(srv, project, static.url + "/reg")
    callers = 8
    first_bytes = threading.Barrier(callers + 1, timeout=60)

    def fetch():
        try:
            with requests.get(tarball_url(srv, repo, name, "1.0.0"), auth=login, stream=True,
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

    try:
        with concurrent.futures.ThreadPoolExecutor(callers) as pool:
            futures = [pool.submit(fetch) for _ in range(callers)]
            try:
                first_bytes.wait()
            except threading.BrokenBarrierError:
                release.set()
                errors = [f.exception(timeout=120) for f in futures]
                raise AssertionError("a caller failed before its first bytes: %r"
                                     % [e for e in errors if not isinstance(e, threading.BrokenBarrierError)])
            release.set()
            results = [f.result(timeout=120) for f in futures]
    finally:
        release.set()
        del static.faults[path]
    assert all(r == data for r in results)
    assert static.count(path) == 1
    assert static.count("/reg/" + name) == 1


# --- last: it stops the upstream arca ------------------------------------------------------------------------

def test_npm_install_through_the_remote_then_with_the_upstream_stopped(srv, project, login, published,
                                                                      upstream_arca, tmp_path):
    # Every packument read revalidates, so the second install needs the stale copies.
    repo = remote_npm(srv, project, published["url"], metadata_max_age_secs=0)
    token = ticket_for(srv)
    wanted = (published["lib"], published["scoped"])
    script = "console.log(require(%r)(), require(%r))" % wanted

    def install_and_run(label):
        (tmp_path / label).mkdir()
        rc = npmrc(tmp_path / label / ".npmrc", srv, repo, token)  # its own npm cache beside it
        app, out = install(rc, tmp_path / label, "app", *wanted)
        assert out.returncode == 0, out.stderr
        run = subprocess.run(["node", "-e", script], cwd=app, capture_output=True, text=True, timeout=60)
        assert run.stdout.strip() == "lib+dep-one scoped", run.stderr
        return json.loads((app / "package-lock.json").read_text())

    lock = install_and_run("first")
    for name in (published["dep"], published["lib"], published["scoped"]):
        entry = lock["packages"]["node_modules/" + name]
        assert entry["resolved"].startswith(registry_url(srv, repo)), entry
    _stop(upstream_arca)
    install_and_run("second")
    stale = packument(srv, login, repo, published["dep"])
    assert stale.status_code == 200 and "stale" in stale.headers.get("Warning", "").lower()
    never = packument(srv, login, repo, npm_name("never"))
    assert never.status_code == 502 and upstream_arca.host in never.json()["error"]
