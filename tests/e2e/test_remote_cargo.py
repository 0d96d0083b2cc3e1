"""Issue 11: Cargo through a remote repository whose upstream is a sparse index — a second arca (crates
published there with the real cargo) and a static sparse tree — with the real cargo building a crate whose
dependency comes through arca, again once the upstream is gone, and a crate that fails its index cksum."""

import hashlib
import json
import shutil
import subprocess

import pytest
import requests

from harness import assert_error, unique
from test_cargo import basic_token, cargo, cargo_home, library
from test_remote_files import remote_repo
from upstream_server import StaticUpstream

ARCA_ARGS = ["--remote-allow-private-networks"]
CARGO = shutil.which("cargo")


@pytest.fixture(scope="module")
def upstream_arca(tmp_path_factory):
    from conftest import _start, _stop
    server = _start(tmp_path_factory.mktemp("upstream-arca"))
    project = server.create_project()
    repo = server.create_repo(project, "cargo")
    resp = server.signed("PUT", "/cloudartifact/v5/artifact/", body={"repo_name": repo, "allow_anonymous": True})
    assert resp.status_code == 200, resp.text
    root = tmp_path_factory.mktemp("publish")
    env = cargo_home(root, server, repo, basic_token(server.repo_login()))
    name = unique("upcrate").replace("_", "-")
    crate = library(root / "src", name, "1.2.0", 'pub fn answer() -> u32 { 42 }\n')
    out = cargo(env, crate, "publish", "--registry", "arca", "--allow-dirty")
    assert out.returncode == 0, out.stderr
    yield {"server": server, "repo": repo, "name": name, "stop": lambda: _stop(server)}
    if server.proc.poll() is None:
        _stop(server)


def consumer(root, dep_name):
    app = root / "app"
    (app / "src").mkdir(parents=True, exist_ok=True)
    (app / "Cargo.toml").write_text(
        '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n'
        '[dependencies]\n%s = { version = "1", registry = "arca" }\n' % dep_name)
    (app / "src/main.rs").write_text(
        "fn main() { println!(\"{}\", %s::answer()); }\n" % dep_name.replace("-", "_"))
    return app


@pytest.mark.skipif(CARGO is None, reason="cargo is part of the toolchain the tests build with")
def test_cargo_builds_through_a_remote_and_from_its_cache(srv, project, login, upstream_arca, tmp_path):
    up = upstream_arca["server"]
    index_url = up.url("/artifactory/api/cargo/%s/index" % upstream_arca["repo"])
    body = {"format": "cargo", "type": "remote", "repository_name": unique("crates"), "project_id": project,
            "remote_url": index_url}
    resp = srv.signed("POST", "/cloudartifact/v5/artifact/", body=body)
    assert resp.status_code == 200, resp.text
    repo = body["repository_name"]
    name = upstream_arca["name"]

    env = cargo_home(tmp_path / "first", srv, repo, basic_token(login))
    app = consumer(tmp_path / "first", name)
    out = cargo(env, app, "run", "-q")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"
    # arca's config sends downloads to arca, never to the upstream.
    config = requests.get(srv.url("/artifactory/api/cargo/%s/index/config.json" % repo), auth=login, timeout=10)
    assert config.json()["dl"].startswith(srv.url("/artifactory/api/cargo/%s/" % repo))

    upstream_arca["stop"]()
    env = cargo_home(tmp_path / "second", srv, repo, basic_token(login))
    app = consumer(tmp_path / "second", name)
    out = cargo(env, app, "run", "-q")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"


def test_a_crate_that_fails_its_index_cksum_is_not_kept(srv, project, login, tmp_path):
    static = StaticUpstream(tmp_path / "sparse")
    crate = b"not really a gzip, but bytes with a digest"
    good, bad = "goodcrate", "badcrate"
    static.put("config.json", json.dumps({"dl": static.url + "/dl"}).encode())
    for name, cksum in ((good, hashlib.sha256(crate).hexdigest()), (bad, "0" * 64)):
        line = {"name": name, "vers": "1.0.0", "deps": [], "cksum": cksum, "features": {}, "yanked": False}
        static.put("%s/%s/%s" % (name[:2], name[2:4], name), (json.dumps(line) + "\n").encode())
        static.put("dl/%s/1.0.0/download" % name, crate)
    repo = remote_repo(srv, project, static, fmt="cargo")
    base = srv.url("/artifactory/api/cargo/%s" % repo)
    index = requests.get(base + "/index/go/od/goodcrate", auth=login, timeout=10)
    assert index.status_code == 200 and json.loads(index.text.splitlines()[0])["name"] == good
    ok = requests.get(base + "/api/v1/crates/goodcrate/1.0.0/download", auth=login, timeout=10)
    assert ok.status_code == 200 and ok.content == crate
    refused = requests.get(base + "/api/v1/crates/badcrate/1.0.0/download", auth=login, timeout=10)
    assert refused.status_code == 502 and "checksum" in refused.text
    assert requests.get(base + "/api/v1/crates/goodcrate/9.9.9/download", auth=login, timeout=10).status_code == 404
    requests.get(base + "/api/v1/crates/badcrate/1.0.0/download", auth=login, timeout=10)
    assert static.count("/dl/badcrate/1.0.0/download") == 2
    assert static.count("/dl/goodcrate/1.0.0/download") == 1
    static.stop()


def packaged(root, name, version, body):
    """A real .crate made by `cargo package`, and its SHA-256."""
    crate = library(root, name, version, body)
    env = dict(__import__("os").environ, CARGO_TARGET_DIR=str(root / "target"))
    out = subprocess.run([CARGO, "package", "--allow-dirty", "--no-verify", "-q"], cwd=crate, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    data = (root / ("target/package/%s-%s.crate" % (name, version))).read_bytes()
    return data, hashlib.sha256(data).hexdigest()


def sparse_entry(static, name, version, data, cksum):
    line = {"name": name, "vers": version, "deps": [], "cksum": cksum, "features": {}, "yanked": False}
    n = name.lower()
    path = {1: "1/%s" % n, 2: "2/%s" % n, 3: "3/%s/%s" % (n[0], n)}.get(len(n), "%s/%s/%s" % (n[:2], n[2:4], n))
    static.put(path, (json.dumps(line) + "\n").encode())
    static.put("dl/%s/%s/download" % (name, version), data)


@pytest.mark.skipif(CARGO is None, reason="cargo is part of the toolchain the tests build with")
def test_cargo_builds_against_one_virtual_registry(srv, project, login, tmp_path):
    static = StaticUpstream(tmp_path / "sparse")
    static.put("config.json", json.dumps({"dl": static.url + "/dl"}).encode())
    public = unique("pubdep").replace("_", "-")
    data, cksum = packaged(tmp_path / "pkg", public, "1.0.0", "pub fn one() -> u32 { 1 }\n")
    sparse_entry(static, public, "1.0.0", data, cksum)
    remote = remote_repo(srv, project, static, fmt="cargo")
    hosted = srv.create_repo(project, "cargo")
    body = {"format": "cargo", "type": "virtual", "repository_name": unique("crates"), "project_id": project,
            "repository_ids": [hosted, remote], "default_deploy_repository": hosted}
    assert srv.signed("POST", "/cloudartifact/v5/artifact/", body=body).status_code == 200
    front = body["repository_name"]
    env = cargo_home(tmp_path / "home", srv, front, basic_token(login))
    # Published through the virtual registry: it lands in the hosted member.
    ours = unique("ourdep").replace("_", "-")
    out = cargo(env, library(tmp_path / "src", ours, "1.0.0", "pub fn two() -> u32 { 2 }\n"),
                "publish", "--registry", "arca", "--allow-dirty")
    assert out.returncode == 0, out.stderr
    hosted_index = requests.get(srv.url("/artifactory/api/cargo/%s/index/%s/%s/%s" % (
        hosted, ours[:2], ours[2:4], ours)), auth=login, timeout=10)
    assert hosted_index.status_code == 200
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "Cargo.toml").write_text(
        '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\npublish = false\n\n[dependencies]\n'
        '%s = { version = "1", registry = "arca" }\n%s = { version = "1", registry = "arca" }\n' % (public, ours))
    (app / "src/main.rs").write_text("fn main() { println!(\"{}\", %s::one() + %s::two()); }\n" % (
        public.replace("-", "_"), ours.replace("-", "_")))
    out = cargo(env, app, "run", "-q")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "3"
    static.stop()


def test_a_hosted_crate_hides_the_same_name_upstream(srv, project, login, tmp_path):
    static = StaticUpstream(tmp_path / "sparse")
    static.put("config.json", json.dumps({"dl": static.url + "/dl"}).encode())
    hosted = srv.create_repo(project, "cargo")
    name = unique("internal").replace("_", "").lower()
    # Published to the hosted member with the registry API cargo uses.
    meta = json.dumps({"name": name, "vers": "1.0.0", "deps": [], "features": {}}).encode()
    crate = b"internal crate bytes"
    frame = len(meta).to_bytes(4, "little") + meta + len(crate).to_bytes(4, "little") + crate
    resp = requests.put(srv.url("/artifactory/api/cargo/%s/api/v1/crates/new" % hosted), data=frame,
                        headers={"Authorization": basic_token(login)}, timeout=10)
    assert resp.status_code == 200, resp.text
    sparse_entry(static, name, "9.9.9", b"attacker", hashlib.sha256(b"attacker").hexdigest())
    remote = remote_repo(srv, project, static, fmt="cargo")

    def versions(**settings):
        body = {"format": "cargo", "type": "virtual", "repository_name": unique("v"), "project_id": project,
                "repository_ids": [hosted, remote]}
        body.update(settings)
        assert srv.signed("POST", "/cloudartifact/v5/artifact/", body=body).status_code == 200
        resp = requests.get(srv.url("/artifactory/api/cargo/%s/index/%s/%s/%s" % (
            body["repository_name"], name[:2], name[2:4], name)), auth=login, timeout=10)
        assert resp.status_code == 200, resp.text
        return sorted(json.loads(line)["vers"] for line in resp.text.splitlines())

    assert versions() == ["1.0.0", "9.9.9"]
    assert versions(hosted_names_hide_remote=True) == ["1.0.0"]
    static.stop()
