"""Issue 16: Go modules through remote and virtual repositories, with the real go command. The remote
repository's upstream is a second arca's hosted go repository; the virtual one groups a hosted repository
and that remote one. `go mod download` and `go build` of a consumer whose dependencies live in different
members; a module published through the virtual URL landing in its deploy repository; @v/list refreshed
after metadata_max_age_secs; a hostile zip (and a wrong go.mod) from an upstream refused and not kept; a
member the caller cannot read left out; a deleted version answering 410; the upstream stopped and the
cached versions still served."""

import io
import subprocess
import time
import zipfile

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import DeleteArtifactFileRequest, PathMap

from conftest import _start, _stop
from harness import ROLE_DEVELOPER, unique
from test_go import GO, base, escape, get, go, go_env, greet_files, module_zip, put
from upstream_server import StaticUpstream

ARCA_ARGS = ["--remote-allow-private-networks"]
ARTIFACT = "/cloudartifact/v5/artifact/"
pytestmark = pytest.mark.skipif(GO is None, reason="the go command (Debian's golang-go) is not installed")


def open_repo(server, name):
    """The go command sends no credentials to an http:// GOPROXY, so what it reads is open to anonymous reads."""
    resp = server.signed("PUT", ARTIFACT, body={"repo_name": name, "allow_anonymous": True})
    assert resp.status_code == 200, resp.text


def remote_go(srv, project, upstream_url, **settings):
    body = {"format": "go", "type": "remote", "repository_name": unique("gorem"), "project_id": project,
            "remote_url": upstream_url}
    body.update(settings)
    resp = srv.signed("POST", ARTIFACT, body=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["artifactory"]["url"] == base(srv, body["repository_name"])
    return body["repository_name"]


def virtual_go(srv, project, members, **settings):
    body = {"format": "go", "type": "virtual", "repository_name": unique("govirt"), "project_id": project,
            "repository_ids": members}
    body.update(settings)
    resp = srv.signed("POST", ARTIFACT, body=body)
    assert resp.status_code == 200, resp.text
    return body["repository_name"]


@pytest.fixture(scope="module")
def upstream_arca(tmp_path_factory):
    server = _start(tmp_path_factory.mktemp("go-upstream"))
    yield server
    if server.proc.poll() is None:
        _stop(server)


@pytest.fixture(scope="module")
def world(srv, project, login, upstream_arca):
    """Upstream: `lib` v1.0.0 and v1.1.0. Here: a hosted repository, a remote one of the upstream and a
    virtual one over both deploying to the hosted one, all open to anonymous reads; `ours` v1.0.0 published
    through the virtual URL."""
    up = upstream_arca
    up_repo = up.create_repo(up.create_project(), "go")
    open_repo(up, up_repo)
    up_login = up.repo_login()
    lib = "example.com/%s/Lib" % unique("up")
    for version, text in (("v1.0.0", "lib one"), ("v1.1.0", "lib two")):
        resp = put(up, up_repo, lib, version, "zip", module_zip(lib, version, greet_files(lib, text)), up_login)
        assert resp.status_code == 201, resp.text
    hosted = srv.create_repo(project, "go")
    upstream_url = base(up, up_repo)
    remote = remote_go(srv, project, upstream_url)
    front = virtual_go(srv, project, [hosted, remote], default_deploy_repository=hosted)
    for name in (hosted, remote, front):
        open_repo(srv, name)
    ours = "example.com/%s/ours" % unique("here")
    resp = put(srv, front, ours, "v1.0.0", "zip", module_zip(ours, "v1.0.0", greet_files(ours, "ours")), login)
    assert resp.status_code == 201, resp.text
    return {"up_repo": up_repo, "up_login": up_login, "upstream_url": upstream_url, "lib": lib, "ours": ours,
            "hosted": hosted, "remote": remote, "front": front}


def consumer(root, requires):
    """A program printing Hello() of each module it requires."""
    app = root / "app"
    app.mkdir(parents=True, exist_ok=True)
    lines = "".join("\t%s %s\n" % r for r in requires)
    (app / "go.mod").write_text("module example.com/consumer\n\ngo 1.19\n\nrequire (\n%s)\n" % lines)
    imports = "".join('\tm%d "%s"\n' % (i, m) for i, (m, _) in enumerate(requires))
    calls = "".join("\tfmt.Println(m%d.Hello())\n" % i for i in range(len(requires)))
    (app / "main.go").write_text('package main\n\nimport (\n\t"fmt"\n\n%s)\n\nfunc main() {\n%s}\n' % (imports, calls))
    return app


def build_and_run(tmp_path, proxy, requires):
    env = go_env(tmp_path, proxy)
    app = consumer(tmp_path, requires)
    out = go(env, app, "mod", "download", *[m for m, _ in requires])
    assert out.returncode == 0, out.stderr
    out = go(env, app, "build", "-o", str(tmp_path / "prog"), ".")
    assert out.returncode == 0, out.stderr
    run = subprocess.run([str(tmp_path / "prog")], capture_output=True, text=True, timeout=60)
    return run.stdout.split("\n")[:-1]


def test_publishing_through_the_virtual_lands_in_the_deploy_repository(srv, login, world):
    listed = get(srv, world["hosted"], world["ours"], "@v/list", login)
    assert listed.status_code == 200 and listed.text.split() == ["v1.0.0"]
    # A remote repository is read-only.
    refused = put(srv, world["remote"], world["lib"], "v9.0.0", "zip", b"x", login)
    assert refused.status_code == 405 and "remote" in refused.text


def test_the_go_command_builds_from_both_members_of_the_virtual(srv, world, tmp_path):
    lines = build_and_run(tmp_path, base(srv, world["front"]), [(world["lib"], "v1.1.0"), (world["ours"], "v1.0.0")])
    assert lines == ["lib two", "ours"]
    env = go_env(tmp_path, base(srv, world["front"]))
    versions = go(env, tmp_path / "app", "list", "-m", "-versions", world["lib"])
    assert versions.stdout.split() == [world["lib"], "v1.0.0", "v1.1.0"], versions.stderr


def test_the_remote_serves_the_upstreams_files_unchanged(srv, upstream_arca, world, tmp_path):
    lib, remote = world["lib"], world["remote"]
    for rest in ("@v/list", "@latest", "@v/v1.0.0.info", "@v/v1.0.0.mod", "@v/v1.0.0.zip"):
        here = get(srv, remote, lib, rest, None)
        there = get(upstream_arca, world["up_repo"], lib, rest, None)
        assert here.status_code == 200 and there.status_code == 200, (rest, here.text)
        assert here.content == there.content, rest
    assert get(srv, remote, lib, "@latest", None).json()["Version"] == "v1.1.0"
    assert get(srv, remote, lib, "@v/v9.9.9.zip", None).status_code == 404
    assert get(srv, remote, "example.com/nothing/here", "@v/list", None).status_code == 404
    # Through the remote alone, with the real go command.
    assert build_and_run(tmp_path, base(srv, remote), [(lib, "v1.0.0")]) == ["lib one"]


def test_the_virtual_unions_lists_and_picks_the_highest_latest(srv, login, world, upstream_arca):
    """`lib` v1.2.0-rc.1 here and v1.1.0 upstream: the list holds both members' versions, @latest the release."""
    lib, front = world["lib"], world["front"]
    resp = put(srv, world["hosted"], lib, "v1.2.0-rc.1", "zip", module_zip(lib, "v1.2.0-rc.1", greet_files(lib, "rc")),
               login)
    assert resp.status_code == 201, resp.text
    listed = get(srv, front, lib, "@v/list", None)
    assert listed.status_code == 200 and listed.text.split() == ["v1.2.0-rc.1", "v1.0.0", "v1.1.0"]
    assert get(srv, front, lib, "@latest", None).json()["Version"] == "v1.1.0"
    rc = get(srv, front, lib, "@v/v1.2.0-rc.1.info", None)
    assert rc.status_code == 200 and rc.json()["Version"] == "v1.2.0-rc.1"
    zipped = get(srv, front, lib, "@v/v1.1.0.zip", None)
    assert zipped.content == get(upstream_arca, world["up_repo"], lib, "@v/v1.1.0.zip", None).content
    # A version deleted from the hosted member: 410 when no member has it, 404 for one never published.
    srv.artifact_client().delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(
        path="/%s/%s/@v/v1.2.0-rc.1.zip" % (world["hosted"], escape(lib)))))
    for repo in (world["hosted"], front):
        gone = get(srv, repo, lib, "@v/v1.2.0-rc.1.zip", login)
        assert gone.status_code == 410 and "deleted" in gone.text, gone.text
    assert get(srv, front, lib, "@v/v1.2.0-rc.9.zip", None).status_code == 404
    assert get(srv, front, lib, "@v/list", None).text.split() == ["v1.0.0", "v1.1.0"]


def test_the_list_is_refreshed_after_metadata_max_age(srv, project, world, upstream_arca):
    lib = world["lib"]
    kept = remote_go(srv, project, world["upstream_url"], metadata_max_age_secs=3600)
    fresh = remote_go(srv, project, world["upstream_url"], metadata_max_age_secs=1)
    for repo in (kept, fresh):
        open_repo(srv, repo)
        assert get(srv, repo, lib, "@v/list", None).text.split() == ["v1.0.0", "v1.1.0"]
        assert get(srv, repo, lib, "@latest", None).json()["Version"] == "v1.1.0"
    resp = put(upstream_arca, world["up_repo"], lib, "v1.3.0", "zip",
               module_zip(lib, "v1.3.0", greet_files(lib, "lib three")), world["up_login"])
    assert resp.status_code == 201, resp.text
    time.sleep(1.5)
    assert get(srv, kept, lib, "@v/list", None).text.split() == ["v1.0.0", "v1.1.0"]
    assert get(srv, kept, lib, "@latest", None).json()["Version"] == "v1.1.0"
    assert get(srv, fresh, lib, "@v/list", None).text.split() == ["v1.0.0", "v1.1.0", "v1.3.0"]
    assert get(srv, fresh, lib, "@latest", None).json()["Version"] == "v1.3.0"


def hostile_zip(module, version):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("%s@%s/ok.go" % (module, version), "package ok\n")
        archive.writestr("%s@%s/../../evil.go" % (module, version), "package evil\n")
    return buffer.getvalue()


def test_a_hostile_upstream_is_refused_and_nothing_is_kept(srv, project, login, tmp_path):
    static = StaticUpstream(tmp_path / "goproxy")
    module = "example.com/hostile/mod"
    files = {"@v/list": b"v1.0.0\nv1.1.0\n",
             "@v/v1.0.0.info": b'{"Version":"v1.0.0","Time":"2024-01-01T00:00:00Z"}',
             "@v/v1.0.0.mod": b"module example.com/hostile/mod\n",
             "@v/v1.0.0.zip": hostile_zip(module, "v1.0.0"),
             "@v/v1.1.0.info": b'{"Version":"v2.0.0"}',
             "@v/v1.1.0.mod": b"module example.com/someone/else\n",
             "@v/v1.1.0.zip": module_zip(module, "v1.1.0", greet_files(module, "fine"))}
    for rest, data in files.items():
        static.put("%s/%s" % (module, rest), data)
    repo = remote_go(srv, project, static.url)
    zip_path = "/%s/@v/v1.0.0.zip" % module
    for attempt in (1, 2):
        refused = get(srv, repo, module, "@v/v1.0.0.zip", login)
        assert refused.status_code == 502, refused.text
        assert "module zip rules" in refused.text and "clean relative path" in refused.text, refused.text
        assert "evil" not in refused.text, "the upstream's file names are not repeated"
        # Nothing was kept: the next read asks the upstream again.
        assert static.count(zip_path) == attempt
    for rest, problem in (("@v/v1.1.0.mod", "does not declare"), ("@v/v1.1.0.info", "not a JSON object")):
        bad = get(srv, repo, module, rest, login)
        assert bad.status_code == 502 and problem in bad.text and "else" not in bad.text, bad.text
    good = get(srv, repo, module, "@v/v1.1.0.zip", login)
    assert good.status_code == 200 and good.content == files["@v/v1.1.0.zip"]
    get(srv, repo, module, "@v/v1.1.0.zip", login)
    assert static.count("/%s/@v/v1.1.0.zip" % module) == 1, "a version's zip is kept for good"
    # The go command gets no hostile zip either.
    open_repo(srv, repo)
    env = go_env(tmp_path / "go", base(srv, repo))
    out = go(env, tmp_path, "mod", "download", "-json", module + "@v1.0.0")
    assert out.returncode != 0 and "502" in (out.stdout + out.stderr), out.stdout + out.stderr
    static.stop()


def test_a_member_the_caller_cannot_read_is_left_out(srv, project, login, world):
    # A private hosted repository of the main project holds `mine`; the user may read the front project,
    # where a second remote member is, and not the main one.
    private = srv.create_repo(project, "go")
    mine = "example.com/%s/mine" % unique("priv")
    resp = put(srv, private, mine, "v1.0.0", "zip", module_zip(mine, "v1.0.0", greet_files(mine, "mine")), login)
    assert resp.status_code == 201, resp.text
    front_project = srv.create_project()
    remote_here = remote_go(srv, front_project, world["upstream_url"])
    front = virtual_go(srv, front_project, [private, remote_here])
    user = srv.create_user()
    srv.add_member(front_project, user.user_id, ROLE_DEVELOPER)
    user_login = srv.repo_login(user)
    assert get(srv, front, world["lib"], "@v/list", user_login).text.split()[:2] == ["v1.0.0", "v1.1.0"]
    for rest in ("@v/list", "@latest", "@v/v1.0.0.info", "@v/v1.0.0.zip"):
        assert get(srv, front, mine, rest, user_login).status_code == 404, rest
        assert get(srv, front, mine, rest, login).status_code == 200, rest
    # With the dependency-confusion switch a module a hosted member holds is not looked up upstream, even
    # for a caller who cannot read that member.
    resp = put(srv, private, world["lib"], "v0.1.0", "zip",
               module_zip(world["lib"], "v0.1.0", greet_files(world["lib"], "claimed")), login)
    assert resp.status_code == 201, resp.text
    guarded = virtual_go(srv, front_project, [private, remote_here], hosted_names_hide_remote=True)
    assert get(srv, guarded, world["lib"], "@v/list", user_login).status_code == 404
    assert get(srv, guarded, world["lib"], "@v/list", login).text.split() == ["v0.1.0"]
    assert get(srv, front, world["lib"], "@v/list", user_login).status_code == 200


# --- last: it stops the upstream arca ------------------------------------------------------------------------

def test_the_upstream_stopped_cached_versions_are_still_served(srv, project, world, upstream_arca, tmp_path):
    lib = world["lib"]
    stale = remote_go(srv, project, world["upstream_url"], metadata_max_age_secs=0)
    open_repo(srv, stale)
    assert get(srv, stale, lib, "@v/list", None).status_code == 200
    _stop(upstream_arca)
    # The build of the first test again, in a fresh module cache: every file comes from arca's copies.
    lines = build_and_run(tmp_path, base(srv, world["front"]), [(lib, "v1.1.0"), (world["ours"], "v1.0.0")])
    assert lines == ["lib two", "ours"]
    listed = get(srv, stale, lib, "@v/list", None)
    assert listed.status_code == 200 and "v1.1.0" in listed.text.split()
    assert listed.headers.get("Warning", "").startswith("110"), "served stale, and said so"
    never = get(srv, world["remote"], "example.com/never/fetched", "@v/list", None)
    assert never.status_code == 502 and "127.0.0.1" in never.text, never.text
    # The virtual's hosted member still answers beside the failing remote member.
    assert get(srv, world["front"], world["ours"], "@v/list", None).text.split() == ["v1.0.0"]
