"""Issue 11, the management side of remote and virtual repositories: creating them (every format, Maven as
one repository), their upstream settings (the password sealed, never answered), ordered members with the
refusals that name the offending position, the deploy target, the child-proxy list, whether open source is
enabled, outbound proxies, and package clients' changes refused on remote repositories."""

import base64
import json

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (ListChildProxyRepositoriesListRequest, ListNetProxyRequest,
                                               ShowOpenSourceEnabledRequest, ShowRepositoryInfoRequest)

from harness import ROLE_PROJECT_MANAGER, assert_error, sql_row, unique

ARTIFACT = "/cloudartifact/v5/artifact/"


def create(srv, project, **fields):
    body = {"format": "generic", "type": "remote", "repository_name": unique("r"), "project_id": project}
    body.update(fields)
    return srv.signed("POST", ARTIFACT, body=body)


def created(srv, project, **fields):
    resp = create(srv, project, **fields)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["artifactory"]


def update(srv, **fields):
    return srv.signed("PUT", ARTIFACT, body=fields)


def repo_id(srv, name):
    return srv.signed("GET", "/cloudartifact/v5/repositories/%s" % name).json()["result"]["id"]


def raw_row(srv, sql, *args):
    return sql_row(srv, sql, *args)


def test_open_source_is_off_until_a_remote_exists(start_arca):
    srv = start_arca()
    client = srv.artifact_client()
    assert client.show_open_source_enabled(ShowOpenSourceEnabledRequest()).result is False
    project = srv.create_project()
    created(srv, project, remote_url="http://127.0.0.1:9/files/")
    assert client.show_open_source_enabled(ShowOpenSourceEnabledRequest()).result is True


@pytest.mark.parametrize("fmt", ["generic", "maven2", "npm", "pypi", "cargo"])
def test_remote_repository_of_every_format(srv, project, client, fmt):
    url = "https://upstream.example/%s/" % fmt
    view = created(srv, project, format=fmt, remote_url=url, user_name="mirror", password="s3cret-Upstream",
                   metadata_max_age_secs=600, not_found_cache_secs=30)
    assert view["type"] == "remote" and view["format"] == fmt
    assert view["remoteUrl"] == url.rstrip("/")
    assert view["userName"] == "mirror" and view["password"] == "" and view["passwordSet"] is True
    assert view["metadataMaxAgeSecs"] == 600 and view["notFoundCacheSecs"] == 30
    shown = client.show_repository_info(ShowRepositoryInfoRequest(repo_id=view["id"])).result
    assert shown.type == "remote" and shown.remote_url == url.rstrip("/") and shown.password == ""
    listed = srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, project),
                        query={"type": "remote", "qname": view["name"]}).json()["result"]
    assert [r["remoteUrl"] for r in listed["repositories"]] == [url.rstrip("/")]
    assert listed["repositories"][0]["repoType"] == "remote"
    # The password is sealed at rest, never stored as typed, never answered.
    sealed = raw_row(srv, "SELECT password_sealed FROM remote_settings WHERE repo_id = ?", view["id"])[0]
    assert sealed and b"s3cret-Upstream" not in sealed
    assert "s3cret-Upstream" not in json.dumps(listed)


def test_remote_settings_defaults_and_updates(srv, project):
    view = created(srv, project, remote_url="http://127.0.0.1:9/a")
    assert view["metadataMaxAgeSecs"] == 86400 and view["notFoundCacheSecs"] == 3600
    assert view["passwordSet"] is False
    resp = update(srv, repo_name=view["name"], remote_url="http://127.0.0.1:9/b/", password="pw-one")
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["remoteUrl"] == "http://127.0.0.1:9/b"
    assert resp.json()["result"]["passwordSet"] is True
    # Absent fields stay; an empty password removes the stored one.
    resp = update(srv, repo_name=view["name"], description="kept")
    assert resp.json()["result"]["passwordSet"] is True
    resp = update(srv, repo_name=view["name"], password="")
    assert resp.json()["result"]["passwordSet"] is False


@pytest.mark.parametrize("fields, name", [
    ({}, "remote_url"),
    ({"remote_url": "ftp://mirror/"}, "remote_url"),
    ({"remote_url": "https://user:pw-in-url@mirror/"}, "remote_url"),
    ({"remote_url": "https://mirror/?token=x"}, "remote_url"),
    ({"remote_url": "https://mirror/", "metadata_max_age_secs": -1}, "metadata_max_age_secs"),
    ({"remote_url": "https://mirror/", "not_found_cache_secs": 10 ** 12}, "not_found_cache_secs"),
    ({"remote_url": "https://mirror/", "repository_ids": ["x"]}, "repository_ids"),
    ({"remote_url": "https://mirror/", "user_name": "a\nb"}, "user_name"),
    ({"type": "hosted", "remote_url": "https://mirror/"}, "remote_url"),
    ({"type": "hosted", "format": "maven2"}, "format"),
    ({"type": "virtual", "remote_url": "https://mirror/"}, "remote_url"),
    ({"type": "proxy", "remote_url": "https://mirror/"}, "type"),
])
def test_create_refusals_name_the_field(srv, project, fields, name):
    resp = create(srv, project, **fields)
    body = assert_error(resp, 400)
    assert name in body["error_msg"], body
    assert "pw-in-url" not in resp.text


def test_virtual_members_order_and_refusals(srv, project, client):
    hosted = srv.create_repo(project, "npm")
    remote = created(srv, project, format="npm", remote_url="https://registry.npmjs.org")
    other_format = srv.create_repo(project, "pypi")
    view = created(srv, project, format="npm", type="virtual")
    assert view["type"] == "virtual" and view["repositoryIds"] == []
    hosted_id = repo_id(srv, hosted)
    resp = update(srv, repo_name=view["name"], repository_ids=[remote["id"], hosted_id],
                  default_deploy_repository=hosted)
    assert resp.status_code == 200, resp.text
    result = resp.json()["result"]
    assert result["repositoryIds"] == [remote["id"], hosted_id]
    assert result["repositories"] == [remote["name"], hosted]
    assert result["defaultDeployRepository"] == hosted
    shown = client.show_repository_info(ShowRepositoryInfoRequest(repo_id=view["name"])).result
    assert shown.repository_ids == [remote["id"], hosted_id] and shown.default_deploy_repository == hosted

    other_virtual = created(srv, project, format="npm", type="virtual")
    for ids, position in [([hosted_id, "no-such-repo"], 1),
                          ([srv.create_repo(project, "npm"), other_format], 1),
                          ([other_virtual["id"]], 0),
                          ([view["id"]], 0),
                          ([hosted_id, hosted], 1)]:
        resp = update(srv, repo_name=view["name"], repository_ids=ids)
        body = assert_error(resp, 400)
        assert "repository_ids[%d]" % position in body["error_msg"], body
    # The members are unchanged by refused updates.
    again = client.show_repository_info(ShowRepositoryInfoRequest(repo_id=view["name"])).result
    assert again.repository_ids == [remote["id"], hosted_id]

    body = assert_error(update(srv, repo_name=view["name"], default_deploy_repository=remote["name"]), 400)
    assert "default_deploy_repository" in body["error_msg"]
    # Taking the deploy target out of the members clears it.
    resp = update(srv, repo_name=view["name"], repository_ids=[remote["id"]])
    assert resp.json()["result"]["defaultDeployRepository"] == ""

    children = client.list_child_proxy_repositories_list(
        ListChildProxyRepositoriesListRequest(repo_id=view["id"])).result
    assert [c.repository_name for c in children] == [remote["name"]]
    assert client.list_child_proxy_repositories_list(
        ListChildProxyRepositoriesListRequest(repo_id=hosted)).result == []


def test_virtual_maven_over_a_hosted_pair_and_a_remote(srv, project):
    pair = srv.create_maven_repo(project)
    remote = created(srv, project, format="maven2", remote_url="https://repo1.maven.org/maven2/")
    view = created(srv, project, format="maven2", type="virtual",
                   repository_ids=[pair["release_id"], pair["snapshot_id"], remote["id"]],
                   default_deploy_repository=pair["release"], hosted_names_hide_remote=True)
    assert view["repositories"] == [pair["release"], pair["snapshot"], remote["name"]]
    assert view["defaultDeployRepository"] == pair["release"] and view["hostedNamesHideRemote"] is True


def test_another_accounts_repository_is_no_member(two_domains):
    first, second = two_domains
    theirs = second.create_repo(second.create_project(), "generic")
    theirs_id = repo_id(second, theirs)
    project = first.create_project()
    view = created(first, project, type="virtual")
    for key in (theirs, theirs_id):
        resp = update(first, repo_name=view["name"], repository_ids=[key])
        body = assert_error(resp, 400)
        assert "repository_ids[0]" in body["error_msg"] and theirs not in body["error_msg"]
    # Its name is answered as missing through the child-proxy list too.
    resp = first.signed("GET", "/cloudartifact/v5/repositories/proxy", query={"repo_id": theirs})
    assert resp.status_code == 404


def test_a_member_needs_to_be_readable_by_who_adds_it(srv, project):
    user = srv.create_user()
    srv.add_member(project, user.user_id, ROLE_PROJECT_MANAGER)
    view = created(srv, project, type="virtual")
    readable = srv.create_repo(project, "generic")
    hidden = srv.create_repo(srv.create_project(), "generic")
    resp = srv.signed("PUT", ARTIFACT, body={"repo_name": view["name"], "repository_ids": [readable, hidden]},
                      ak=user.ak, sk=user.sk)
    body = assert_error(resp, 400)
    assert "repository_ids[1]" in body["error_msg"] and "readable" in body["error_msg"]
    resp = srv.signed("PUT", ARTIFACT, body={"repo_name": view["name"], "repository_ids": [readable]},
                      ak=user.ak, sk=user.sk)
    assert resp.status_code == 200, resp.text


def test_net_proxies(srv, client):
    resp = srv.signed("POST", "/cloudartifact/v5/tree/net/proxy",
                      body={"host": "127.0.0.1", "port": 3128, "user_name": "px", "password": "proxy-Secret-1",
                            "is_default": 1, "remark": "office"})
    assert resp.status_code == 200, resp.text
    first = resp.json()["result"]
    assert first["host"] == "127.0.0.1" and first["port"] == 3128 and first["is_default"] == 1
    assert first["password"] == "" and first["password_set"] is True
    second = srv.signed("POST", "/cloudartifact/v5/tree/net/proxy",
                        body={"host": "proxy.internal", "port": 8080, "is_default": 1}).json()["result"]
    listed = client.list_net_proxy(ListNetProxyRequest()).result
    by_id = {p.id: p for p in listed}
    assert by_id[second["id"]].is_default == 1 and by_id[first["id"]].is_default == 0
    assert all(p.password == "" for p in listed)
    resp = srv.signed("PUT", "/cloudartifact/v5/tree/net/proxy/%d" % first["id"], body={"port": 3129})
    assert resp.json()["result"]["port"] == 3129 and resp.json()["result"]["password_set"] is True
    for body, name in [({"host": "a b", "port": 1}, "host"), ({"host": "x"}, "port"),
                       ({"host": "x", "port": 0}, "port"), ({"host": "x", "port": 1, "is_default": 2}, "is_default")]:
        err = assert_error(srv.signed("POST", "/cloudartifact/v5/tree/net/proxy", body=body), 400)
        assert name in err["error_msg"]
    # A user without the account's policy may list but not change them.
    user = srv.create_user()
    resp = srv.signed("DELETE", "/cloudartifact/v5/tree/net/proxy/%d" % first["id"], ak=user.ak, sk=user.sk)
    assert resp.status_code == 403
    assert srv.signed("DELETE", "/cloudartifact/v5/tree/net/proxy/%d" % first["id"]).status_code == 200
    assert srv.signed("DELETE", "/cloudartifact/v5/tree/net/proxy/%d" % first["id"]).status_code == 404
    assert "proxy-Secret-1" not in srv.log_since(0, lines=100000)


def test_package_clients_cannot_change_a_remote_repository(srv, project, login):
    generic = created(srv, project, remote_url="http://127.0.0.1:9/")
    virtual = created(srv, project, type="virtual")
    auth = "Basic " + base64.b64encode(("%s:%s" % login).encode()).decode()
    resp = requests.put(srv.url("/artifactory/%s/a/b.txt" % generic["name"]), data=b"x",
                        headers={"Authorization": auth}, timeout=10)
    assert resp.status_code == 405, resp.text
    assert resp.json()["error_code"] == "ARCA.00000015"
    # A virtual repository without a deploy target says which setting is missing.
    resp = requests.put(srv.url("/artifactory/%s/a/b.txt" % virtual["name"]), data=b"x",
                        headers={"Authorization": auth}, timeout=10)
    assert resp.status_code == 400 and "default_deploy_repository" in resp.json()["error_msg"]
    npm = created(srv, project, format="npm", remote_url="https://registry.npmjs.org")
    resp = requests.put(srv.url("/artifactory/api/npm/%s/left-pad" % npm["name"]), json={"name": "left-pad"},
                        headers={"Authorization": auth}, timeout=10)
    assert resp.status_code == 405
