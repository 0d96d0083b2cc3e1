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

from harness import FIGURES, ROLE_VIEWER, proc_status_kib, unique

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


def npm_login_tty(rc: Path, cwd: Path, user: str, password: str, args=("--auth-type=legacy",)):
    """`npm login` answering its prompts on a pseudo-terminal, as a person would."""
    import pty
    import select
    master, slave = pty.openpty()
    env = dict(os.environ, npm_config_userconfig=str(rc), npm_config_cache=str(rc.parent / "npm-cache"),
               NO_UPDATE_NOTIFIER="1", NO_COLOR="1")
    proc = subprocess.Popen([NPM, "login", *args], cwd=cwd, env=env, stdin=slave, stdout=slave,
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


# npm 11 tries web login first (POST /-/v1/login); arca answers 404 there, so npm falls back to the
# user name and password prompts of the legacy login.
@pytest.mark.parametrize("args", [("--auth-type=legacy",), ()], ids=["legacy", "default"])
def test_login_and_whoami_with_the_repo_user(srv, world, login, tmp_path, args):
    rc = npmrc(tmp_path / ".npmrc", srv, world["repo"])
    code, err = npm_login_tty(rc, tmp_path, *login, args=args)
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


def test_scoped_tags_deprecation_and_unpublish(srv, world, login, tmp_path):
    """The client sends a scoped name as `@scope%2fname` in every path: dist-tags, deprecate, unpublish."""
    rc = world["rc"]
    name = "@acme/%s" % unique("life").replace("_", "-")
    for version, extra in (("1.0.0", ()), ("2.0.0-beta.1", ("--tag", "beta")), ("1.1.0", ())):
        out = npm(rc, package(tmp_path, name, version, "module.exports = %r;\n" % version), "publish", *extra)
        assert out.returncode == 0, out.stderr
    listed = npm(rc, tmp_path, "dist-tag", "ls", name).stdout
    assert "latest: 1.1.0" in listed and "beta: 2.0.0-beta.1" in listed
    assert npm(rc, tmp_path, "dist-tag", "add", "%s@1.0.0" % name, "lts").returncode == 0
    assert "lts: 1.0.0" in npm(rc, tmp_path, "dist-tag", "ls", name).stdout
    assert npm(rc, tmp_path, "dist-tag", "rm", name, "lts").returncode == 0
    assert "lts" not in npm(rc, tmp_path, "dist-tag", "ls", name).stdout
    # A tag that reads as a SemVer range is refused by arca too, not only by the client.
    tags_url = registry_url(srv, world["repo"]) + "-/package/%s/dist-tags/" % name.replace("/", "%2f")
    bad = requests.put(tags_url + "1.0", json="1.0.0", auth=login, timeout=10)
    assert bad.status_code == 400 and "error" in bad.json()
    assert requests.put(tags_url + "lts", json="9.9.9", auth=login, timeout=10).status_code == 404

    out = npm(rc, tmp_path, "deprecate", "%s@<1.1.0" % name, "move to 1.1")
    assert out.returncode == 0, out.stderr
    assert npm(rc, tmp_path, "view", "%s@1.0.0" % name, "deprecated").stdout.strip() == "move to 1.1"
    assert npm(rc, tmp_path, "view", "%s@1.1.0" % name, "deprecated").stdout.strip() == ""
    small = requests.get(registry_url(srv, world["repo"]) + name.replace("/", "%2f"), auth=login,
                         headers={"Accept": ABBREVIATED}, timeout=10).json()
    assert small["versions"]["1.0.0"]["deprecated"] == "move to 1.1"
    assert "deprecated" not in small["versions"]["2.0.0-beta.1"]

    out = npm(rc, tmp_path, "unpublish", "%s@1.1.0" % name, "--force")
    assert out.returncode == 0, out.stderr
    doc = requests.get(registry_url(srv, world["repo"]) + name.replace("/", "%2f"), auth=login, timeout=10).json()
    assert sorted(doc["versions"]) == ["1.0.0", "2.0.0-beta.1"]
    assert doc["dist-tags"]["latest"] in doc["versions"] and doc["dist-tags"]["beta"] == "2.0.0-beta.1"
    gone = requests.get(registry_url(srv, world["repo"]) + "%s/-/%s-1.1.0.tgz" % (name, name.split("/")[1]),
                        auth=login, timeout=10)
    assert gone.status_code == 404 and "error" in gone.json()
    # The deprecation survived the unpublish of another version.
    assert npm(rc, tmp_path, "view", "%s@1.0.0" % name, "deprecated").stdout.strip() == "move to 1.1"
    # Unpublishing the rest removes the package.
    out = npm(rc, tmp_path, "unpublish", name, "--force")
    assert out.returncode == 0, out.stderr
    missing = npm(rc, tmp_path, "view", name)
    assert missing.returncode != 0 and "E404" in missing.stderr


def test_unpublish_is_a_delete_and_deprecate_an_upload(srv, tmp_path):
    """Privileges as README says: unpublishing a version needs `delete` on its tarball, deprecating and
    dist-tags need `upload`. Two roles whose grants hold one of the two each."""
    project = srv.create_project()
    repo = srv.create_repo(project, "npm")
    rc = npmrc(tmp_path / "root.npmrc", srv, repo, ticket_for(srv))
    name = unique("perm").replace("_", "-")
    for version in ("1.0.0", "1.0.1", "1.0.2"):
        out = npm(rc, package(tmp_path, name, version, "module.exports = %r;\n" % version), "publish")
        assert out.returncode == 0, out.stderr
    rcs = {}
    for label, role, ops in (("deleter", 6, "download,delete"), ("uploader", 7, "download,upload")):
        user = srv.create_user()
        srv.add_member(project, user.user_id, role)
        held = srv.privileges(user, project)
        srv.set_role_grants(held["role_id"].rstrip(","), [
            {"project_id": project, "granted_object_path": "/%s/*" % repo, "operations": ops}])
        repo_user = srv.repo_login(user)
        token = requests.put(registry_url(srv, repo) + "-/user/org.couchdb.user:%s" % repo_user[0],
                             json={"name": repo_user[0], "password": repo_user[1]}, timeout=10).json()["token"]
        rcs[label] = npmrc(tmp_path / ("%s.npmrc" % label), srv, repo, token)

    def versions():
        return sorted(json.loads(npm(rc, tmp_path, "view", name, "versions", "--json").stdout))

    denied = npm(rcs["uploader"], tmp_path, "unpublish", "%s@1.0.2" % name, "--force")
    assert denied.returncode != 0 and "E403" in denied.stderr
    assert versions() == ["1.0.0", "1.0.1", "1.0.2"]
    denied = npm(rcs["deleter"], tmp_path, "deprecate", "%s@1.0.0" % name, "old")
    assert denied.returncode != 0 and "E403" in denied.stderr
    denied = npm(rcs["deleter"], tmp_path, "dist-tag", "add", "%s@1.0.0" % name, "old")
    assert denied.returncode != 0 and "E403" in denied.stderr
    assert npm(rc, tmp_path, "view", "%s@1.0.0" % name, "deprecated").stdout.strip() == ""

    out = npm(rcs["uploader"], tmp_path, "deprecate", "%s@1.0.0" % name, "old")
    assert out.returncode == 0, out.stderr
    out = npm(rcs["deleter"], tmp_path, "unpublish", "%s@1.0.2" % name, "--force")
    assert out.returncode == 0, out.stderr
    assert versions() == ["1.0.0", "1.0.1"]
    assert npm(rc, tmp_path, "view", name, "dist-tags.latest").stdout.strip() == "1.0.1"
    assert npm(rc, tmp_path, "view", "%s@1.0.0" % name, "deprecated").stdout.strip() == "old"


def test_tarball_downloads_are_conditional_and_ranged(srv, world, login):
    doc = requests.get(registry_url(srv, world["repo"]) + world["plain"], auth=login, timeout=10).json()
    url = doc["versions"]["1.1.0"]["dist"]["tarball"]
    whole = requests.get(url, auth=login, timeout=10)
    assert whole.status_code == 200 and len(whole.content) > 20
    assert whole.headers["ETag"] == '"%s"' % hashlib.sha256(whole.content).hexdigest()
    part = requests.get(url, auth=login, headers={"Range": "bytes=5-14"}, timeout=10)
    assert part.status_code == 206 and part.content == whole.content[5:15]
    assert part.headers["Content-Range"] == "bytes 5-14/%d" % len(whole.content)
    assert requests.get(url, auth=login, headers={"If-None-Match": whole.headers["ETag"]},
                        timeout=10).status_code == 304
    head = requests.head(url, auth=login, timeout=10)
    assert head.status_code == 200 and head.headers["Content-Length"] == str(len(whole.content))


def test_errors_are_npm_shaped(srv, world, login, tmp_path):
    base = registry_url(srv, world["repo"])
    missing = requests.get(base + "no-such-package", auth=login, timeout=10)
    assert missing.status_code == 404 and set(missing.json()) == {"error"}
    anon = requests.get(base + world["plain"], timeout=10)
    assert anon.status_code == 401 and anon.headers["WWW-Authenticate"].startswith("Basic")
    assert set(anon.json()) == {"error"}
    bad_name = requests.get(base + "Not_A_Name", auth=login, timeout=10)
    assert bad_name.status_code == 400 and "error" in bad_name.json()
    view = npm(world["rc"], tmp_path, "view", "no-such-package")
    assert view.returncode != 0 and "E404" in view.stderr


def test_a_tarball_name_over_255_bytes_is_refused(srv, world, login, tmp_path):
    """Found by the npm_document fuzz target: a valid name and a valid 240-character SemVer version made a
    tarball name no artifact path can hold; it was stored, and the management API could not address it."""
    name = unique("long").replace("_", "-")
    version = "1.0.0-" + "a" * 240
    pkg = tmp_path / "long"  # package() names its directory after the version: too long a name here
    pkg.mkdir()
    (pkg / "package.json").write_text(json.dumps({"name": name, "version": version, "license": "MIT"}))
    (pkg / "index.js").write_text("module.exports = 1;\n")
    out = npm(world["rc"], pkg, "publish", "--tag", "long")
    assert out.returncode != 0 and "E400" in out.stderr, out.stderr
    assert "version" in out.stderr
    missing = requests.get(registry_url(srv, world["repo"]) + name, auth=login, timeout=10)
    assert missing.status_code == 404


def test_public_url_is_written_into_tarball_urls(start_arca):
    other = start_arca(["--public-url", "https://npm.example.test/mirror/"])
    project = other.create_project()
    repo = other.create_repo(project, "npm")
    login = other.repo_login()
    tarball = b"public url"
    body = {"name": "pub", "versions": {"1.0.0": {"name": "pub", "version": "1.0.0"}},
            "_attachments": {"pub-1.0.0.tgz": {"data": base64.b64encode(tarball).decode(), "length": len(tarball)}}}
    url = registry_url(other, repo) + "pub"
    assert requests.put(url, json=body, auth=login, timeout=10).status_code == 201
    dist = requests.get(url, auth=login, timeout=10).json()["versions"]["1.0.0"]["dist"]
    assert dist["tarball"] == "https://npm.example.test/mirror/artifactory/api/npm/%s/pub/-/pub-1.0.0.tgz" % repo
    cargo = other.create_repo(project, "cargo")
    config = requests.get(other.url("/artifactory/api/cargo/%s/index/config.json" % cargo), auth=login,
                          timeout=10).json()
    assert config["dl"].startswith("https://npm.example.test/mirror/artifactory/api/cargo/%s/" % cargo)


def test_outdated_documents_conflict_and_concurrent_tags_all_land(srv, world, login):
    """A document edited from an outdated `_rev` is a 409 (npm prints it), as CouchDB answers; concurrent
    `dist-tag add` calls each keep their tag."""
    base = registry_url(srv, world["repo"])
    name = unique("rev").replace("_", "-")
    for version in ("1.0.0", "1.0.1"):
        tarball = b"rev %s" % version.encode()
        doc = {"name": name, "versions": {version: {"name": name, "version": version}},
               "_attachments": {"%s-%s.tgz" % (name, version): {"data": base64.b64encode(tarball).decode(),
                                                               "length": len(tarball)}}}
        assert requests.put(base + name, json=doc, auth=login, timeout=10).status_code == 201
    read = requests.get(base + name, params={"write": "true"}, auth=login, timeout=10).json()
    tags_url = base + "-/package/%s/dist-tags/" % name
    assert requests.put(tags_url + "moved", json="1.0.0", auth=login, timeout=10).status_code == 201
    stale = dict(read)
    stale["versions"] = {"1.0.0": read["versions"]["1.0.0"]}  # an unpublish of 1.0.1 from the old read
    resp = requests.put(base + "%s/-rev/%s" % (name, read["_rev"]), json=stale, auth=login, timeout=10)
    assert resp.status_code == 409 and "error" in resp.json()
    deprecate = dict(read)
    deprecate["versions"] = {v: dict(m, deprecated="stale") for v, m in read["versions"].items()}
    assert requests.put(base + name, json=deprecate, auth=login, timeout=10).status_code == 409
    fresh = requests.get(base + name, params={"write": "true"}, auth=login, timeout=10).json()
    assert sorted(fresh["versions"]) == ["1.0.0", "1.0.1"] and "deprecated" not in fresh["versions"]["1.0.0"]
    fresh["versions"]["1.0.0"]["deprecated"] = "current"
    assert requests.put(base + name, json=fresh, auth=login, timeout=10).status_code == 200

    from concurrent.futures import ThreadPoolExecutor
    labels = ["t%d" % i for i in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda t: requests.put(tags_url + t, json="1.0.1", auth=login, timeout=30).status_code,
                              labels))
    assert codes == [201] * len(labels)
    tags = requests.get(base + "-/package/%s/dist-tags" % name, auth=login, timeout=10).json()
    assert all(tags.get(t) == "1.0.1" for t in labels), tags
    # Unpublishing the whole package from an outdated read is refused too.
    resp = requests.delete(base + "%s/-rev/%s" % (name, read["_rev"]), auth=login, timeout=10)
    assert resp.status_code == 409 and "error" in resp.json()
    assert requests.get(base + name, auth=login, timeout=10).status_code == 200
    current = requests.get(base + name, params={"write": "true"}, auth=login, timeout=10).json()["_rev"]
    assert requests.delete(base + "%s/-rev/%s" % (name, current), auth=login, timeout=10).status_code == 200
    assert requests.get(base + name, auth=login, timeout=10).status_code == 404



def test_large_publish_holds_the_document_once(start_arca):
    """A publish document carries its tarball in base64 and is read whole; the tarball is decoded into the
    blob store a chunk at a time, so the server's memory grows by about the document, not by the document
    plus a parsed copy plus the decoded tarball (which took 3.75 times the document before)."""
    srv = start_arca()
    project = srv.create_project()
    repo = srv.create_repo(project, "npm")
    login = srv.repo_login()
    pid = srv.proc.pid
    idle_kib = proc_status_kib(pid, "VmRSS")
    tarball = os.urandom(48 << 20)
    doc = {"name": "big", "versions": {"1.0.0": {"name": "big", "version": "1.0.0", "dist": {
        "shasum": hashlib.sha1(tarball).hexdigest(),
        "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()}}},
        "_attachments": {"big-1.0.0.tgz": {"data": base64.b64encode(tarball).decode(), "length": len(tarball)}}}
    body = json.dumps(doc).encode()
    del doc
    url = registry_url(srv, repo) + "big"
    resp = requests.put(url, data=body, headers={"Content-Type": "application/json"}, auth=login, timeout=120)
    assert resp.status_code == 201, resp.text
    grown_kib = proc_status_kib(pid, "VmHWM") - idle_kib
    doc_kib = len(body) // 1024
    FIGURES.append("npm publish of a %d MiB document (48 MiB tarball): server memory grew by %.1f MiB (VmHWM over "
                   "idle RSS; limit 1.5 x the document)" % (doc_kib // 1024, grown_kib / 1024))
    assert grown_kib < 1.5 * doc_kib, (grown_kib, doc_kib)
    dist = requests.get(url, auth=login, timeout=10).json()["versions"]["1.0.0"]["dist"]
    assert dist["shasum"] == hashlib.sha1(tarball).hexdigest()
    served = requests.get(dist["tarball"], auth=login, timeout=60)
    assert hashlib.sha256(served.content).digest() == hashlib.sha256(tarball).digest()


def test_anonymous_install_follows_the_repository_switch(srv, project, tmp_path):
    from huaweicloudsdkcodeartsartifact.v2 import UpdateArtifactoryRequest, UpdateNotMavenRepoDO
    repo = srv.create_repo(project, "npm")
    rc = npmrc(tmp_path / "pub.npmrc", srv, repo, ticket_for(srv))
    name = unique("open").replace("_", "-")
    out = npm(rc, package(tmp_path, name, "1.0.0", "module.exports = 'open';\n"), "publish")
    assert out.returncode == 0, out.stderr
    (tmp_path / "anon").mkdir()
    anon_rc = npmrc(tmp_path / "anon" / ".npmrc", srv, repo)  # its own npm cache beside it

    def install(label):
        app = tmp_path / label
        app.mkdir()
        (app / "package.json").write_text(json.dumps({"name": label, "version": "1.0.0", "private": True}))
        return npm(anon_rc, app, "install", name)

    closed = install("closed")
    assert closed.returncode != 0 and "E401" in closed.stderr
    client = srv.artifact_client()
    client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(repo_name=repo, allow_anonymous=True)))
    opened = install("opened")
    assert opened.returncode == 0, opened.stderr
    assert (tmp_path / "opened" / "node_modules" / name / "index.js").read_text() == "module.exports = 'open';\n"
    # Reading is all it opens.
    denied = npm(anon_rc, package(tmp_path / "anon-src", name, "1.0.1", "x"), "publish")
    assert denied.returncode != 0 and ("ENEEDAUTH" in denied.stderr or "E401" in denied.stderr)
