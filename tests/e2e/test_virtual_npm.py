"""Issue 11: npm through a virtual repository over a hosted member and a remote member whose upstream is a
second arca filled by the real `npm publish`. The real npm publishes through the virtual URL (landing in the
default deploy repository) and installs a project whose dependencies come from both members; packuments are
merged per version (the first member wins a version, `latest` is the highest release); the
dependency-confusion switch; a member the caller cannot read; the upstream stopped."""

import json
import subprocess

import pytest
import requests

from conftest import _start, _stop
from harness import ROLE_DEVELOPER, unique
from test_npm import ABBREVIATED, npm, npmrc, package, registry_url, ticket_for
from test_remote_npm import npm_name, remote_npm

ARCA_ARGS = ["--remote-allow-private-networks"]
ARTIFACT = "/cloudartifact/v5/artifact/"


@pytest.fixture(scope="module")
def upstream_arca(tmp_path_factory):
    server = _start(tmp_path_factory.mktemp("npm-upstream"))
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def world(srv, project, upstream_arca, tmp_path_factory):
    """Upstream: `pub` 1.0.0 and `shared` 1.0.0 and 2.0.0 (saying "upstream"). Here: a hosted repository, a
    remote one of the upstream, and a virtual one over both that deploys to the hosted one."""
    up = upstream_arca
    up_project = up.create_project()
    up_repo = up.create_repo(up_project, "npm")
    resp = up.signed("PUT", ARTIFACT, body={"repo_name": up_repo, "allow_anonymous": True})
    assert resp.status_code == 200, resp.text
    root = tmp_path_factory.mktemp("npm-virtual")
    (root / "up").mkdir()
    up_rc = npmrc(root / "up" / ".npmrc", up, up_repo, ticket_for(up))
    names = {"pub": npm_name("pub"), "shared": npm_name("shared"), "ours": npm_name("ours")}
    for name, version, text in ((names["pub"], "1.0.0", "pub"), (names["shared"], "1.0.0", "upstream"),
                                (names["shared"], "2.0.0", "upstream")):
        out = npm(up_rc, package(root / "up", name, version, "module.exports = %r;\n" % text), "publish")
        assert out.returncode == 0, out.stderr
    hosted = srv.create_repo(project, "npm")
    upstream_url = up.url("/artifactory/api/npm/%s" % up_repo)
    remote = remote_npm(srv, project, upstream_url)
    front = unique("vnpm")
    body = {"format": "npm", "type": "virtual", "repository_name": front, "project_id": project,
            "repository_ids": [hosted, remote], "default_deploy_repository": hosted}
    resp = srv.signed("POST", ARTIFACT, body=body)
    assert resp.status_code == 200, resp.text
    (root / "here").mkdir()
    rc = npmrc(root / "here" / ".npmrc", srv, front, ticket_for(srv))
    # `ours` published through the virtual URL; `shared` 1.0.0 straight to the hosted member (npm itself
    # refuses to publish a version the registry it publishes to already lists, and the virtual one does).
    src = package(root / "here", names["ours"], "1.0.0", "module.exports = () => 'ours+' + require(%r);\n"
                  % names["pub"], dependencies={names["pub"]: "^1.0.0"})
    out = npm(rc, src, "publish")
    assert out.returncode == 0, out.stderr
    direct = npmrc(root / "direct.npmrc", srv, hosted, ticket_for(srv))
    out = npm(direct, package(root / "here", names["shared"], "1.0.0", "module.exports = 'hosted';\n"), "publish")
    assert out.returncode == 0, out.stderr
    return {"hosted": hosted, "remote": remote, "upstream_url": upstream_url, "front": front, "rc": rc, "root": root, **names}


def get_packument(srv, login, repo, name, **kw):
    return requests.get(registry_url(srv, repo) + name.replace("/", "%2f"), auth=login, timeout=60, **kw)


def virtual(srv, project, members, **settings):
    body = {"format": "npm", "type": "virtual", "repository_name": unique("vnpm"), "project_id": project,
            "repository_ids": members}
    body.update(settings)
    resp = srv.signed("POST", ARTIFACT, body=body)
    assert resp.status_code == 200, resp.text
    return body["repository_name"]


def test_publishing_through_the_virtual_lands_in_the_deploy_repository(srv, login, world):
    hosted = get_packument(srv, login, world["hosted"], world["ours"])
    assert hosted.status_code == 200, hosted.text
    assert list(hosted.json()["versions"]) == ["1.0.0"]
    # `npm dist-tag add` through the virtual URL changes the deploy repository's tags.
    out = npm(world["rc"], world["root"], "dist-tag", "add", "%s@1.0.0" % world["ours"], "stable")
    assert out.returncode == 0, out.stderr
    tags = requests.get(registry_url(srv, world["hosted"]) + "-/package/%s/dist-tags" % world["ours"],
                        auth=login, timeout=10)
    assert tags.json() == {"latest": "1.0.0", "stable": "1.0.0"}
    # `npm deprecate` reads the document with ?write=true and PUTs it back with its _rev.
    out = npm(world["rc"], world["root"], "deprecate", "%s@1.0.0" % world["ours"], "use 2")
    assert out.returncode == 0, out.stderr
    doc = get_packument(srv, login, world["front"], world["ours"]).json()
    assert doc["versions"]["1.0.0"]["deprecated"] == "use 2"


def test_packuments_are_merged_per_version_first_member_winning(srv, login, world, upstream_arca):
    front = world["front"]
    full = get_packument(srv, login, front, world["shared"])
    assert full.status_code == 200, full.text
    doc = full.json()
    assert sorted(doc["versions"]) == ["1.0.0", "2.0.0"]
    assert doc["dist-tags"]["latest"] == "2.0.0"
    hosted_doc = get_packument(srv, login, world["hosted"], world["shared"]).json()
    assert doc["versions"]["1.0.0"]["dist"]["integrity"] == hosted_doc["versions"]["1.0.0"]["dist"]["integrity"]
    for version in doc["versions"].values():
        assert version["dist"]["tarball"].startswith(registry_url(srv, front)), version["dist"]
    assert upstream_arca.host not in full.text and world["hosted"] not in full.text
    small = get_packument(srv, login, front, world["shared"], headers={"Accept": ABBREVIATED})
    assert small.headers["Content-Type"].startswith(ABBREVIATED)
    assert set(small.json()) == {"name", "modified", "dist-tags", "versions"}
    assert small.json()["versions"]["1.0.0"]["dist"] == doc["versions"]["1.0.0"]["dist"]
    again = get_packument(srv, login, front, world["shared"], headers={"If-None-Match": full.headers["ETag"]})
    assert again.status_code == 304
    tags = requests.get(registry_url(srv, front) + "-/package/%s/dist-tags" % world["shared"], auth=login,
                        timeout=10)
    assert tags.json()["latest"] == "2.0.0"
    assert get_packument(srv, login, front, npm_name("nowhere")).status_code == 404


def test_npm_installs_from_both_members_through_one_url(srv, world, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0", "private": True}))
    out = npm(world["rc"], app, "install", world["ours"], "%s@1.0.0" % world["shared"])
    assert out.returncode == 0, out.stderr
    script = "console.log(require(%r)(), require(%r))" % (world["ours"], world["shared"])
    run = subprocess.run(["node", "-e", script], cwd=app, capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "ours+pub hosted", run.stderr
    lock = json.loads((app / "package-lock.json").read_text())
    for name in (world["ours"], world["pub"], world["shared"]):
        assert lock["packages"]["node_modules/" + name]["resolved"].startswith(registry_url(srv, world["front"]))
    # The newest version of `shared` only the upstream has.
    out = npm(world["rc"], app, "install", "%s@latest" % world["shared"])
    assert out.returncode == 0, out.stderr
    run = subprocess.run(["node", "-e", "console.log(require(%r))" % world["shared"]], cwd=app,
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "upstream", run.stderr


def test_a_ticket_scoped_to_the_virtual_repository_reads_both_members(srv, world):
    made = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": srv.root_token()},
                       json={"left_num": 10, "embed_id": world["front"]})
    assert made.status_code in (200, 201), made.text
    bearer = {"Authorization": "Bearer " + made.json()["value"]}
    for name in (world["ours"], world["pub"]):
        doc = requests.get(registry_url(srv, world["front"]) + name, headers=bearer, timeout=30)
        assert doc.status_code == 200, doc.text
        tarball = requests.get(doc.json()["versions"]["1.0.0"]["dist"]["tarball"], headers=bearer, timeout=30)
        assert tarball.status_code == 200, tarball.text
    direct = requests.get(registry_url(srv, world["hosted"]) + world["ours"], headers=bearer, timeout=30)
    assert direct.status_code == 403


def test_publishing_without_a_deploy_repository_is_refused_by_name(srv, project, login, world, tmp_path):
    front = virtual(srv, project, [world["hosted"], world["remote"]])
    rc = npmrc(tmp_path / ".npmrc", srv, front, ticket_for(srv))
    out = npm(rc, package(tmp_path, npm_name("nodeploy"), "1.0.0", "1"), "publish")
    assert out.returncode != 0
    assert "default_deploy_repository" in out.stderr, out.stderr


def test_a_hosted_package_hides_the_same_name_upstream(srv, project, login, world):
    guarded = virtual(srv, project, [world["hosted"], world["remote"]], hosted_names_hide_remote=True)
    doc = get_packument(srv, login, guarded, world["shared"]).json()
    assert list(doc["versions"]) == ["1.0.0"]
    tarball = requests.get(registry_url(srv, guarded) + "%s/-/%s-2.0.0.tgz" % (world["shared"], world["shared"]),
                           auth=login, timeout=10)
    assert tarball.status_code == 404
    # A name no hosted member holds still comes from the remote member.
    assert get_packument(srv, login, guarded, world["pub"]).status_code == 200


def test_a_member_the_caller_cannot_read_is_left_out(srv, login, world):
    front_project = srv.create_project()
    # The user may read the front project, where a second remote member is; not the hosted member's project.
    remote_here = remote_npm(srv, front_project, world["upstream_url"])
    front = virtual(srv, front_project, [world["hosted"], remote_here])
    user = srv.create_user()
    srv.add_member(front_project, user.user_id, ROLE_DEVELOPER)
    user_login = srv.repo_login(user)
    seen = get_packument(srv, user_login, front, world["shared"])
    assert seen.status_code == 200, seen.text
    upstream = requests.get(world["upstream_url"] + "/" + world["shared"], timeout=10).json()
    assert seen.json()["versions"]["1.0.0"]["dist"]["integrity"] == \
        upstream["versions"]["1.0.0"]["dist"]["integrity"], "the hosted member's 1.0.0 is not the caller's to see"
    ours = get_packument(srv, user_login, front, world["ours"])
    assert ours.status_code == 404, ours.text
    tarball = requests.get(registry_url(srv, front) + "%s/-/%s-1.0.0.tgz" % (world["ours"], world["ours"]),
                           auth=user_login, timeout=10)
    assert tarball.status_code == 404
    assert get_packument(srv, login, front, world["ours"]).status_code == 200
    # With the dependency-confusion switch, a name a hosted member holds hides the public package of that
    # name also from a caller who cannot read the hosted member.
    guarded = virtual(srv, front_project, [world["hosted"], remote_here], hosted_names_hide_remote=True)
    assert get_packument(srv, user_login, guarded, world["shared"]).status_code == 404
    assert get_packument(srv, user_login, guarded, world["pub"]).status_code == 200


# --- last: it stops the upstream arca ------------------------------------------------------------------------

def test_the_hosted_member_keeps_serving_when_the_upstream_is_down(srv, login, world, upstream_arca):
    _stop(upstream_arca)
    ours = get_packument(srv, login, world["front"], world["ours"])
    assert ours.status_code == 200, ours.text
    tarball = requests.get(ours.json()["versions"]["1.0.0"]["dist"]["tarball"], auth=login, timeout=10)
    assert tarball.status_code == 200
    never = get_packument(srv, login, world["front"], npm_name("never"))
    assert never.status_code == 502 and upstream_arca.host in never.json()["error"]
