"""Issue 11: Maven and generic virtual repositories over hosted and remote members (a real static upstream
on loopback): members asked in order, only those the caller may read, merged maven-metadata.xml, the
dependency-confusion switch, an upstream failure that does not hide a hosted file, publishing through the
default deploy repository, and mvn resolving a hosted and a proxied dependency through one URL."""

import hashlib
import shutil

import pytest
import requests

from harness import ROLE_DEVELOPER, assert_error, unique
from test_remote_files import get, remote_repo
from upstream_server import StaticUpstream

ARCA_ARGS = ["--remote-allow-private-networks"]
ARTIFACT = "/cloudartifact/v5/artifact/"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    server = StaticUpstream(tmp_path_factory.mktemp("upstream"))
    yield server
    server.stop()


def virtual(srv, project, fmt, members, **settings):
    body = {"format": fmt, "type": "virtual", "repository_name": unique("virt"), "project_id": project,
            "repository_ids": members}
    body.update(settings)
    resp = srv.signed("POST", ARTIFACT, body=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["artifactory"]["name"]


def put(srv, login, repo, rel, data):
    resp = requests.put(srv.url("/artifactory/%s/%s" % (repo, rel)), data=data, auth=login, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    return resp


def test_members_are_asked_in_order(srv, project, login, upstream):
    hosted = srv.create_repo(project, "generic")
    remote = remote_repo(srv, project, upstream, prefix="/g1")
    put(srv, login, hosted, "both.txt", b"hosted copy")
    put(srv, login, hosted, "only-hosted.txt", b"mine")
    upstream.put("g1/both.txt", b"upstream copy")
    upstream.put("g1/only-upstream.txt", b"theirs")
    front = virtual(srv, project, "generic", [hosted, remote])
    assert get(srv, login, front, "both.txt").content == b"hosted copy"
    assert get(srv, login, front, "only-hosted.txt").content == b"mine"
    assert get(srv, login, front, "only-upstream.txt").content == b"theirs"
    assert get(srv, login, front, "nowhere.txt").status_code == 404
    back = virtual(srv, project, "generic", [remote, hosted])
    assert get(srv, login, back, "both.txt").content == b"upstream copy"


def test_a_directory_lists_what_the_members_hold(srv, project, login, upstream):
    first, second = srv.create_repo(project, "generic"), srv.create_repo(project, "generic")
    remote = remote_repo(srv, project, upstream, prefix="/g3")
    put(srv, login, first, "dir/a.txt", b"first a")
    put(srv, login, first, "dir/sub/x.txt", b"x")
    put(srv, login, second, "dir/a.txt", b"second a, longer")
    put(srv, login, second, "dir/b.txt", b"b")
    upstream.put("g3/dir/cached.txt", b"fetched once")
    upstream.put("g3/dir/never-fetched.txt", b"not cached")
    assert get(srv, login, remote, "dir/cached.txt").status_code == 200
    front = virtual(srv, project, "generic", [first, second, remote])
    listing = get(srv, login, front, "dir/", headers={"Accept": "application/json"})
    assert listing.status_code == 200, listing.text
    children = {c["name"]: c for c in listing.json()["children"]}
    assert sorted(children) == ["a.txt", "b.txt", "cached.txt", "sub"], children
    assert children["a.txt"]["size"] == len(b"first a"), "a path two members hold is the first one's"
    html = get(srv, login, front, "dir/")
    assert html.status_code == 200 and "cached.txt" in html.text and "never-fetched" not in html.text
    assert get(srv, login, front, "nothing-here/").status_code == 404


def test_show_file_tree_of_a_virtual_repository_shows_its_members_files(srv, project, login, upstream):
    first_project, private_project = srv.create_project(), srv.create_project()
    first = srv.create_repo(first_project, "generic")
    private = srv.create_repo(private_project, "generic")
    remote = remote_repo(srv, first_project, upstream, prefix="/g4")
    put(srv, login, first, "tree/a.txt", b"a")
    put(srv, login, private, "tree/secret.txt", b"s")
    upstream.put("g4/tree/cached.txt", b"c")
    assert get(srv, login, remote, "tree/cached.txt").status_code == 200
    front = virtual(srv, first_project, "generic", [first, private, remote])

    def names(ak=None, sk=None):
        resp = srv.signed("GET", "/cloudartifact/v5/%s/%s/%s/file-tree" % (srv.domain_id, first_project, front),
                          query={"path": "/tree/"}, ak=ak, sk=sk)
        assert resp.status_code == 200, resp.text
        return sorted(c["name"] for c in resp.json()["result"]["children"])

    assert names() == ["a.txt", "cached.txt", "secret.txt"]
    user = srv.create_user()
    srv.add_member(first_project, user.user_id, ROLE_DEVELOPER)
    assert names(user.ak, user.sk) == ["a.txt", "cached.txt"], "the private member's file is not the user's to see"


def test_a_ticket_scoped_to_the_virtual_repository_reads_through_it(srv, project, login):
    hosted = srv.create_repo(project, "generic")
    put(srv, login, hosted, "t/file.txt", b"through the front")
    front = virtual(srv, project, "generic", [hosted])
    token = srv.root_token()

    def ticket(scope):
        made = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": token},
                           json={"left_num": 10, "embed_id": scope})
        assert made.status_code in (200, 201), made.text
        return {"Authorization": "Bearer " + made.json()["value"]}

    scoped = ticket(front)
    through = requests.get(srv.url("/artifactory/%s/t/file.txt" % front), headers=scoped, timeout=10)
    assert through.status_code == 200 and through.content == b"through the front"
    # The scope is the virtual repository's URL, not its members'.
    direct = requests.get(srv.url("/artifactory/%s/t/file.txt" % hosted), headers=scoped, timeout=10)
    assert direct.status_code == 403
    elsewhere = requests.get(srv.url("/artifactory/%s/t/file.txt" % front), headers=ticket(hosted), timeout=10)
    assert elsewhere.status_code == 403
    in_path = ticket("/%s/t" % front)
    assert requests.get(srv.url("/artifactory/%s/t/file.txt" % front), headers=in_path, timeout=10).ok


def test_a_hosted_member_the_caller_cannot_read_is_skipped(srv, login, upstream):
    front_project, private_project = srv.create_project(), srv.create_project()
    private = srv.create_repo(private_project, "generic")
    put(srv, login, private, "secret.txt", b"private bytes")
    front = virtual(srv, front_project, "generic", [private])
    user = srv.create_user()
    srv.add_member(front_project, user.user_id, ROLE_DEVELOPER)
    user_login = srv.repo_login(user)
    resp = get(srv, user_login, front, "secret.txt")
    assert resp.status_code == 404 and b"private bytes" not in resp.content
    assert get(srv, login, front, "secret.txt").content == b"private bytes"


def test_an_upstream_failure_does_not_hide_a_hosted_file(srv, project, login, tmp_path):
    down = StaticUpstream(tmp_path / "down")
    remote = remote_repo(srv, project, down)
    down.stop()
    hosted = srv.create_repo(project, "generic")
    put(srv, login, hosted, "here.txt", b"still here")
    front = virtual(srv, project, "generic", [remote, hosted])
    assert get(srv, login, front, "here.txt").content == b"still here"
    assert_error(get(srv, login, front, "gone.txt"), 502, "ARCA.00000016")


def test_publishing_goes_to_the_default_deploy_repository(srv, project, login):
    hosted = srv.create_repo(project, "generic")
    front = virtual(srv, project, "generic", [hosted])
    resp = requests.put(srv.url("/artifactory/%s/up.txt" % front), data=b"x", auth=login, timeout=30)
    body = assert_error(resp, 400)
    assert "default_deploy_repository" in body["error_msg"]
    resp = srv.signed("PUT", ARTIFACT, body={"repo_name": front, "default_deploy_repository": hosted})
    assert resp.status_code == 200, resp.text
    put(srv, login, front, "up.txt", b"deployed through the front")
    assert get(srv, login, hosted, "up.txt").content == b"deployed through the front"
    assert get(srv, login, front, "up.txt").content == b"deployed through the front"
    resp = requests.delete(srv.url("/artifactory/%s/up.txt" % front), auth=login, timeout=30)
    assert resp.status_code in (200, 204)
    assert get(srv, login, hosted, "up.txt").status_code == 404


def test_maven_metadata_is_merged_over_members(srv, project, login, upstream):
    pair = srv.create_maven_repo(project)
    put(srv, login, pair["release"], "org/acme/lib/2.0/lib-2.0.jar", b"jar 2.0")
    upstream.put("m1/org/acme/lib/maven-metadata.xml", metadata("1.0", "1.5"))
    upstream.put("m1/org/acme/lib/1.5/lib-1.5.jar", b"jar 1.5")
    remote = remote_repo(srv, project, upstream, fmt="maven2", prefix="/m1")
    front = virtual(srv, project, "maven2", [pair["release_id"], remote])
    resp = get(srv, login, front, "org/acme/lib/maven-metadata.xml")
    assert resp.status_code == 200, resp.text
    xml = resp.text
    assert [v for v in ("1.0", "1.5", "2.0") if "<version>%s</version>" % v in xml] == ["1.0", "1.5", "2.0"]
    assert "<latest>2.0</latest>" in xml and "<release>2.0</release>" in xml
    sha1 = get(srv, login, front, "org/acme/lib/maven-metadata.xml.sha1").text
    assert sha1 == hashlib.sha1(resp.content).hexdigest()
    assert get(srv, login, front, "org/acme/lib/1.5/lib-1.5.jar").content == b"jar 1.5"
    assert get(srv, login, front, "org/acme/lib/2.0/lib-2.0.jar").content == b"jar 2.0"


def test_a_hosted_artifact_hides_the_same_name_upstream(srv, project, login, upstream):
    pair = srv.create_maven_repo(project)
    put(srv, login, pair["release"], "com/corp/internal/1.0/internal-1.0.jar", b"ours")
    upstream.put("m2/com/corp/internal/maven-metadata.xml", metadata("99.0"))
    upstream.put("m2/com/corp/internal/99.0/internal-99.0.jar", b"an attacker's package")
    remote = remote_repo(srv, project, upstream, fmt="maven2", prefix="/m2")
    exposed = virtual(srv, project, "maven2", [pair["release_id"], remote])
    assert "<version>99.0</version>" in get(srv, login, exposed, "com/corp/internal/maven-metadata.xml").text
    guarded = virtual(srv, project, "maven2", [pair["release_id"], remote], hosted_names_hide_remote=True)
    xml = get(srv, login, guarded, "com/corp/internal/maven-metadata.xml").text
    assert "<version>1.0</version>" in xml and "99.0" not in xml
    assert get(srv, login, guarded, "com/corp/internal/99.0/internal-99.0.jar").status_code == 404
    # Names no hosted member holds still come from upstream.
    upstream.put("m2/org/public/lib/1.0/lib-1.0.jar", b"public")
    assert get(srv, login, guarded, "org/public/lib/1.0/lib-1.0.jar").content == b"public"


def test_mvn_builds_against_one_virtual_url(srv, project, login, upstream, tmp_path):
    from test_maven import java_project, mvn, pom, settings_xml
    published = tmp_path / "published"
    lib = java_project(tmp_path / "upstream-lib", pom("org.upstream", "up-lib", "1.0", "file:///x", "file:///x"), {
        "org/upstream/Up.java": "package org.upstream; public class Up { public static int one() { return 1; } }"})
    deployer = tmp_path / "deployer.xml"
    settings_xml(deployer, tmp_path / "deployer-m2", *login)
    mvn(deployer, lib, "deploy", "-DaltDeploymentRepository=local::default::file://%s" % published)
    shutil.copytree(published, upstream.root / "m3", dirs_exist_ok=True)
    remote = remote_repo(srv, project, upstream, fmt="maven2", prefix="/m3")
    pair = srv.create_maven_repo(project)
    front = virtual(srv, project, "maven2", [pair["release_id"], pair["snapshot_id"], remote],
                    default_deploy_repository=pair["release"])
    url = srv.url("/artifactory/%s/" % front)
    # A library deployed by mvn through the virtual URL lands in the hosted release repository.
    ours = java_project(tmp_path / "our-lib", pom("org.ours", "our-lib", "1.0", url, url), {
        "org/ours/Ours.java": "package org.ours; public class Ours { public static int two() { return 2; } }"})
    mvn(deployer, ours, "deploy")
    assert get(srv, login, pair["release"], "org/ours/our-lib/1.0/our-lib-1.0.jar").status_code == 200
    app = java_project(tmp_path / "app", pom("org.app", "app", "1.0", url, url, """
        <dependency><groupId>org.upstream</groupId><artifactId>up-lib</artifactId><version>1.0</version></dependency>
        <dependency><groupId>org.ours</groupId><artifactId>our-lib</artifactId><version>1.0</version></dependency>
        """), {"org/app/App.java": "package org.app; public class App { int three = "
                                   "org.upstream.Up.one() + org.ours.Ours.two(); }"})
    consumer = tmp_path / "consumer.xml"
    settings_xml(consumer, tmp_path / "consumer-m2", *login)
    mvn(consumer, app, "package")
    assert (app / "target/app-1.0.jar").is_file()
    assert upstream.count("/m3/org/upstream/up-lib/1.0/up-lib-1.0.jar") == 1


def metadata(*versions) -> bytes:
    return ("""<?xml version="1.0" encoding="UTF-8"?>
<metadata><groupId>g</groupId><artifactId>a</artifactId><versioning><latest>%s</latest>
<versions>%s</versions><lastUpdated>20240101000000</lastUpdated></versioning></metadata>
""" % (versions[-1], "".join("<version>%s</version>" % v for v in versions))).encode()
