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
