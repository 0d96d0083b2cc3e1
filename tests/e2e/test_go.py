"""Issue 16: Go modules through the GOPROXY protocol with the real go command — modules published as zips
built here by the module zip rules, a consumer that downloads and builds them (a case-encoded module
path included), versions that are never replaced, privileges (Viewer, tickets, anonymous), hostile zips
refused with 400 naming the problem, and a zip deleted through the CodeArts API leaving @v/list (and
answering 410)."""

import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    BatchRestoreRepoRequest, DeleteArtifactFileRequest, DeleteRepositoryRequest, IDERepoRevisionModel,
    IDETrashArtifactModel, PathMap, UpdateArtifactoryRequest,
    UpdateNotMavenRepoDO)

from harness import ROLE_VIEWER, unique

GO = shutil.which("go")
pytestmark = pytest.mark.skipif(GO is None, reason="the go command (Debian's golang-go) is not installed")


def escape(text: str) -> str:
    """The GOPROXY case-encoding: each upper-case letter as `!` and its lower case."""
    return "".join("!" + c.lower() if c.isupper() else c for c in text)


def module_zip(module: str, version: str, files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr("%s@%s/%s" % (module, version, name), content)
    return buffer.getvalue()


def greet_files(module: str, text: str, with_go_mod: bool = True) -> dict:
    files = {"greet.go": 'package greet\n\nfunc Hello() string { return "%s" }\n' % text}
    if with_go_mod:
        files["go.mod"] = "module %s\n\ngo 1.19\n" % module
    return files


def base(srv, repo: str) -> str:
    return srv.url("/artifactory/api/go/%s" % repo)


def put(srv, repo, module, version, ext, body, auth):
    url = "%s/%s/@v/%s.%s" % (base(srv, repo), escape(module), escape(version), ext)
    return requests.put(url, data=body, auth=auth, timeout=30)


def get(srv, repo, module, rest, auth):
    return requests.get("%s/%s/%s" % (base(srv, repo), escape(module), rest), auth=auth, timeout=30)


def go_env(root: Path, proxy: str) -> dict:
    root.mkdir(parents=True, exist_ok=True)
    return dict(os.environ, GOPROXY=proxy, GOFLAGS="-mod=mod", GONOSUMDB="*", GONOSUMCHECK="1", GOSUMDB="off",
                GOPATH=str(root / "gopath"), GOCACHE=str(root / "gocache"), HOME=str(root), GO111MODULE="on",
                GOTOOLCHAIN="local", CGO_ENABLED="0")


def go(env, cwd, *args):
    return subprocess.run([GO, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def consumer(root: Path, module: str, version: str) -> Path:
    app = root / "app"
    app.mkdir(parents=True, exist_ok=True)
    (app / "go.mod").write_text("module example.com/consumer\n\ngo 1.19\n\nrequire %s %s\n" % (module, version))
    (app / "main.go").write_text('package main\n\nimport (\n\t"fmt"\n\n\tgreet "%s"\n)\n\n'
                                 'func main() { fmt.Println(greet.Hello()) }\n' % module)
    return app


@pytest.fixture(scope="module")
def world(srv, project, login):
    """A private repository and one open to anonymous reads, each with v1.0.0 and v1.1.0 of a module.
    The go command sends credentials over https only (never to an http:// GOPROXY, whether in the URL or
    in .netrc), so against this plain-http test server it reads the open repository."""
    repo, open_repo = srv.create_repo(project, "go"), srv.create_repo(project, "go")
    srv.artifact_client().update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=open_repo, allow_anonymous=True)))
    # Upper case in the module path: the proxy URLs and the stored paths are case-encoded.
    module = "example.com/%s/Greet" % unique("Arca")
    for name in (repo, open_repo):
        for version, text in (("v1.0.0", "hello"), ("v1.1.0", "hello again")):
            zipped = module_zip(module, version, greet_files(module, text))
            resp = put(srv, name, module, version, "zip", zipped, login)
            assert resp.status_code == 201, resp.text
            assert resp.json()["Version"] == version and resp.json()["Time"].endswith("Z")
    return {"repo": repo, "open": open_repo, "module": module}


def test_the_go_command_downloads_and_builds_a_published_module(srv, world, login, tmp_path):
    repo, module = world["repo"], world["module"]
    listed = get(srv, repo, module, "@v/list", login)
    assert listed.status_code == 200 and listed.text.split() == ["v1.0.0", "v1.1.0"]
    latest = get(srv, repo, module, "@latest", login).json()
    assert latest["Version"] == "v1.1.0"
    env = go_env(tmp_path, base(srv, world["open"]))
    app = consumer(tmp_path, module, "v1.1.0")
    out = go(env, app, "mod", "download", "-x", module)
    assert out.returncode == 0, out.stderr
    cache = tmp_path / "gopath/pkg/mod/cache/download" / escape(module) / "@v"
    assert (cache / "v1.1.0.zip").is_file() and (cache / "v1.1.0.mod").is_file()
    out = go(env, app, "build", "-o", str(tmp_path / "prog"), ".")
    assert out.returncode == 0, out.stderr
    run = subprocess.run([str(tmp_path / "prog")], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "hello again"
    versions = go(env, app, "list", "-m", "-versions", module)
    assert versions.returncode == 0 and versions.stdout.split() == [module, "v1.0.0", "v1.1.0"], versions.stderr
    # `go get @latest` follows @v/list, and a missing version is the go command's "unknown revision".
    out = go(env, app, "get", module + "@v1.0.0")
    assert out.returncode == 0, out.stderr
    missing = go(env, app, "get", module + "@v9.9.9")
    assert missing.returncode != 0 and "v9.9.9" in missing.stderr


def test_the_served_files_follow_the_protocol(srv, world, login):
    repo, module = world["repo"], world["module"]
    info = get(srv, repo, module, "@v/v1.0.0.info", login)
    assert info.status_code == 200 and info.json()["Version"] == "v1.0.0"
    mod = get(srv, repo, module, "@v/v1.0.0.mod", login)
    assert mod.status_code == 200 and mod.text.startswith("module %s\n" % module)
    zipped = get(srv, repo, module, "@v/v1.0.0.zip", login)
    assert zipped.status_code == 200 and zipped.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        assert "%s@v1.0.0/greet.go" % module in archive.namelist()
    # The module path as typed (upper case, not encoded) is not a proxy path; an unknown one is a 404.
    raw = requests.get("%s/%s/@v/list" % (base(srv, repo), module), auth=login, timeout=10)
    assert raw.status_code == 400 and "module" in raw.text
    assert get(srv, repo, "example.com/nothing/here", "@v/list", login).status_code == 404
    assert get(srv, repo, module, "@v/v1.0.9.info", login).status_code == 404
    assert get(srv, repo, module, "@v/v1.0.9.zip", login).status_code == 404
    assert get(srv, repo, module, "@v/1.0.0.info", login).status_code == 400
    # Without credentials a private repository answers the challenge the go command needs.
    anonymous = requests.get("%s/%s/@v/list" % (base(srv, repo), escape(module)), timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic")


def test_a_version_is_never_replaced(srv, world, login):
    repo, module = world["repo"], world["module"]
    again = put(srv, repo, module, "v1.0.0", "zip", module_zip(module, "v1.0.0", greet_files(module, "other")), login)
    assert again.status_code == 409 and "already published" in again.text
    assert get(srv, repo, module, "@v/v1.0.0.zip", login).status_code == 200


def test_deleting_the_zip_hides_the_version_and_it_stays_unrepublishable(srv, project, login):
    repo = srv.create_repo(project, "go")
    module = "example.com/%s/gone" % unique("del")
    for version in ("v0.1.0", "v0.2.0"):
        resp = put(srv, repo, module, version, "zip", module_zip(module, version, greet_files(module, version)), login)
        assert resp.status_code == 201, resp.text
    zip_path = "/%s/%s/@v/v0.2.0.zip" % (repo, escape(module))
    srv.artifact_client().delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path=zip_path)))
    assert get(srv, repo, module, "@v/list", login).text.split() == ["v0.1.0"]
    assert get(srv, repo, module, "@latest", login).json()["Version"] == "v0.1.0"
    # Deleted: 410 Gone, which the go command takes as "not found" like a 404.
    for ext in ("info", "mod", "zip"):
        assert get(srv, repo, module, "@v/v0.2.0." + ext, login).status_code == 410
    again = put(srv, repo, module, "v0.2.0", "zip", module_zip(module, "v0.2.0", greet_files(module, "x")), login)
    assert again.status_code == 409
    # Restoring the zip from the recycle bin brings the version back.
    srv.artifact_client().batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(
        id=repo, uri="/%s/@v/v0.2.0.zip" % escape(module))]))
    assert get(srv, repo, module, "@v/list", login).text.split() == ["v0.1.0", "v0.2.0"]


def test_a_mod_file_uploaded_with_the_zip(srv, project, login):
    repo = srv.create_repo(project, "go")
    module = "example.com/%s/nomod" % unique("mod")
    own = "module %s\n\ngo 1.19\n\nrequire example.com/x v1.0.0\n" % module
    # Before the zip the .mod waits for it; the version appears with the zip.
    assert put(srv, repo, module, "v1.0.0", "mod", own, login).status_code == 201
    assert get(srv, repo, module, "@v/list", login).status_code == 404
    resp = put(srv, repo, module, "v1.0.0", "zip",
               module_zip(module, "v1.0.0", greet_files(module, "x", with_go_mod=False)), login)
    assert resp.status_code == 201, resp.text
    assert get(srv, repo, module, "@v/v1.0.0.mod", login).text == own
    assert put(srv, repo, module, "v1.0.0", "mod", own, login).status_code == 200
    assert put(srv, repo, module, "v1.0.0", "mod", "module %s\n" % module, login).status_code == 409
    # Without a .mod the zip's go.mod is served, or `module <path>` when the zip has none.
    put(srv, repo, module, "v1.1.0", "zip", module_zip(module, "v1.1.0", greet_files(module, "x", False)), login)
    assert get(srv, repo, module, "@v/v1.1.0.mod", login).text == "module %s\n" % module
    put(srv, repo, module, "v1.2.0", "zip", module_zip(module, "v1.2.0", greet_files(module, "x")), login)
    assert get(srv, repo, module, "@v/v1.2.0.mod", login).text == "module %s\n\ngo 1.19\n" % module
    # A .mod must name the module, and after the zip equal the zip's go.mod.
    wrong = put(srv, repo, module, "v1.3.0", "mod", "module example.com/other\n", login)
    assert wrong.status_code == 400 and "example.com/other" in wrong.text
    differs = put(srv, repo, module, "v1.2.0", "mod", "module %s\n\ngo 1.21\n" % module, login)
    assert differs.status_code == 400 and "zip" in differs.text
    # A .mod sent before a zip whose go.mod differs refuses the zip.
    put(srv, repo, module, "v1.4.0", "mod", "module %s\n// mine\n" % module, login)
    clash = put(srv, repo, module, "v1.4.0", "zip", module_zip(module, "v1.4.0", greet_files(module, "x")), login)
    assert clash.status_code == 400 and "go.mod" in clash.text
    # .info is generated; one sent must agree on the version.
    info = put(srv, repo, module, "v1.2.0", "info", '{"Version":"v1.2.0","Time":"2020-01-01T00:00:00Z"}', login)
    assert info.status_code == 200 and info.json()["Time"] != "2020-01-01T00:00:00Z"
    assert put(srv, repo, module, "v1.2.0", "info", '{"Version":"v9.0.0"}', login).status_code == 400


@pytest.mark.parametrize("case, files_of, problem", [
    ("dotdot", lambda m, v: {"%s@%s/../evil.go" % (m, v): "x"}, "not a clean relative path"),
    ("absolute", lambda m, v: {"/etc/evil.go": "x"}, "not under"),
    ("backslash", lambda m, v: {"%s@%s/a\\b.go" % (m, v): "x"}, "not a clean relative path"),
    ("prefix", lambda m, v: {"example.com/other@%s/a.go" % v: "x"}, "not under"),
    ("case", lambda m, v: {"%s@%s/A.go" % (m, v): "x", "%s@%s/a.go" % (m, v): "y"}, "differ only in case"),
    ("twice", lambda m, v: [("%s@%s/a.go" % (m, v), "x"), ("%s@%s/a.go" % (m, v), "y")], "twice"),
    ("case dirs", lambda m, v: {"%s@%s/Sub/a.go" % (m, v): "x", "%s@%s/sub/b.go" % (m, v): "y"},
     "differ only in case"),
    ("module", lambda m, v: {"%s@%s/go.mod" % (m, v): "module example.com/else\n"}, "declares module"),
    ("nested go.mod", lambda m, v: {"%s@%s/sub/go.mod" % (m, v): "module %s/sub\n" % m}, "module root"),
])
@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_hostile_zips_are_refused_naming_the_problem(srv, world, login, case, files_of, problem):
    repo, module, version = world["repo"], world["module"], "v1.5.0"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        entries = files_of(module, version)
        for name, content in (entries.items() if isinstance(entries, dict) else entries):
            archive.writestr(zipfile.ZipInfo(name), content)
    resp = put(srv, repo, module, version, "zip", buffer.getvalue(), login)
    assert resp.status_code == 400, (case, resp.text)
    assert "'zip'" in resp.text and problem in resp.text, resp.text
    assert "v1.5.0" not in get(srv, repo, module, "@v/list", login).text


def test_bad_versions_and_sizes_are_refused(srv, world, login):
    repo, module = world["repo"], world["module"]
    for version, problem in (("v2.0.0", "/v2"), ("v1.0", "is not a version"), ("v1.0.0+build", "is not a version")):
        resp = put(srv, repo, module, version, "zip", module_zip(module, version, greet_files(module, "x")), login)
        assert resp.status_code == 400 and "'version'" in resp.text and problem in resp.text, resp.text
    not_zip = put(srv, repo, module, "v1.6.0", "zip", b"not a zip", login)
    assert not_zip.status_code == 400 and "not a valid zip" in not_zip.text
    # Over 500 MiB uncompressed (zeros deflate to almost nothing).
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("%s@v1.6.0/big.bin" % module, "w", force_zip64=True) as entry:
            chunk = bytes(1 << 20)
            for _ in range(501):
                entry.write(chunk)
    big = put(srv, repo, module, "v1.6.0", "zip", buffer.getvalue(), login)
    assert big.status_code == 400 and "500 MiB" in big.text


def test_privileges_viewer_ticket_and_anonymous(srv, project, world, login, tmp_path):
    repo, module = world["repo"], world["module"]
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    viewer_login = srv.repo_login(viewer)
    assert get(srv, repo, module, "@v/list", viewer_login).status_code == 200
    denied = put(srv, repo, module, "v1.7.0", "zip", module_zip(module, "v1.7.0", greet_files(module, "x")),
                 viewer_login)
    assert denied.status_code == 403 and "not allowed" in denied.text
    assert put(srv, repo, module, "v1.7.0", "zip", b"x", None).status_code == 401
    assert put(srv, world["open"], module, "v1.7.0", "zip", b"x", None).status_code == 401
    # A ticket as the password reads, until its uses run out.
    token = srv.root_token()
    ticket = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": token},
                         json={"left_num": 2}).json()["value"]
    for rest in ("@v/list", "@v/v1.0.0.zip"):
        assert get(srv, repo, module, rest, (srv.root.name, ticket)).status_code == 200
    assert get(srv, repo, module, "@v/list", (srv.root.name, ticket)).status_code == 401
    assert get(srv, repo, module, "@v/list", (login[0], "wrong")).status_code == 401
    # The go command reading the private repository without credentials gets the 401 and says so.
    out = go(go_env(tmp_path, base(srv, repo)), consumer(tmp_path, module, "v1.0.0"), "mod", "download", module)
    assert out.returncode != 0 and "401" in out.stderr, out.stderr


def test_go_repositories_are_hosted_and_answer_their_goproxy_url(srv, project, login):
    name = unique("gohost")
    resp = srv.signed("POST", "/cloudartifact/v5/artifact/", body={
        "format": "go", "type": "hosted", "repository_name": name, "project_id": project})
    assert resp.status_code == 200, resp.text
    view = resp.json()["result"]["artifactory"]
    assert view["format"] == "go" and view["url"] == base(srv, name)
    shown = srv.signed("GET", "/cloudartifact/v5/repositories/%s" % name).json()["result"]
    assert shown["url"] == base(srv, name)
    # Deleted like any repository (to the recycle bin): its proxy answers no more.
    srv.artifact_client().delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=name)))
    gone = requests.get(base(srv, name) + "/example.com/a/@v/list", auth=login, timeout=10)
    assert gone.status_code == 404 and "No go repository" in gone.text
    # Remote and virtual ones too (tests/e2e/test_go_remote.py), each with its own settings only.
    remote = srv.signed("POST", "/cloudartifact/v5/artifact/", body={
        "format": "go", "type": "remote", "repository_name": unique("gor"), "project_id": project,
        "remote_url": "https://proxy.golang.org"})
    assert remote.status_code == 200, remote.text
    stray = srv.signed("POST", "/cloudartifact/v5/artifact/", body={
        "format": "go", "type": "virtual", "repository_name": unique("gor"), "project_id": project,
        "remote_url": "https://proxy.golang.org"})
    assert stray.status_code == 400 and "remote_url" in stray.text, stray.text


def test_major_version_suffixes_and_pre_releases_with_the_go_command(srv, world, login, tmp_path):
    """A /v2 module beside its v1 and an upper-case pre-release (case-encoded in the URL too)."""
    repo = world["open"]
    module = "example.com/%s/multi" % unique("Major")
    v2 = module + "/v2"
    cases = ((module, "v1.0.0", "one"), (v2, "v2.0.0-RC.1", "two rc"), (v2, "v2.0.0", "two"),
             (v2, "v2.1.0-Beta", "two-one beta"))
    for path, version, text in cases:
        resp = put(srv, repo, path, version, "zip", module_zip(path, version, greet_files(path, text)), login)
        assert resp.status_code == 201, resp.text
    assert get(srv, repo, v2, "@v/list", login).text.split() == ["v2.0.0-RC.1", "v2.0.0", "v2.1.0-Beta"]
    assert get(srv, repo, v2, "@latest", login).json()["Version"] == "v2.0.0"
    assert requests.get("%s/%s/@v/v2.0.0-!r!c.1.info" % (base(srv, repo), escape(v2)), timeout=10).status_code == 200
    env = go_env(tmp_path, base(srv, repo))
    app = consumer(tmp_path, v2, "v2.0.0-RC.1")
    assert go(env, app, "build", "-o", str(tmp_path / "rc"), ".").returncode == 0
    assert subprocess.run([str(tmp_path / "rc")], capture_output=True, text=True).stdout.strip() == "two rc"
    out = go(env, app, "get", v2 + "@latest")
    assert out.returncode == 0, out.stderr
    assert "%s v2.0.0" % v2 in (app / "go.mod").read_text()
    versions = go(env, app, "list", "-m", "-versions", v2)
    assert versions.stdout.split() == [v2, "v2.0.0-RC.1", "v2.0.0", "v2.1.0-Beta"], versions.stderr


def test_a_zip_over_max_artifact_bytes_is_refused(start_arca):
    small = start_arca(extra_args=["--max-artifact-bytes", "4096"])
    repo = small.create_repo(small.create_project(), "go")
    login = small.repo_login()
    module = "example.com/limit/big"
    files = greet_files(module, "x")
    files["data.bin"] = os.urandom(6000)
    resp = put(small, repo, module, "v1.0.0", "zip", module_zip(module, "v1.0.0", files), login)
    assert resp.status_code == 413, resp.text
    assert get(small, repo, module, "@v/list", login).status_code == 404
    ok = put(small, repo, module, "v1.0.0", "zip", module_zip(module, "v1.0.0", greet_files(module, "x")), login)
    assert ok.status_code == 201, ok.text
