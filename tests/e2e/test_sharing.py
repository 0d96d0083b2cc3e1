"""Issue 13: repositories shared into other projects, through the official SDK — create_project_related_repository,
show_project_related_repository, show_project_list and list_maven_list — and the privilege engine honouring a
share: a member of the project a repository is shared into may read it (and only read it)."""

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    CreateProjectRelatedRepositoryRequest, IDEPrivilageProjectInfo, ListMavenListRequest, ShowAuditRequest,
    ShowProjectListRequest, ShowProjectRelatedRepositoryRequest,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from harness import ROLE_DEVELOPER, ROLE_PROJECT_MANAGER, assert_error, assert_sdk_error, sql_row, unique
from uploads import put_file

JAR = "com/example/shared/1.0/shared-1.0.jar"


def share(client, project_id, ids):
    return client.create_project_related_repository(CreateProjectRelatedRepositoryRequest(
        body=IDEPrivilageProjectInfo(project_id=project_id, ids=ids)))


def repo_id(srv, name):
    return sql_row(srv, "SELECT id FROM repositories WHERE name = ?", name)[0]


@pytest.fixture(scope="module")
def world(srv, login):
    home, other = srv.create_project(unique("home")), srv.create_project(unique("other"))
    generic = srv.create_repo(home, "generic")
    assert put_file(srv.base_url, generic, "pub/a.txt", b"shared bytes", login).status_code in (200, 201)
    maven = srv.create_maven_repo(home)
    assert put_file(srv.base_url, maven["release"], JAR, b"jar", login).status_code in (200, 201)
    reader = srv.create_user()
    srv.add_member(other, reader.user_id, ROLE_DEVELOPER)
    return {"home": home, "other": other, "generic": generic, "generic_id": repo_id(srv, generic),
            "maven": maven, "reader": reader, "reader_login": srv.repo_login(reader)}


def test_sharing_gives_members_of_the_other_project_read_only(srv, world):
    client = srv.artifact_client()
    url = srv.url("/artifactory/%s/pub/a.txt" % world["generic"])
    assert requests.get(url, auth=world["reader_login"], timeout=10).status_code == 403
    answer = share(client, world["other"], [world["generic"], world["maven"]["release_id"]])
    assert answer.status == "success"
    assert sorted(answer.result["ids"]) == sorted([world["generic_id"], world["maven"]["release_id"]])
    got = requests.get(url, auth=world["reader_login"], timeout=10)
    assert got.status_code == 200 and got.content == b"shared bytes"
    reader = world["reader"]
    across = srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, world["other"]),
                        query={"in_project": "false", "page_size": "100"}, ak=reader.ak, sk=reader.sk)
    assert across.status_code == 200, across.text
    assert world["generic"] in [r["repositoryName"] for r in across.json()["result"]["repositories"]]
    jar = requests.get(srv.url("/artifactory/%s/%s" % (world["maven"]["release"], JAR)),
                       auth=world["reader_login"], timeout=10)
    assert jar.status_code == 200
    # Read only: no upload, no delete; the snapshot repository was not shared.
    assert put_file(srv.base_url, world["generic"], "pub/b.txt", b"x", world["reader_login"]).status_code == 403
    assert requests.delete(url, auth=world["reader_login"], timeout=10).status_code == 403
    snap = requests.get(srv.url("/artifactory/%s/%s" % (world["maven"]["snapshot"], JAR)),
                        auth=world["reader_login"], timeout=10)
    assert snap.status_code == 403


def test_project_lists_show_own_and_shared_repositories(srv, world):
    share(srv.artifact_client(), world["other"], [world["generic"], world["maven"]["release_id"]])
    reader = world["reader"]
    as_reader = srv.artifact_client(reader.ak, reader.sk)
    listed = as_reader.show_project_list(ShowProjectListRequest(project_id=world["other"])).result
    assert sorted(r.repository_name for r in listed) == sorted([world["generic"], world["maven"]["release"]])
    row = next(r for r in listed if r.repository_name == world["generic"])
    assert (row.name, row.project_id, row.format, row.repo_type) == \
        (world["generic_id"], world["home"], "generic", "hosted")
    raw = srv.signed("GET", "/cloudartifact/v5/maven/repository/list", query={"project_id": world["other"]},
                     ak=reader.ak, sk=reader.sk).json()["result"]
    assert all(r["shared"] for r in raw)
    # Root sees the home project's own repositories, not shared.
    own = srv.signed("GET", "/cloudartifact/v5/maven/repository/list", query={"project_id": world["home"]}).json()
    assert {r["repositoryName"]: r["shared"] for r in own["result"]} == {
        world["generic"]: False, world["maven"]["release"]: False, world["maven"]["snapshot"]: False}

    maven = as_reader.list_maven_list(ListMavenListRequest(project_id=world["other"])).result
    assert [r.repository_name for r in maven] == [world["maven"]["release"]]
    assert maven[0].policy == "release"
    assert as_reader.list_maven_list(ListMavenListRequest(project_id=world["other"], access="rw")).result == []
    assert as_reader.list_maven_list(ListMavenListRequest(project_id=world["other"], policy="snapshot")).result == []
    root_maven = srv.artifact_client().list_maven_list(ListMavenListRequest(
        project_id=world["home"], access="rw", policy="snapshot")).result
    assert [r.repository_name for r in root_maven] == [world["maven"]["snapshot"]]
    by_id = srv.artifact_client().list_maven_list(ListMavenListRequest(
        project_id=world["home"], repo_ids=world["maven"]["release_id"])).result
    assert [(r.repository_name, r.release) for r in by_id] == [(world["maven"]["release"],
                                                                 world["maven"]["release_id"])]


def test_related_projects_of_a_repository(srv, world):
    share(srv.artifact_client(), world["other"], [world["generic"]])
    client = srv.artifact_client()
    result = client.show_project_related_repository(ShowProjectRelatedRepositoryRequest(
        repo_id=world["generic"], limit=100)).result
    flags = {p.project_id: p.associated for p in result.project_info}
    assert flags[world["home"]] is True and flags[world["other"]] is True
    assert result.total_records == len(result.project_info) >= 2
    assert all(p.repository_id == world["generic_id"] for p in result.project_info)
    others = [p for p in result.project_info if p.project_id not in (world["home"], world["other"])]
    assert all(p.associated is False for p in others)
    counts = {p.project_id: p.repository_num for p in result.project_info}
    assert counts[world["home"]] == 3 and counts[world["other"]] == 1
    # Name search and paging.
    searched = client.show_project_related_repository(ShowProjectRelatedRepositoryRequest(
        search_name="other_", limit=100)).result
    assert world["other"] in [p.project_id for p in searched.project_info]
    assert world["home"] not in [p.project_id for p in searched.project_info]
    first = client.show_project_related_repository(ShowProjectRelatedRepositoryRequest(offset=0, limit=1)).result
    second = client.show_project_related_repository(ShowProjectRelatedRepositoryRequest(offset=1, limit=1)).result
    assert len(first.project_info) == len(second.project_info) == 1
    assert first.project_info[0].project_id != second.project_info[0].project_id
    # A user sees only their own projects.
    reader = world["reader"]
    mine = srv.artifact_client(reader.ak, reader.sk).show_project_related_repository(
        ShowProjectRelatedRepositoryRequest(limit=100)).result
    assert [p.project_id for p in mine.project_info] == [world["other"]]


def test_privileges_and_bad_parameters(srv, world):
    client = srv.artifact_client()
    # A Developer of the home project may not share its repositories (editRepository).
    developer = srv.create_user()
    srv.add_member(world["home"], developer.user_id, ROLE_DEVELOPER)
    srv.add_member(world["other"], developer.user_id, ROLE_PROJECT_MANAGER)
    with pytest.raises(ClientRequestException) as err:
        share(srv.artifact_client(developer.ak, developer.sk), world["other"], [world["generic"]])
    assert_sdk_error(err.value, 403)
    # A project manager of the home project who is no member of the other may not bring it there.
    manager = srv.create_user()
    srv.add_member(world["home"], manager.user_id, ROLE_PROJECT_MANAGER)
    with pytest.raises(ClientRequestException) as err:
        share(srv.artifact_client(manager.ak, manager.sk), world["other"], [world["generic"]])
    assert_sdk_error(err.value, 403)
    path = "/cloudartifact/v5/maven/project/repository"
    for body, status, name in (({"project_id": "x", "ids": []}, 400, "project_id"),
                               ({"project_id": world["other"]}, 400, "ids"),
                               ({"project_id": world["other"], "ids": [unique("none")]}, 404, "ids[0]"),
                               ({"project_id": world["home"], "ids": [world["generic"]]}, 400, "ids[0]"),
                               ({"project_id": "f" * 32, "ids": []}, 404, "project_id")):
        assert name in assert_error(srv.signed("POST", path, body=body), status)["error_msg"]
    for query, name in (({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"), ({"offset": "-1"}, "offset")):
        assert name in assert_error(srv.signed("GET", "/v5/maven/project/repository", query=query),
                                    400)["error_msg"]
    assert_error(srv.signed("GET", "/v5/maven/project/repository", query={"repo_id": unique("none")}), 404)
    for q, name in (({}, "project_id"), ({"project_id": world["home"], "access": "w"}, "access"),
                    ({"project_id": world["home"], "policy": "x"}, "policy")):
        assert name in assert_error(srv.signed("GET", "/cloudartifact/v5/maven/list", query=q), 400)["error_msg"]
    assert_error(srv.signed("GET", "/cloudartifact/v5/maven/repository/list", query={"project_id": "f" * 32}), 404)
    with pytest.raises(ClientRequestException) as err:
        client.show_project_list(ShowProjectListRequest(project_id="bad"))
    assert_sdk_error(err.value, 400)


def test_unsharing_takes_read_away_and_is_audited(srv, world):
    client = srv.artifact_client()
    share(client, world["other"], [world["generic"]])
    url = srv.url("/artifactory/%s/pub/a.txt" % world["generic"])
    assert requests.get(url, auth=world["reader_login"], timeout=10).status_code == 200
    share(client, world["other"], [])
    assert requests.get(url, auth=world["reader_login"], timeout=10).status_code == 403
    reader = world["reader"]
    listed = srv.artifact_client(reader.ak, reader.sk).show_project_list(
        ShowProjectListRequest(project_id=world["other"])).result
    assert listed == []
    entries = client.show_audit(ShowAuditRequest(tenant_id=srv.domain_id, project_id="all", module="repository",
                                                 repo=world["generic"], page_size=100)).result.audit_info_list
    assert [e.operation for e in entries][:2] == ["shareRepositories", "shareRepositories"]
