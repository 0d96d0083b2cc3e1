"""Issue 4 §3: Cargo registries with the real cargo — the sparse index, publish, a consumer that adds and
builds a crate from arca, yank/unyank, owners, tokens (tickets and repo-user Basic tokens) and their
failures with cargo's own exit status, and an index file with 2,000 versions."""

import base64
import hashlib
import json
import os
import shutil
import struct
import subprocess
import textwrap
from pathlib import Path

import pytest
import requests

from harness import ROLE_VIEWER, unique

CARGO = shutil.which("cargo")


def cargo_home(root: Path, srv, repo: str, token: str) -> dict:
    """A private CARGO_HOME with arca as registry `arca`; answers the environment for cargo."""
    home = root / "cargo-home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(textwrap.dedent("""\
        [registries.arca]
        index = "sparse+%s"
        credential-provider = ["cargo:token"]
        [net]
        git-fetch-with-cli = false
        """ % srv.url("/artifactory/api/cargo/%s/index/" % repo)))
    (home / "credentials.toml").write_text('[registries.arca]\ntoken = "%s"\n' % token)
    env = dict(os.environ, CARGO_HOME=str(home), CARGO_TARGET_DIR=str(root / "target"), CARGO_TERM_COLOR="never")
    # The toolchain lives under the machine's own CARGO_HOME/RUSTUP_HOME.
    env.setdefault("RUSTUP_HOME", os.path.expanduser("~/.rustup"))
    return env


def cargo(env, cwd, *args):
    return subprocess.run([CARGO, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def library(root: Path, name: str, version: str, body: str) -> Path:
    crate = root / ("%s-%s" % (name, version))
    (crate / "src").mkdir(parents=True, exist_ok=True)
    (crate / "Cargo.toml").write_text(textwrap.dedent("""\
        [package]
        name = "%s"
        version = "%s"
        edition = "2021"
        description = "arca test crate"
        license = "MIT"
        publish = ["arca"]
        """ % (name, version)))
    (crate / "src/lib.rs").write_text(body)
    return crate


def basic_token(login) -> str:
    return "Basic " + base64.b64encode(("%s:%s" % login).encode()).decode()


@pytest.fixture(scope="module")
def registry(srv, project, login, tmp_path_factory):
    repo = srv.create_repo(project, "cargo")
    root = tmp_path_factory.mktemp("cargo")
    env = cargo_home(root, srv, repo, basic_token(login))
    name = unique("greeter").replace("_", "-")
    for version, text in (("0.1.0", "hello"), ("0.2.0", "hello again")):
        crate = library(root / "src", name, version, 'pub fn greet() -> &\'static str { "%s" }\n' % text)
        out = cargo(env, crate, "publish", "--registry", "arca", "--allow-dirty")
        assert out.returncode == 0, out.stderr
    return {"repo": repo, "root": root, "env": env, "name": name}


def index_lines(srv, repo, name, auth):
    n = name.lower()
    path = {1: "1/%s" % n, 2: "2/%s" % n, 3: "3/%s/%s" % (n[0], n)}.get(len(n), "%s/%s/%s" % (n[:2], n[2:4], n))
    resp = requests.get(srv.url("/artifactory/api/cargo/%s/index/%s" % (repo, path)), auth=auth, timeout=30)
    assert resp.status_code == 200, resp.text
    return [json.loads(line) for line in resp.text.splitlines()]


def test_config_and_index(srv, registry, login):
    config = requests.get(srv.url("/artifactory/api/cargo/%s/index/config.json" % registry["repo"]), auth=login,
                          timeout=10).json()
    assert config["auth-required"] is True
    assert config["dl"] == srv.url("/artifactory/api/cargo/%s/api/v1/crates" % registry["repo"])
    assert requests.get(srv.url("/artifactory/api/cargo/%s/index/config.json" % registry["repo"]),
                        timeout=10).status_code == 401
    lines = index_lines(srv, registry["repo"], registry["name"], login)
    assert [l["vers"] for l in lines] == ["0.1.0", "0.2.0"]
    assert all(l["yanked"] is False and l["v"] == 2 for l in lines)
    crate = requests.get(srv.url("/artifactory/api/cargo/%s/api/v1/crates/%s/0.2.0/download" % (
        registry["repo"], registry["name"])), auth=login, timeout=10)
    assert crate.status_code == 200
    assert hashlib.sha256(crate.content).hexdigest() == lines[1]["cksum"]


def test_consumer_adds_builds_and_runs(srv, registry, tmp_path):
    env = registry["env"]
    app = tmp_path / "app"
    out = cargo(env, tmp_path, "new", "--bin", "app", "--vcs", "none")
    assert out.returncode == 0, out.stderr
    out = cargo(env, app, "add", registry["name"], "--registry", "arca")
    assert out.returncode == 0, out.stderr
    module = registry["name"].replace("-", "_")
    (app / "src/main.rs").write_text("fn main() { println!(\"{}\", %s::greet()); }\n" % module)
    out = cargo(env, app, "run", "-q")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello again"
    lock = (app / "Cargo.lock").read_text()
    assert 'version = "0.2.0"' in lock and "sparse+" in lock


def test_yank_and_undo(srv, registry, login, tmp_path):
    env, name = registry["env"], registry["name"]
    out = cargo(env, tmp_path, "yank", "--registry", "arca", "--version", "0.2.0", name)
    assert out.returncode == 0, out.stderr
    assert [l["yanked"] for l in index_lines(srv, registry["repo"], name, login)] == [False, True]
    # A fresh project resolves to the newest version that is not yanked.
    app = tmp_path / "app"
    cargo(env, tmp_path, "new", "--bin", "app", "--vcs", "none")
    out = cargo(env, app, "add", name, "--registry", "arca")
    assert out.returncode == 0, out.stderr
    module = name.replace("-", "_")
    (app / "src/main.rs").write_text("fn main() { println!(\"{}\", %s::greet()); }\n" % module)
    out = cargo(env, app, "run", "-q")
    assert out.stdout.strip() == "hello", out.stderr
    out = cargo(env, tmp_path, "yank", "--registry", "arca", "--version", "0.2.0", "--undo", name)
    assert out.returncode == 0, out.stderr
    assert [l["yanked"] for l in index_lines(srv, registry["repo"], name, login)] == [False, False]


def test_owners_list(srv, registry, tmp_path):
    out = cargo(registry["env"], tmp_path, "owner", "--list", "--registry", "arca", registry["name"])
    assert out.returncode == 0, out.stderr
    assert srv.root.name in out.stdout


def test_republish_and_bad_tokens_fail(srv, project, registry, login, tmp_path):
    name = registry["name"]
    crate = library(tmp_path / "again", name, "0.1.0", "pub fn greet() -> &'static str { \"x\" }\n")
    out = cargo(registry["env"], crate, "publish", "--registry", "arca", "--allow-dirty", "--no-verify")
    # cargo notices in the index first; the server refuses too (see test_publish_validation).
    assert out.returncode != 0 and "already exists" in out.stderr
    new = library(tmp_path / "new", name, "0.3.0", "pub fn greet() -> &'static str { \"x\" }\n")
    wrong = cargo_home(tmp_path / "wrong", srv, registry["repo"], basic_token((login[0], "wrong-password")))
    out = cargo(wrong, new, "publish", "--registry", "arca", "--allow-dirty", "--no-verify")
    assert out.returncode != 0 and "401" in out.stderr
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    as_viewer = cargo_home(tmp_path / "viewer", srv, registry["repo"], basic_token(srv.repo_login(viewer)))
    out = cargo(as_viewer, new, "publish", "--registry", "arca", "--allow-dirty", "--no-verify")
    assert out.returncode != 0 and "403" in out.stderr
    assert "not allowed" in out.stderr
    # A ticket works as the token until its uses run out.
    token = srv.root_token()
    ticket = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": token},
                         json={"left_num": 1}).json()["value"]
    url = srv.url("/artifactory/api/cargo/%s/index/config.json" % registry["repo"])
    assert requests.get(url, headers={"Authorization": ticket}, timeout=10).status_code == 200
    spent = requests.get(url, headers={"Authorization": ticket}, timeout=10)
    assert spent.status_code == 401 and spent.json()["errors"][0]["detail"]
    with_spent = cargo_home(tmp_path / "spent", srv, registry["repo"], ticket)
    out = cargo(with_spent, new, "publish", "--registry", "arca", "--allow-dirty", "--no-verify")
    assert out.returncode != 0 and "401" in out.stderr


def publish_frame(meta: dict, crate: bytes) -> bytes:
    body = json.dumps(meta).encode()
    return struct.pack("<I", len(body)) + body + struct.pack("<I", len(crate)) + crate


def test_publish_validation(srv, registry, login):
    url = srv.url("/artifactory/api/cargo/%s/api/v1/crates/new" % registry["repo"])
    headers = {"Authorization": basic_token(login)}
    for meta, word in [({"name": "bad name", "vers": "1.0.0", "deps": []}, "crate name"),
                       ({"name": "okname", "vers": "1.0", "deps": []}, "SemVer"),
                       ({"name": "okname", "vers": "1.0.0",
                         "deps": [{"name": "dep", "version_req": "not a req"}]}, "requirement")]:
        resp = requests.put(url, data=publish_frame(meta, b"x"), headers=headers, timeout=10)
        assert resp.status_code == 400 and word in resp.json()["errors"][0]["detail"]
    short = publish_frame({"name": "okname", "vers": "1.0.0", "deps": []}, b"abc")[:-1]
    resp = requests.put(url, data=short, headers=headers, timeout=10)
    assert resp.status_code == 400
    collide = requests.put(url, data=publish_frame({"name": registry["name"].replace("-", "_"), "vers": "9.0.0",
                                                    "deps": []}, b"x"), headers=headers, timeout=10)
    assert collide.status_code == 400 and "collides" in collide.json()["errors"][0]["detail"]
    again = requests.put(url, data=publish_frame({"name": registry["name"], "vers": "0.1.0", "deps": []}, b"x"),
                         headers=headers, timeout=10)
    assert again.status_code == 400 and "already uploaded" in again.json()["errors"][0]["detail"]


def test_two_thousand_versions_index(srv, project, login):
    repo = srv.create_repo(project, "cargo")
    url = srv.url("/artifactory/api/cargo/%s/api/v1/crates/new" % repo)
    session = requests.Session()
    session.headers["Authorization"] = basic_token(login)
    for i in range(2000):
        resp = session.put(url, data=publish_frame({"name": "many", "vers": "1.0.%d" % i, "deps": [],
                                                    "features": {}}, b"crate %d" % i), timeout=10)
        assert resp.status_code == 200, resp.text
    lines = index_lines(srv, repo, "many", login)
    assert len(lines) == 2000
    assert lines[-1]["vers"] == "1.0.1999"
    assert lines[-1]["cksum"] == hashlib.sha256(b"crate 1999").hexdigest()
