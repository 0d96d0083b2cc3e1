"""Issue 3: files of repositories through the CodeArts SDK — the file tree, file details, deleting files to
the recycle bin and back, searches by name and checksum, storage figures, and who may do what on a
repository (roles' operations, project users)."""

import hashlib
from datetime import datetime, timedelta

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    BatchDeleteTrashesRequest, BatchRestoreRepoRequest, DeleteArtifactFileRequest, IDERepoSearchDO,
    IDETrashArtifactModel, ListArtifactoryComponentRequest, ListArtifactoryStorageStatisticRequest,
    ListProjectUsersRequest, PathMap, PrivilegeParam, RolePrivilegeV5, SearchArtifactsRequest,
    SearchByChecksumRequest, ShowFileTreeRequest, ShowRepositoryRolesPrivilegeRequest, ShowStorageRequest,
    TrashArtifactModelForDelete, UpdateRepoRolesPrivilegeRequest,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from harness import ROLE_DEVELOPER, ROLE_PROJECT_MANAGER, ROLE_VIEWER, assert_sdk_error, unique

FILES = {
    "com/acme/lib/1.0/lib-1.0.jar": b"jar-bytes-" * 100,
    "com/acme/lib/1.0/lib-1.0.pom": b"<project/>",
    "com/acme/tool/2.0/tool-2.0.jar": b"tool" * 10,
    "readme.txt": b"read me",
}


@pytest.fixture(scope="module")
def repo(srv, project, login):
    name = srv.create_repo(project, "generic", unique("files"))
    for path, data in FILES.items():
        resp = requests.put(srv.url("/artifactory/%s/%s" % (name, path)), data=data, auth=login, timeout=10)
        assert resp.status_code == 201, resp.text
    return name


def tree(srv, client, project, repo, path="", recycle=None):
    return client.show_file_tree(ShowFileTreeRequest(tenant_id=srv.domain_id, project_id=project, repo_name=repo,
                                                     path=path, is_recycle_bin=recycle)).result


def test_file_tree_lists_children(srv, client, project, repo):
    root = tree(srv, client, project, repo)
    assert [(c.name, c.folder) for c in root.children] == [("com", True), ("readme.txt", False)]
    assert root.total == "2" and root.upload_access == "true"
    assert root.uri == "/" + repo
    lib = tree(srv, client, project, repo, "/com/acme/lib/1.0")
    assert [c.name for c in lib.children] == ["lib-1.0.jar", "lib-1.0.pom"]
    assert lib.children[0].path == "com/acme/lib/1.0/lib-1.0.jar"
    assert lib.children[0].uri == "/%s/com/acme/lib/1.0/lib-1.0.jar" % repo
    assert lib.children[0].modified_by == srv.root.name
    acme = tree(srv, client, project, repo, "com/acme/")
    assert [(c.name, c.has_child) for c in acme.children] == [("lib", True), ("tool", True)]
    with pytest.raises(ClientRequestException) as e:
        tree(srv, client, project, repo, "/com/nothing")
    assert_sdk_error(e.value, 404)
    for bad in ("../etc", "/com/../../x", "a\\b"):
        with pytest.raises(ClientRequestException) as e:
            tree(srv, client, project, repo, bad)
        assert_sdk_error(e.value, 400)


def test_file_detail_gives_digests(srv, client, project, repo):
    data = FILES["com/acme/lib/1.0/lib-1.0.jar"]
    detail = client.list_artifactory_component(ListArtifactoryComponentRequest(
        tenant_id=srv.domain_id, project_id=project, repo_name=repo, path="/com/acme/lib/1.0/lib-1.0.jar")).result
    assert detail["size"] == len(data)
    assert detail["sha256"] == hashlib.sha256(data).hexdigest()
    assert detail["sha1"] == hashlib.sha1(data).hexdigest()
    assert detail["md5"] == hashlib.md5(data).hexdigest()
    assert detail["sha512"] == hashlib.sha512(data).hexdigest()
    assert detail["downloadUrl"] == srv.url("/artifactory/%s/com/acme/lib/1.0/lib-1.0.jar" % repo)
    folder = client.list_artifactory_component(ListArtifactoryComponentRequest(
        tenant_id=srv.domain_id, project_id=project, repo_name=repo, path="/com/acme")).result
    assert folder["folder"] is True and folder["filesCount"] == 3
    assert folder["size"] == sum(len(v) for k, v in FILES.items() if k.startswith("com/acme/"))


def test_delete_file_restore_and_purge(srv, client, project, login):
    name = srv.create_repo(project, "generic")
    for path in ("dir/a.txt", "dir/b.txt", "keep.txt"):
        requests.put(srv.url("/artifactory/%s/%s" % (name, path)), data=path.encode() * 50, auth=login, timeout=10)
    client.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path="/%s/dir/a.txt" % name)))
    assert requests.get(srv.url("/artifactory/%s/dir/a.txt" % name), auth=login, timeout=10).status_code == 404
    binned = tree(srv, client, project, name, "/dir", recycle=True)
    assert [c.name for c in binned.children] == ["a.txt"]
    restored = client.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(
        id=name, format="generic", uri="/dir/a.txt")]))
    assert restored.result.success_num == 1
    back = requests.get(srv.url("/artifactory/%s/dir/a.txt" % name), auth=login, timeout=10)
    assert back.content == b"dir/a.txt" * 50

    # A whole directory goes to the bin and is deleted for good from there.
    client.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path="/%s/dir" % name)))
    assert [c.name for c in tree(srv, client, project, name).children] == ["keep.txt"]
    resp = srv.signed("DELETE", "/cloudartifact/v5/trashes", body=[{"id": name, "uri": "/%s/dir" % name}])
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["successNum"] == 1
    assert resp.json()["result"]["freedBytes"] == 2 * len(b"dir/a.txt" * 50)
    assert tree(srv, client, project, name, recycle=True).children == []
    again = client.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(id=name, uri="/dir")]))
    assert (again.result.success_num, again.result.failed_num) == (0, 1)

    with pytest.raises(ClientRequestException) as e:
        client.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path="/%s/missing" % name)))
    assert_sdk_error(e.value, 404)
    for bad in ("", "/%s" % name, "/%s/../x" % name):
        with pytest.raises(ClientRequestException) as e:
            client.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path=bad)))
        assert_sdk_error(e.value, 400)


def test_restoring_a_file_does_not_clobber_a_newer_upload(srv, client, project, login):
    name = srv.create_repo(project, "generic")
    url = srv.url("/artifactory/%s/f.txt" % name)
    requests.put(url, data=b"old", auth=login, timeout=10)
    client.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path="/%s/f.txt" % name)))
    requests.put(url, data=b"new", auth=login, timeout=10)
    resp = client.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(id=name, uri="/f.txt")]))
    assert resp.result.failed_num == 1
    assert requests.get(url, auth=login, timeout=10).content == b"new"


def test_delete_and_purge_need_their_operations(srv, project, login):
    name = srv.create_repo(project, "generic")
    requests.put(srv.url("/artifactory/%s/x.txt" % name), data=b"x", auth=login, timeout=10)
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    vclient = srv.artifact_client(viewer.ak, viewer.sk)
    with pytest.raises(ClientRequestException) as e:
        vclient.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path="/%s/x.txt" % name)))
    assert_sdk_error(e.value, 403)
    dev = srv.create_user()
    srv.add_member(project, dev.user_id, ROLE_DEVELOPER)
    dclient = srv.artifact_client(dev.ak, dev.sk)
    dclient.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path="/%s/x.txt" % name)))
    # Developers restore but do not delete for good (README's role table).
    purge = dclient.batch_delete_trashes(BatchDeleteTrashesRequest(body=[TrashArtifactModelForDelete(
        id=name, uri="/x.txt")]))
    assert purge.result.failed_num == 1 and "physicdelete" in purge.result.failed_messages[0]
    restore = dclient.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(id=name, uri="/x.txt")]))
    assert restore.result.success_num == 1


def search(client, name, **kw):
    return client.search_artifacts(SearchArtifactsRequest(body=IDERepoSearchDO(artifact_name=name, **kw))).result


def test_search_by_name_pages_and_scopes(srv, client, project, repo):
    found = search(client, "LIB-1.0", project_id=project, in_project=True)
    assert sorted(a.name for a in found.artifacts) == ["lib-1.0.jar", "lib-1.0.pom"]
    jar = [a for a in found.artifacts if a.name == "lib-1.0.jar"][0]
    assert (jar.repo_name, jar.relative_path, jar.repo_type) == (repo, "com/acme/lib/1.0/lib-1.0.jar", "generic")
    assert jar.created_user_name == srv.root.name
    first = search(client, ".jar", project_id=project, in_project=True, page_size=1, page_no=1).artifacts
    second = search(client, ".jar", project_id=project, in_project=True, page_size=1, page_no=2).artifacts
    assert len(first) == len(second) == 1 and first[0].name != second[0].name
    assert search(client, "%", project_id=project, in_project=True).artifacts == []
    assert search(client, "lib-1.0", artifact_type="npm", project_id=project, in_project=True).artifacts == []
    outsider = srv.create_user()
    assert search(srv.artifact_client(outsider.ak, outsider.sk), "lib-1.0").artifacts == []
    for kw, field in [(dict(page_size=0), "page_size"), (dict(in_project=True), "project_id"),
                      (dict(artifact_type="docker"), "artifact_type")]:
        with pytest.raises(ClientRequestException) as e:
            search(client, "lib", **kw)
        assert_sdk_error(e.value, 400)
        assert field in e.value.error_msg
    with pytest.raises(ClientRequestException) as e:
        search(client, "")
    assert_sdk_error(e.value, 400)


def test_search_by_every_checksum(srv, client, project, repo):
    data = FILES["com/acme/tool/2.0/tool-2.0.jar"]
    for algo in ("md5", "sha1", "sha256", "sha512"):
        digest = hashlib.new(algo, data).hexdigest()
        hits = client.search_by_checksum(SearchByChecksumRequest(checksum=digest)).result
        assert [(h.repo_name, h.relative_path) for h in hits] == [(repo, "com/acme/tool/2.0/tool-2.0.jar")], algo
        upper = client.search_by_checksum(SearchByChecksumRequest(checksum=digest.upper(), in_project="true",
                                                                  project_id=project)).result
        assert len(upper) == 1
    assert client.search_by_checksum(SearchByChecksumRequest(checksum="0" * 64)).result == []
    for bad in ("abc", "g" * 32, "0" * 33):
        with pytest.raises(ClientRequestException) as e:
            client.search_by_checksum(SearchByChecksumRequest(checksum=bad))
        assert_sdk_error(e.value, 400)
        assert "checksum" in e.value.error_msg


def test_storage_totals_and_daily_statistic(srv, client, project, repo):
    total = client.show_storage(ShowStorageRequest(format_list="generic")).result
    assert total.total_count >= len(FILES)
    with pytest.raises(ClientRequestException) as e:
        client.show_storage(ShowStorageRequest(format_list="docker"))
    assert_sdk_error(e.value, 400)
    today = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%d")
    rows = client.list_artifactory_storage_statistic(ListArtifactoryStorageStatisticRequest(
        tenant_id=srv.domain_id, project_id=project, repo=repo)).result
    assert len(rows) == 7
    last = rows[-1]
    assert last.files_count == len(FILES)
    assert last.used_space_length == sum(len(v) for v in FILES.values())
    assert last.folders_count == 6  # com, com/acme, .../lib, .../lib/1.0, .../tool, .../tool/2.0
    assert last.items_count == len(FILES) + 6
    # Days run in the server's display offset: take "a week ago" from its own answer.
    week_ago = rows[0].summary_date
    old = client.list_artifactory_storage_statistic(ListArtifactoryStorageStatisticRequest(
        tenant_id=srv.domain_id, project_id=project, repo=repo, start_time=week_ago, end_time=week_ago)).result
    assert [(r.summary_date, r.files_count) for r in old] == [(week_ago, 0)]
    for kw, field in [(dict(start_time="2026-13-01"), "start_time"), (dict(start_time=today, end_time="2020-01-01"),
                                                                       "start_time"),
                      (dict(start_time="2020-01-01", end_time="2022-01-01"), "end_time")]:
        with pytest.raises(ClientRequestException) as e:
            client.list_artifactory_storage_statistic(ListArtifactoryStorageStatisticRequest(
                tenant_id=srv.domain_id, project_id=project, repo=repo, **kw))
        assert_sdk_error(e.value, 400)
        assert field in e.value.error_msg


def test_role_operations_on_a_repository(srv, client, project, repo):
    rows = client.show_repository_roles_privilege(ShowRepositoryRolesPrivilegeRequest(
        project_id=project, repo_id=repo)).result
    by_name = {r["role_name"]: r for r in rows}
    assert len(rows) == 10
    assert by_name["Project manager"]["operations_index"] == list(range(9))
    assert by_name["Viewer"]["operations"] == "download"
    dev_role = by_name["Developer"]["role_id"]
    other = srv.create_repo(project, "generic")
    client.update_repo_roles_privilege(UpdateRepoRolesPrivilegeRequest(role_id=dev_role, body=RolePrivilegeV5(
        privileges=[PrivilegeParam(project_id=project, granted_object_path="/%s/*" % repo,
                                   operations="download,upload,editRepository")])))
    rows = client.show_repository_roles_privilege(ShowRepositoryRolesPrivilegeRequest(
        project_id=project, repo_id=repo)).result
    dev = [r for r in rows if r["role_id"] == dev_role][0]
    assert dev["operations"] == "download,upload,editRepository"
    assert dev["granted_object_paths"] == ["/%s/*" % repo]
    elsewhere = client.show_repository_roles_privilege(ShowRepositoryRolesPrivilegeRequest(
        project_id=project, repo_id=other)).result
    assert [r for r in elsewhere if r["role_id"] == dev_role][0]["operations"] == ""


def test_project_users_with_their_privilege(srv, client):
    project = srv.create_project()
    repo = srv.create_repo(project, "generic")
    pm, viewer = srv.create_user(), srv.create_user()
    srv.add_member(project, pm.user_id, ROLE_PROJECT_MANAGER)
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    listed = client.list_project_users(ListProjectUsersRequest(project_id=project, repo_id=repo)).result
    rows = {u.user_id: u for u in listed.list}
    assert listed.total == 3  # the creator (root) and the two members
    assert rows[viewer.user_id].privilege == "download"
    assert rows[viewer.user_id].role_name == "Viewer"
    assert rows[pm.user_id].privilege.startswith("download,upload,editRepository")
    page = client.list_project_users(ListProjectUsersRequest(project_id=project, page_size=1, page_no=2)).result
    assert page.total == 3 and len(page.list) == 1
    outsider = srv.create_user()
    with pytest.raises(ClientRequestException) as e:
        srv.artifact_client(outsider.ak, outsider.sk).list_project_users(ListProjectUsersRequest(project_id=project))
    assert_sdk_error(e.value, 403)
    with pytest.raises(ClientRequestException) as e:
        client.list_project_users(ListProjectUsersRequest(project_id=project, page_size=101))
    assert_sdk_error(e.value, 400)
