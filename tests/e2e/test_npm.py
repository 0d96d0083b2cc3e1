"""Issue 4 §1: npm repositories with the real npm client — publish (plain and scoped), install into a scratch
project, packuments (full and abbreviated) whose integrity matches the stored tarball, dist-tags,
deprecate, unpublish to the recycle bin, login/whoami with the repo user, tickets as `_authToken`, and
failures with npm's own exit status."""

import base64
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import BatchRestoreRepoRequest, IDETrashArtifactModel

from harness import ROLE_VIEWER, unique

NPM = shutil.which("npm")
ABBREVIATED = "application/vnd.npm.install-v1+json"


def registry_url(srv, repo):
    return srv.url("/artifactory/api/npm/%s/" % repo)


def npmrc(path: Path, srv, repo, token=None) -> Path:
    url = registry_url(srv, repo)
    lines = ["registry=%s" % url, "audit=false", "fund=false", "update-notifier=false"]
    if token:
        lines.append("//%s:_authToken=%s" % (url.split("://", 1)[1], token))
    path.write_text("\n".join(lines) + "\n")
    return path


def npm(rc: Path, cwd: Path, *args, stdin=None):
    env = dict(os.environ, npm_config_userconfig=str(rc), npm_config_cache=str(rc.parent / "npm-cache"),
               NO_UPDATE_NOTIFIER="1", NO_COLOR="1")
    return subprocess.run([NPM, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          input=stdin)


def npm_login_tty(rc: Path, cwd: Path, user: str, password: str):
    """`npm login --auth-type=legacy` answering its prompts on a pseudo-terminal, as a person would."""
    import pty
    import select
    master, slave = pty.openpty()
    env = dict(os.environ, npm_config_userconfig=str(rc), npm_config_cache=str(rc.parent / "npm-cache"),
               NO_UPDATE_NOTIFIER="1", NO_COLOR="1")
    proc = subprocess.Popen([NPM, "login", "--auth-type=legacy"], cwd=cwd, env=env, stdin=slave, stdout=slave,
                            stderr=subprocess.PIPE, close_fds=True)
    os.close(slave)
    seen = b""
    answers = [(b"Username:", user), (b"Password:", password)]
    deadline = 60
    while proc.poll() is None and deadline > 0:
        ready, _, _ = select.select([master], [], [], 0.5)
        deadline -= 0.5
        if not ready:
            continue
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        seen += chunk
        if answers and answers[0][0] in seen:
            os.write(master, (answers.pop(0)[1] + "\n").encode())
            seen = b""
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, proc.stderr.read().decode()


def package(root: Path, name: str, version: str, body: str, **extra) -> Path:
    pkg = root / ("%s-%s" % (name.replace("/", "__"), version))
    pkg.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": version, "description": "arca test package", "main": "index.js",
                "license": "MIT"}
    manifest.update(extra)
    (pkg / "package.json").write_text(json.dumps(manifest))
    (pkg / "index.js").write_text(body)
    return pkg


def ticket_for(srv, uses=1000):
    token = srv.root_token()
    resp = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": token},
                       json={"left_num": uses})
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["value"]


@pytest.fixture(scope="module")
def world(srv, project, login, tmp_path_factory):
    repo = srv.create_repo(project, "npm")
    root = tmp_path_factory.mktemp("npm")
    rc = npmrc(root / ".npmrc", srv, repo, ticket_for(srv))
    names = {"plain": unique("greet").replace("_", "-"), "scoped": "@acme/%s" % unique("util").replace("_", "-")}
    for version in ("1.0.0", "1.1.0"):
        pkg = package(root / "src", names["plain"], version, "module.exports = () => 'hello %s';\n" % version)
        out = npm(rc, pkg, "publish")
        assert out.returncode == 0, out.stderr
    scoped = package(root / "src", names["scoped"], "0.1.0", "module.exports = 'scoped';\n")
    out = npm(rc, scoped, "publish")
    assert out.returncode == 0, out.stderr
    return {"repo": repo, "root": root, "rc": rc, **names}


def test_install_plain_and_scoped(srv, world, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", "private": True}))
    out = npm(world["rc"], app, "install", world["plain"], world["scoped"])
    assert out.returncode == 0, out.stderr
    run = subprocess.run(["node", "-e", "console.log(require(%r)(), require(%r))" % (world["plain"], world["scoped"])],
                         cwd=app, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "hello 1.1.0 scoped", run.stderr
    lock = json.loads((app / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/%s" % world["plain"]]
    assert entry["version"] == "1.1.0" and entry["integrity"].startswith("sha512-")


def test_packument_integrity_matches_the_tarball(srv, world, login):
    url = registry_url(srv, world["repo"]) + world["scoped"].replace("/", "%2f")
    full = requests.get(url, auth=login, timeout=10).json()
    assert full["name"] == world["scoped"] and full["dist-tags"]["latest"] == "0.1.0"
    dist = full["versions"]["0.1.0"]["dist"]
    tarball = requests.get(dist["tarball"], auth=login, timeout=10)
    assert tarball.status_code == 200
    assert dist["shasum"] == hashlib.sha1(tarball.content).hexdigest()
    assert dist["integrity"] == "sha512-" + base64.b64encode(hashlib.sha512(tarball.content).digest()).decode()
    small = requests.get(url, auth=login, headers={"Accept": ABBREVIATED}, timeout=10)
    assert small.headers["Content-Type"].startswith(ABBREVIATED)
    doc = small.json()
    assert set(doc) == {"name", "modified", "dist-tags", "versions"}
    assert "description" not in doc["versions"]["0.1.0"] and doc["versions"]["0.1.0"]["dist"] == dist


def test_dist_tags(srv, world, tmp_path):
    rc, name = world["rc"], world["plain"]
    out = npm(rc, tmp_path, "dist-tag", "add", "%s@1.0.0" % name, "stable")
    assert out.returncode == 0, out.stderr
    listed = npm(rc, tmp_path, "dist-tag", "ls", name)
    assert "stable: 1.0.0" in listed.stdout and "latest: 1.1.0" in listed.stdout
    out = npm(rc, tmp_path, "dist-tag", "rm", name, "stable")
    assert out.returncode == 0, out.stderr
    assert "stable" not in npm(rc, tmp_path, "dist-tag", "ls", name).stdout


def test_deprecate_shows_on_install(srv, world, tmp_path):
    rc, name = world["rc"], world["plain"]
    out = npm(rc, tmp_path, "deprecate", "%s@1.0.0" % name, "use 1.1.0 instead")
    assert out.returncode == 0, out.stderr
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", "private": True}))
    out = npm(rc, app, "install", "%s@1.0.0" % name)
    assert out.returncode == 0, out.stderr
    assert "use 1.1.0 instead" in out.stderr
    view = npm(rc, tmp_path, "view", "%s@1.0.0" % name, "deprecated")
    assert "use 1.1.0 instead" in view.stdout
    npm(rc, tmp_path, "deprecate", "%s@1.0.0" % name, "")
    assert npm(rc, tmp_path, "view", "%s@1.0.0" % name, "deprecated").stdout.strip() == ""


def test_unpublish_goes_to_the_recycle_bin(srv, project, world, login, tmp_path):
    rc = world["rc"]
    name = unique("gone").replace("_", "-")
    for version in ("1.0.0", "1.0.1"):
        out = npm(rc, package(tmp_path, name, version, "module.exports = %r;\n" % version), "publish")
        assert out.returncode == 0, out.stderr
    out = npm(rc, tmp_path, "unpublish", "%s@1.0.1" % name, "--force")
    assert out.returncode == 0, out.stderr
    doc = requests.get(registry_url(srv, world["repo"]) + name, auth=login, timeout=10).json()
    assert list(doc["versions"]) == ["1.0.0"] and doc["dist-tags"]["latest"] == "1.0.0"
    # Restoring the tarball from the recycle bin brings the version back.
    srv.artifact_client().batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(
        id=world["repo"], uri="/%s/-/%s-1.0.1.tgz" % (name, name))]))
    doc = requests.get(registry_url(srv, world["repo"]) + name, auth=login, timeout=10).json()
    assert sorted(doc["versions"]) == ["1.0.0", "1.0.1"]
    republish = npm(rc, package(tmp_path / "again", name, "1.0.1", "x"), "publish")
    assert republish.returncode != 0 and "previously published" in republish.stderr


def test_login_and_whoami_with_the_repo_user(srv, world, login, tmp_path):
    rc = npmrc(tmp_path / ".npmrc", srv, world["repo"])
    code, err = npm_login_tty(rc, tmp_path, *login)
    assert code == 0, err
    assert "_authToken" in rc.read_text()
    who = npm(rc, tmp_path, "whoami")
    assert who.returncode == 0, who.stderr
    assert who.stdout.strip() == login[0]


def test_auth_failures(srv, project, world, login, tmp_path):
    name = unique("denied").replace("_", "-")
    pkg = package(tmp_path, name, "1.0.0", "x")
    anon = npm(npmrc(tmp_path / "anon.npmrc", srv, world["repo"]), pkg, "publish")
    # npm knows it has no credentials for this registry before it asks.
    assert anon.returncode != 0 and ("ENEEDAUTH" in anon.stderr or "E401" in anon.stderr)
    bad = npm(npmrc(tmp_path / "bad.npmrc", srv, world["repo"], "not-a-token"), pkg, "publish")
    assert bad.returncode != 0 and "E401" in bad.stderr
    wrong = requests.put(registry_url(srv, world["repo"]) + "-/user/org.couchdb.user:%s" % login[0],
                         json={"name": login[0], "password": "wrong"}, timeout=10)
    assert wrong.status_code == 401 and "error" in wrong.json()
    login_rc = npmrc(tmp_path / "login.npmrc", srv, world["repo"])
    code, err = npm_login_tty(login_rc, tmp_path, login[0], "wrong-password")
    assert code != 0 and "E401" in err
    assert "_authToken" not in login_rc.read_text()
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    viewer_login = srv.repo_login(viewer)
    token = requests.put(registry_url(srv, world["repo"]) + "-/user/org.couchdb.user:%s" % viewer_login[0],
                         json={"name": viewer_login[0], "password": viewer_login[1]}, timeout=10).json()["token"]
    denied = npm(npmrc(tmp_path / "viewer.npmrc", srv, world["repo"], token), pkg, "publish")
    assert denied.returncode != 0 and "E403" in denied.stderr
    spent = ticket_for(srv, uses=1)
    rc = npmrc(tmp_path / "spent.npmrc", srv, world["repo"], spent)
    assert npm(rc, tmp_path, "view", world["plain"], "version").returncode == 0
    again = npm(rc, tmp_path, "view", world["plain"], "version")
    assert again.returncode != 0 and "E401" in again.stderr


def test_two_thousand_versions(srv, project, login):
    repo = srv.create_repo(project, "npm")
    url = registry_url(srv, repo) + "many"
    session = requests.Session()
    session.auth = login
    for i in range(2000):
        version = "1.0.%d" % i
        tarball = b"tarball %d" % i
        body = {"name": "many", "versions": {version: {"name": "many", "version": version}},
                "dist-tags": {"latest": version},
                "_attachments": {"many-%s.tgz" % version: {"data": base64.b64encode(tarball).decode(),
                                                           "length": len(tarball)}}}
        resp = session.put(url, json=body, timeout=10)
        assert resp.status_code == 201, resp.text
    full = session.get(url, timeout=30).json()
    assert len(full["versions"]) == 2000 and full["dist-tags"]["latest"] == "1.0.1999"
    assert full["versions"]["1.0.1999"]["dist"]["shasum"] == hashlib.sha1(b"tarball 1999").hexdigest()
    small = session.get(url, headers={"Accept": ABBREVIATED}, timeout=30).json()
    assert len(small["versions"]) == 2000
