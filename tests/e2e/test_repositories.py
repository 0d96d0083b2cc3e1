"""Issue 3: repositories through the CodeArts SDK — create, list (filters, paging), show, modify, delete to
the recycle bin, restore, delete for good (space reclaimed) — and the repo user of SPEC §6."""

import hashlib
import os
from pathlib import Path

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    BatchDeleteTrashesRequest, BatchRestoreRepoRequest, CreateArtifactoryRequest, CreateMavenRepoRequest,
    CreateNotMavenRepoDO, DeleteRepositoryRequest, IDERepoRevisionModel, IDERepositoryDO, IDERepositoryPair,
    IDETrashArtifactModel, ListAllRepositoriesRequest, ListMavenUserRequest, ModifyRepositoryRequest,
    ShowMavenInfoRequest, ShowRepoUserInfoRequest, ShowRepositoryInfoRequest, ShowRepositoryRequest,
    TrashArtifactModelForDelete, UpdateArtifactoryRequest, UpdateNotMavenRepoDO,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkprojectman.v4 import DeleteProjectV4Request

from harness import ROLE_DEVELOPER, ROLE_VIEWER, assert_sdk_error, unique


@pytest.fixture(scope="module")
def root_login(srv):
    return srv.repo_login()


def put_file(srv, login, repo, path, data: bytes):
    resp = requests.put(srv.url("/artifactory/%s/%s" % (repo, path)), data=data, auth=login, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    return resp


def blob_files(srv):
    """Every regular file in the data directory's blob store (the content-addressed bytes)."""
    # From `blobs` itself: with ARCA_TEST_BLOBS=s3 it is a link into the S3 server's files, which a glob
    # from the data directory would not follow.
    return sorted(p for p in (Path(srv.data_dir) / "blobs").rglob("*") if p.is_file())


def test_create_maven_pair_and_show_both(srv, client, project):
    name = unique("pair")
    resp = client.create_maven_repo(CreateMavenRepoRequest(body=IDERepositoryDO(
        repository_name=name, format="maven2", project_id=project, type="hosted", description="pair",
        includes_pattern="com/acme/**")))
    assert resp.status == "success"
    ids = {"release": resp.result.release, "snapshot": resp.result.snapshot}
    assert ids["release"] != ids["snapshot"]
    shown = {k: client.show_repository_info(ShowRepositoryInfoRequest(repo_id=v)).result for k, v in ids.items()}
    assert shown["release"].repository_name == name + "-release"
    assert shown["snapshot"].repository_name == name + "-snapshot"
    assert shown["release"].policy == "release" and shown["snapshot"].policy == "snapshot"
    assert shown["release"].tab_id == shown["snapshot"].tab_id
    assert shown["release"].deployment_policy == "disable_redeploy"
    assert shown["snapshot"].deployment_policy == "allow_redeploy"
    assert shown["release"].format == "maven2" and shown["release"].project_id == project
    assert shown["release"].allow_anonymous is False
    assert shown["release"].url == srv.url("/artifactory/%s/" % (name + "-release"))
    assert shown["release"].created_user_name == srv.root.name
    # By name as well as by id.
    by_name = client.show_repository_info(ShowRepositoryInfoRequest(repo_id=name + "-snapshot")).result
    assert by_name.tab_id == shown["snapshot"].tab_id


def test_create_validation_and_conflicts(srv, client, project):
    name = unique("dup")
    srv.create_repo(project, "generic", name)
    with pytest.raises(ClientRequestException) as e:
        srv.create_repo(project, "generic", name)
    assert_sdk_error(e.value, 409)
    for body, field in [
        (dict(format="docker", type="hosted", repository_name=unique("d"), project_id=project), "format"),
        (dict(format="generic", type="proxy", repository_name=unique("d"), project_id=project), "type"),
        (dict(format="generic", type="hosted", repository_name="../etc", project_id=project), "repository_name"),
        (dict(format="generic", type="hosted", repository_name="x" * 65, project_id=project), "repository_name"),
        (dict(format="generic", type="hosted", repository_name=unique("d"), project_id="short"), "project_id"),
        (dict(format="generic", type="hosted", repository_name=unique("d"), project_id=project,
              description="d" * 201), "description"),
    ]:
        with pytest.raises(ClientRequestException) as e:
            client.create_artifactory(CreateArtifactoryRequest(body=CreateNotMavenRepoDO(**body)))
        assert_sdk_error(e.value, 400)
        assert field in e.value.error_msg
    with pytest.raises(ClientRequestException) as e:
        srv.create_repo("0" * 32, "generic")
    assert_sdk_error(e.value, 404)
    with pytest.raises(ClientRequestException) as e:
        client.create_maven_repo(CreateMavenRepoRequest(body=IDERepositoryDO(
            repository_name=unique("m"), format="npm", project_id=project, type="hosted")))
    assert_sdk_error(e.value, 400)


def test_only_roles_with_create_repository_may_create(srv, project):
    dev, viewer = srv.create_user(), srv.create_user()
    srv.add_member(project, dev.user_id, ROLE_DEVELOPER)
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    for user in (dev, viewer):
        with pytest.raises(ClientRequestException) as e:
            srv.create_repo(project, "generic", user=user)
        assert_sdk_error(e.value, 403)
    outsider = srv.create_user()
    with pytest.raises(ClientRequestException) as e:
        srv.create_repo(project, "generic", user=outsider)
    assert_sdk_error(e.value, 403)


def list_repos(client, domain_id, project, **kw):
    return client.list_all_repositories(ListAllRepositoriesRequest(tenant_id=domain_id, project_id=project, **kw))


def test_list_filters_sorting_and_paging(srv, client):
    project = srv.create_project()
    other = srv.create_project()
    tag = unique("lst")
    pair = srv.create_maven_repo(project, tag + "-m")
    generic = [srv.create_repo(project, "generic", "%s-g%d" % (tag, i)) for i in range(3)]
    npm = srv.create_repo(project, "npm", tag + "-n")
    srv.create_repo(other, "generic", tag + "-elsewhere")
    everything = list_repos(client, srv.domain_id, project, is_need_paging=False).result
    names = [r.repository_name for r in everything.repositories]
    assert everything.total == 6
    assert names == sorted(names)
    assert set(names) == {pair["release"], pair["snapshot"], npm, *generic}

    page = list_repos(client, srv.domain_id, project, page_no=2, page_size=4).result
    assert page.total == 6 and [r.repository_name for r in page.repositories] == names[4:]
    desc = list_repos(client, srv.domain_id, project, sort="-name", page_size=100).result
    assert [r.repository_name for r in desc.repositories] == names[::-1]
    by_time = list_repos(client, srv.domain_id, project, sort="created_time", page_size=100).result
    assert by_time.repositories[0].repository_name in (pair["release"], pair["snapshot"])

    only_generic = list_repos(client, srv.domain_id, project, format="generic").result
    assert sorted(r.repository_name for r in only_generic.repositories) == sorted(generic)
    maven_npm = list_repos(client, srv.domain_id, project, format_list="maven2,npm").result
    assert maven_npm.total == 3
    tab = list_repos(client, srv.domain_id, project, group_id=everything.repositories[0].tab_id).result
    assert tab.total in (1, 2)
    assert all(r.tab_id == everything.repositories[0].tab_id for r in tab.repositories)
    q = list_repos(client, srv.domain_id, project, qname=(tag + "-G1").upper()).result
    assert [r.repository_name for r in q.repositories] == [generic[1]]
    hosted = list_repos(client, srv.domain_id, project, type="hosted").result
    assert hosted.total == 6
    assert list_repos(client, srv.domain_id, project, type="proxy").result.total == 0
    account = list_repos(client, srv.domain_id, project, in_project=False, qname=tag, page_size=100).result
    assert account.total == 7

    for kw, field in [(dict(page_size=101), "page_size"), (dict(page_no=0), "page_no"),
                      (dict(sort="size"), "sort"), (dict(format="docker"), "format_list"),
                      (dict(type="weird"), "type")]:
        with pytest.raises(ClientRequestException) as e:
            list_repos(client, srv.domain_id, project, **kw)
        assert_sdk_error(e.value, 400)
        assert field in e.value.error_msg
    with pytest.raises(ClientRequestException) as e:
        list_repos(client, "f" * 32, project)
    assert_sdk_error(e.value, 404)


def test_listing_shows_only_readable_repositories(srv):
    project = srv.create_project()
    srv.create_repo(project, "generic")
    outsider = srv.create_user()
    listed = list_repos(srv.artifact_client(outsider.ak, outsider.sk), srv.domain_id, project).result
    assert listed.total == 0
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    listed = list_repos(srv.artifact_client(viewer.ak, viewer.sk), srv.domain_id, project).result
    assert listed.total == 1


def test_update_settings_and_anonymous_read(srv, client, project, root_login):
    name = srv.create_repo(project, "generic")
    put_file(srv, root_login, name, "pub/readme.txt", b"hello")
    assert requests.get(srv.url("/artifactory/%s/pub/readme.txt" % name), timeout=10).status_code == 401
    resp = client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=name, project_id=project, allow_anonymous=True, description="now public",
        deployment_policy="disable_redeploy")))
    assert resp.status == "success"
    anon = requests.get(srv.url("/artifactory/%s/pub/readme.txt" % name), timeout=10)
    assert anon.status_code == 200 and anon.content == b"hello"
    assert requests.put(srv.url("/artifactory/%s/pub/x.txt" % name), data=b"x", timeout=10).status_code == 401
    info = client.show_repository_info(ShowRepositoryInfoRequest(repo_id=name)).result
    assert info.allow_anonymous is True and info.description == "now public"
    assert info.deployment_policy == "disable_redeploy"
    redeploy = requests.put(srv.url("/artifactory/%s/pub/readme.txt" % name), data=b"again", auth=root_login,
                            timeout=10)
    assert redeploy.status_code == 409
    for body, field in [(dict(repo_name=name, deployment_policy="sometimes"), "deployment_policy"),
                        (dict(repo_name=name, max_unique_snapshots="-1"), "max_unique_snapshots"),
                        (dict(repo_name=name, auto_clean_snapshot=True), "auto_clean_snapshot"),
                        (dict(repo_name=name, format="npm"), "format"),
                        (dict(repo_name=""), "repo_name")]:
        with pytest.raises(ClientRequestException) as e:
            client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(**body)))
        assert_sdk_error(e.value, 400)
        assert field in e.value.error_msg
    with pytest.raises(ClientRequestException) as e:
        client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(repo_name=unique("none"))))
    assert_sdk_error(e.value, 404)
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    with pytest.raises(ClientRequestException) as e:
        srv.artifact_client(viewer.ak, viewer.sk).update_artifactory(UpdateArtifactoryRequest(
            body=UpdateNotMavenRepoDO(repo_name=name, allow_anonymous=False)))
    assert_sdk_error(e.value, 403)


def test_modify_maven_tab(srv, client, project):
    pair = srv.create_maven_repo(project)
    tab_id = client.show_repository_info(ShowRepositoryInfoRequest(repo_id=pair["release_id"])).result.tab_id
    resp = client.modify_repository(ModifyRepositoryRequest(tab_id=tab_id, body=IDERepositoryPair(
        repo_name="Renamed pair", description="shared", includes_pattern="org/**", project_id=project)))
    assert resp.result.release == pair["release_id"] and resp.result.snapshot == pair["snapshot_id"]
    for repo_id in (pair["release_id"], pair["snapshot_id"]):
        info = client.show_repository_info(ShowRepositoryInfoRequest(repo_id=repo_id)).result
        assert (info.display_name, info.description, info.includes_pattern) == ("Renamed pair", "shared", "org/**")
    with pytest.raises(ClientRequestException) as e:
        client.modify_repository(ModifyRepositoryRequest(tab_id="0" * 32, body=IDERepositoryPair(description="x")))
    assert_sdk_error(e.value, 404)
    with pytest.raises(ClientRequestException) as e:
        client.modify_repository(ModifyRepositoryRequest(tab_id=tab_id, body=IDERepositoryPair(
            release=unique("other"))))
    assert_sdk_error(e.value, 400)


def test_show_repository_counts_storage(srv, client, project, root_login):
    name = srv.create_repo(project, "generic")
    put_file(srv, root_login, name, "a/one.bin", b"1" * 1000)
    put_file(srv, root_login, name, "a/b/two.bin", b"2" * 2048)
    basic = client.show_repository(ShowRepositoryRequest(tenant_id=srv.domain_id, project_id=project,
                                                         repo_id=name)).result
    assert basic.repository_name == name and basic.repo_type == "hosted"
    assert basic.storage_summary_info.files_count == 2
    assert basic.storage_summary_info.used_space == "2.98 KB"  # 3048 bytes
    other = srv.create_project()
    with pytest.raises(ClientRequestException) as e:
        client.show_repository(ShowRepositoryRequest(tenant_id=srv.domain_id, project_id=other, repo_id=name))
    assert_sdk_error(e.value, 404)


def test_delete_restore_and_purge_a_repository(srv, client, project, root_login):
    name = srv.create_repo(project, "generic")
    repo_id = client.show_repository(ShowRepositoryRequest(tenant_id=srv.domain_id, project_id=project,
                                                           repo_id=name)).result.id
    payload = os.urandom(70_000)
    put_file(srv, root_login, name, "dist/app.bin", payload)
    before_blobs = blob_files(srv)

    client.delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=repo_id,
                                                                                 format="generic")))
    assert requests.get(srv.url("/artifactory/%s/dist/app.bin" % name), auth=root_login,
                        timeout=10).status_code == 404
    active = list_repos(client, srv.domain_id, project, qname=name).result
    assert active.total == 0
    trashed = list_repos(client, srv.domain_id, project, qname=name, is_recycle_bin=True).result
    assert [r.repository_name for r in trashed.repositories] == [name]
    assert trashed.repositories[0].status == "trash"
    with pytest.raises(ClientRequestException) as e:
        client.delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=repo_id)))
    assert_sdk_error(e.value, 404)

    restored = client.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(
        id=repo_id, format="generic", status="trash", uri="")]))
    assert (restored.result.success_num, restored.result.failed_num) == (1, 0)
    back = requests.get(srv.url("/artifactory/%s/dist/app.bin" % name), auth=root_login, timeout=10)
    assert back.status_code == 200 and back.content == payload

    client.delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=name)))
    purged = client.batch_delete_trashes(BatchDeleteTrashesRequest(body=[TrashArtifactModelForDelete(
        id=repo_id, format="generic", status="trash", uri="")]))
    assert (purged.result.success_num, purged.result.failed_num) == (1, 0)
    raw = srv.signed("DELETE", "/cloudartifact/v5/trashes", body=[{"id": repo_id}])
    assert raw.status_code == 200 and raw.json()["result"]["failedNum"] == 1
    assert len(blob_files(srv)) == len(before_blobs) - 1
    with pytest.raises(ClientRequestException) as e:
        client.show_repository_info(ShowRepositoryInfoRequest(repo_id=repo_id))
    assert_sdk_error(e.value, 404)


def test_purge_reports_freed_bytes_and_keeps_shared_blobs(srv, client, project, root_login):
    a, b = srv.create_repo(project, "generic"), srv.create_repo(project, "generic")
    shared, own = os.urandom(5000), os.urandom(7000)
    put_file(srv, root_login, a, "shared.bin", shared)
    put_file(srv, root_login, b, "shared.bin", shared)
    put_file(srv, root_login, a, "own.bin", own)
    client.delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=a)))
    raw = srv.signed("DELETE", "/cloudartifact/v5/trashes", body=[{"id": a, "format": "generic"}])
    assert raw.status_code == 200, raw.text
    assert raw.json()["result"]["freedBytes"] == len(own)
    still = requests.get(srv.url("/artifactory/%s/shared.bin" % b), auth=root_login, timeout=10)
    assert still.content == shared


def test_trash_validation(srv, client):
    for body in ([], [{"format": "generic"}], [{"id": "x"}] * 101):
        resp = srv.signed("PUT", "/cloudartifact/v5/trashes", body=body)
        assert resp.status_code == 400, resp.text
    resp = srv.signed("PUT", "/cloudartifact/v5/trashes", body=[{"id": unique("missing")}])
    assert resp.status_code == 200 and resp.json()["result"]["failedNum"] == 1


def test_repo_user_info_and_password_reset(srv, project):
    user = srv.create_user()
    srv.add_member(project, user.user_id, ROLE_DEVELOPER)
    client = srv.artifact_client(user.ak, user.sk)
    info = client.show_repo_user_info(ShowRepoUserInfoRequest()).result
    assert info.username == "%s_%s" % (srv.domain_id, user.user_id)
    assert info.password == ""
    name, first = srv.repo_login(user)
    assert name == info.username and len(first) >= 16
    repo = srv.create_repo(project, "generic")
    assert requests.put(srv.url("/artifactory/%s/f.txt" % repo), data=b"x", auth=(name, first),
                        timeout=10).status_code == 201
    _, second = srv.repo_login(user)
    assert second != first
    assert requests.get(srv.url("/artifactory/%s/f.txt" % repo), auth=(name, first),
                        timeout=10).status_code == 401
    assert requests.get(srv.url("/artifactory/%s/f.txt" % repo), auth=(name, second),
                        timeout=10).status_code == 200
    # Only a hash is stored: the password appears nowhere in the database file.
    db_bytes = b"".join(p.read_bytes() for p in Path(srv.data_dir).rglob("*.db*") if p.is_file())
    assert second.encode() not in db_bytes


def test_repo_number_counts_readable_repositories(srv):
    project = srv.create_project()
    user = srv.create_user()
    srv.add_member(project, user.user_id, ROLE_VIEWER)

    def repo_number():
        rows = srv.artifact_client().list_maven_user(ListMavenUserRequest(user_name=user.name)).result
        return [r for r in rows.data if r.user_id == user.user_id][0].repo_number

    # Repositories of other tests that allow anonymous reads count too: start from what is there.
    baseline = repo_number()
    srv.create_repo(project, "generic")
    srv.create_maven_repo(project)
    assert repo_number() == baseline + 3
    srv.create_repo(srv.create_project(), "generic")
    assert repo_number() == baseline + 3


def test_maven_info_lists_usable_maven_repositories(srv, client):
    project = srv.create_project()
    pair = srv.create_maven_repo(project)
    srv.create_repo(project, "generic")
    infos = client.show_maven_info(ShowMavenInfoRequest(project_id=project)).result
    assert sorted(i.repository_name for i in infos) == sorted([pair["release"], pair["snapshot"]])
    assert all(i.username == "%s_%s" % (srv.domain_id, srv.root.user_id) for i in infos)
    releases = client.show_maven_info(ShowMavenInfoRequest(project_id=project, policy="release")).result
    assert [i.repository_name for i in releases] == [pair["release"]]
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    vclient = srv.artifact_client(viewer.ak, viewer.sk)
    assert len(vclient.show_maven_info(ShowMavenInfoRequest(project_id=project, access="r")).result) == 2
    assert vclient.show_maven_info(ShowMavenInfoRequest(project_id=project, access="rw")).result == []
    with pytest.raises(ClientRequestException) as e:
        client.show_maven_info(ShowMavenInfoRequest(policy="nightly"))
    assert_sdk_error(e.value, 400)


def test_project_with_repositories_cannot_be_deleted(srv):
    project = srv.create_project()
    name = srv.create_repo(project, "generic")
    pm = srv.projectman_client()
    with pytest.raises(ClientRequestException) as e:
        pm.delete_project_v4(DeleteProjectV4Request(project_id=project))
    assert e.value.status_code == 409
    client = srv.artifact_client()
    client.delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=name)))
    with pytest.raises(ClientRequestException) as e:
        pm.delete_project_v4(DeleteProjectV4Request(project_id=project))
    assert e.value.status_code == 409
    client.batch_delete_trashes(BatchDeleteTrashesRequest(body=[TrashArtifactModelForDelete(id=name)]))
    pm.delete_project_v4(DeleteProjectV4Request(project_id=project))
