"""Issue 13: release repositories. Build scripts upload with plain HTTP (requests, as curl would) to
`PUT /devreposerver/v5/release/{project_id}/files/{path}` with build provenance; the official SDK drives the
19 `devreposerver` operations; arca's own calls bin and restore files and set retention and capacity notices.
The retention job runs with a shortened day in its own server (test_release_retention.py)."""

import hashlib

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    DeleteCompletelyUpdateFileStateRequest, ListCapacityMessageSettingRequest, ListFileBuildArchivesRequest,
    ListFilesRequest, ListLatestVersionFilesRequest, ListProjectRolePermissionsRequest, RepoFileQueryDTOV5,
    ShowAutoDeleteJobSettingsRequest, ShowDomainReleaseRepoStorageRequest, ShowFileDetailByFullNameRequest,
    ShowFileDetailRequest, ShowLatestVersionFilesCountRequest, ShowMultiRolesUserPermissionsRequest,
    ShowPackageDataDetailRequest, ShowPackageInfoRequest, ShowProjectReleaseFilesRequest,
    ShowProjectStorageInfoRequest, ShowProjectVersionsCountRequest, ShowReleaseProjectFilesRequest,
    ShowVersionListRequest)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from harness import ROLE_DEVELOPER, ROLE_VIEWER, assert_error, assert_sdk_error


def release_url(srv, project, path, **query):
    return srv.url("/devreposerver/v5/release/%s/files/%s" % (project, path)), query


def upload(srv, auth, project, path, data, **query):
    url, params = release_url(srv, project, path, **query)
    return requests.put(url, params=params, data=data, auth=auth, timeout=30)


def uploaded(srv, auth, project, path, data, **query):
    resp = upload(srv, auth, project, path, data, **query)
    assert resp.status_code == 201, resp.text
    return resp.json()["result"]


def list_files(client, **kw):
    return client.list_files(ListFilesRequest(body=RepoFileQueryDTOV5(**kw))).result


def set_status(srv, ids, status, user=None):
    user = user or srv.root
    return srv.signed("PUT", "/devreposerver/v5/files/status", body={"ids": ids, "status": status},
                      ak=user.ak, sk=user.sk)


@pytest.fixture(scope="module")
def world(srv, project, login):
    """Two versions of app.tar.gz in release 1.0 (the second from build 42 on main) and a prod notes file."""
    first = uploaded(srv, login, project, "1.0/app.tar.gz", b"first build bytes", build_id="a" * 32,
                     build_no="41", repo_branch="dev", release_version="1.0")
    second = uploaded(srv, login, project, "1.0/app.tar.gz", b"second build bytes!", build_id="b" * 32,
                      build_no="42", build_name="pipeline-main", repo_branch="main", commit_id="c0ffee",
                      release_version="1.0")
    notes = uploaded(srv, login, project, "1.0/docs/notes.txt", b"release notes", category="prod",
                     release_version="1.0")
    return {"first": first, "second": second, "notes": notes}


def test_upload_makes_versions_and_downloads_honour_ranges(srv, project, login, world):
    first, second = world["first"], world["second"]
    assert (first["version"], second["version"]) == (1, 2)
    assert first["file_id"] == second["file_id"] and first["id"] != second["id"]
    assert second["md5"] == hashlib.md5(b"second build bytes!").hexdigest()
    assert second["sha256"] == hashlib.sha256(b"second build bytes!").hexdigest()
    assert (second["path"], second["type"], second["category"], second["extension"]) == \
        ("/1.0/app.tar.gz", "file", "test", "gz")
    url, _ = release_url(srv, project, "1.0/app.tar.gz")
    latest = requests.get(url, auth=login, timeout=10)
    assert latest.status_code == 200 and latest.content == b"second build bytes!"
    assert latest.headers["X-Checksum-Sha256"] == second["sha256"]
    older = requests.get(url, params={"version": 1}, auth=login, timeout=10)
    assert older.content == b"first build bytes"
    part = requests.get(url, headers={"Range": "bytes=7-11"}, auth=login, timeout=10)
    assert part.status_code == 206 and part.content == b"build"
    assert part.headers["Content-Range"] == "bytes 7-11/19"
    by_id = requests.get(second["download_url_with_id"], auth=login, timeout=10)
    assert by_id.content == b"second build bytes!"
    assert requests.get(second["download_url"], auth=login, timeout=10).content == b"second build bytes!"
    assert requests.head(url, auth=login, timeout=10).headers["Content-Length"] == "19"
    # A ticket (Bearer) and a signature work too; nothing works anonymously.
    ticket = srv.issue_ticket()
    assert requests.get(url, headers={"Authorization": "Bearer " + ticket}, timeout=10).ok
    signed = srv.signed("GET", "/devreposerver/v5/release/%s/files/1.0/app.tar.gz" % project)
    assert signed.status_code == 200 and signed.content == b"second build bytes!"
    assert requests.get(url, timeout=10).status_code == 401
    # A signed upload streams with its declared hash; a body that differs from it is refused, unrecorded.
    path = "/devreposerver/v5/release/%s/files/signed/s.bin" % srv.create_project()
    data = b"signed bytes"
    declared = {"X-Sdk-Content-Sha256": hashlib.sha256(data).hexdigest(),
                "Content-Type": "application/octet-stream"}
    ok = srv.signed("PUT", path, body=data, headers=declared, query={"build_no": "7"})
    assert ok.status_code == 201, ok.text
    assert ok.json()["result"]["sha256"] == declared["X-Sdk-Content-Sha256"]

    def swap_body(req):
        req.body = b"other bytes!"

    bad = srv.signed("PUT", path, body=data, headers=declared, tamper=swap_body)
    assert bad.status_code == 401, bad.text
    assert requests.get(srv.url(path), auth=login, timeout=10).content == data
    assert_error(requests.get(url, params={"version": 9}, auth=login, timeout=10), 404)


def test_bad_uploads(srv, project, login):
    assert_error(upload(srv, login, project, "dir/", b"x"), 400)
    assert_error(upload(srv, login, project, "a/%2e%2e/b", b"x"), 400)
    body = assert_error(upload(srv, login, project, "a.bin", b"x", category="gold"), 400)
    assert "category" in body["error_msg"]
    assert "commit_id" in assert_error(upload(srv, login, project, "a.bin", b"x", commit_id="x" * 65),
                                       400)["error_msg"]
    assert "project_id" in assert_error(upload(srv, login, "nope", "a.bin", b"x"), 400)["error_msg"]
    assert_error(upload(srv, login, "f" * 32, "a.bin", b"x"), 404)


def test_list_files_walks_projects_folders_and_files(srv, client, project, world):
    top = list_files(client, page_no=1, page_size=100)
    mine = [d for d in top.data if d.id == project]
    assert len(mine) == 1 and mine[0].type == "folder"
    root = list_files(client, project_id=project)
    assert [(d.name, d.type) for d in root.data] == [("1.0", "folder")]
    # A folder's (and a project's) size is every live version below it: 17 + 19 + 13 bytes.
    assert root.data[0].size == mine[0].size == 49
    folder_id = root.data[0].id
    inside = list_files(client, parent_id=folder_id)
    assert [(d.name, d.type) for d in inside.data] == [("app.tar.gz", "file"), ("docs", "folder")]
    assert inside.data[0].id == world["second"]["id"] and inside.data[0].parent_id == folder_id
    assert inside.data[0].version_enable is True
    assert [d.name for d in list_files(client, parent_id=folder_id, search_type="folder").data] == ["docs"]
    found = list_files(client, project_id=project, search_name="NOTES")
    assert [d.full_path for d in found.data] == ["/%s/1.0/docs/notes.txt" % project]
    assert [d.name for d in list_files(client, project_id=project, search_name="a", extension="gz").data] == \
        ["app.tar.gz"]
    assert [d.name for d in list_files(client, project_id=project, search_name=".", category="prod").data] == \
        ["notes.txt"]
    by_size = list_files(client, parent_id=folder_id, search_type="file", search_name="", order_by="size",
                         sort="desc")
    assert by_size.total_records == 1
    paged = list_files(client, project_id=project, search_name="t", page_size=1, page_no=2)
    assert (paged.total_records, paged.total_pages, len(paged.data)) == (2, 2, 1)
    for bad in ({"page_size": 101}, {"page_size": 0}, {"page_no": 0}, {"status": "lost"},
                {"order_by": "color"}, {"project_id": "short"}):
        with pytest.raises(ClientRequestException) as e:
            list_files(client, **bad)
        assert_sdk_error(e.value, 400)
        assert list(bad)[0] in e.value.error_msg


def test_file_details(srv, client, project, world):
    second = world["second"]
    detail = client.show_file_detail(ShowFileDetailRequest(id=second["id"])).result
    assert (detail.id, detail.sha256, detail.size) == (second["id"], second["sha256"], 19)
    by_name = client.show_file_detail_by_full_name(
        ShowFileDetailByFullNameRequest(file_name="/%s/1.0/app.tar.gz" % project)).result
    assert by_name.id == second["id"]
    with pytest.raises(ClientRequestException) as e:
        client.show_file_detail(ShowFileDetailRequest(id="0" * 32))
    assert_sdk_error(e.value, 404)
    with pytest.raises(ClientRequestException) as e:
        client.show_file_detail_by_full_name(ShowFileDetailByFullNameRequest(file_name="no-project"))
    assert_sdk_error(e.value, 400)


def test_build_archives(srv, client, project, world):
    def archives(**kw):
        return client.list_file_build_archives(ListFileBuildArchivesRequest(**kw)).result

    every = archives(parent_id=project)
    assert [a["buildNo"] for a in every["data"]] == ["42", "41"]
    row = archives(build_id="b" * 32)["data"]
    assert len(row) == 1
    assert (row[0]["buildName"], row[0]["repoBranch"], row[0]["commitId"], row[0]["projectId"]) == \
        ("pipeline-main", "main", "c0ffee", project)
    assert [a["buildNo"] for a in archives(repo_branch="dev", parent_id=project)["data"]] == ["41"]
    assert archives(build_no="41", parent_id=project)["data"][0]["id"] == world["first"]["id"]
    assert archives(parent_id=project, page_size=1, page_no=2)["total_pages"] == 2
    with pytest.raises(ClientRequestException) as e:
        archives(page_size=101)
    assert_sdk_error(e.value, 400)
    assert "page_size" in e.value.error_msg


def test_versions_and_counts(srv, client, project, login, world):
    latest = client.list_latest_version_files(ListLatestVersionFilesRequest(project_id=project)).result
    assert [(v.name, v.id) for v in latest] == [("notes.txt", world["notes"]["id"]),
                                                ("app.tar.gz", world["second"]["id"])]
    asc = client.list_latest_version_files(ListLatestVersionFilesRequest(project_id=project, sort_dir="asc",
                                                                         limit=1)).result
    assert [v.name for v in asc] == ["app.tar.gz"]
    count = client.show_latest_version_files_count(ShowLatestVersionFilesCountRequest(project_id=project,
                                                                                      name="app"))
    assert count.result.count == 1
    uploaded(srv, login, project, "2.0/app.tar.gz", b"two", release_version="2.0", category="prod")
    versions = client.show_version_list(ShowVersionListRequest(project_id=project)).result
    assert [(v.build_version, v.files_count, v.category) for v in versions] == [("2.0", 1, "prod"),
                                                                                ("1.0", 2, "test")]
    assert client.show_project_versions_count(ShowProjectVersionsCountRequest(project_id=project,
                                                                              build_version="1.")).result.count == 1
    files = client.show_project_release_files(ShowProjectReleaseFilesRequest(project_id=project,
                                                                             file_name="app", limit=2)).result
    assert files.total_records == 3 and files.total_pages == 2
    assert [(f.path, f.version) for f in files.data] == [("/2.0/app.tar.gz", "1"), ("/1.0/app.tar.gz", "2")]
    old = client.show_release_project_files(ShowReleaseProjectFilesRequest(project_id=project, file_name="app",
                                                                           offset=2)).result
    assert [(f.path, f.version) for f in old.data] == [("/1.0/app.tar.gz", "1")]
    assert requests.get(old.data[0].download_url, auth=login, timeout=10).content == \
        b"first build bytes"
    for bad in ({"limit": 0}, {"limit": 101}, {"offset": -1}):
        with pytest.raises(ClientRequestException) as e:
            client.show_version_list(ShowVersionListRequest(project_id=project, **bad))
        assert_sdk_error(e.value, 400)
        assert list(bad)[0] in e.value.error_msg


def test_storage_and_package_figures(srv, client, project, world):
    stored = client.show_project_storage_info(ShowProjectStorageInfoRequest(project_id=project)).result
    assert stored.files_count >= 3 and stored.used_space_length >= 17 + 19 + 13
    folder = list_files(client, project_id=project, search_name="docs").data[0].id
    docs = client.show_project_storage_info(ShowProjectStorageInfoRequest(project_id=project,
                                                                          parent_id=folder)).result
    assert (docs.files_count, docs.used_space_length, docs.used_space) == (1, 13, "13 B")
    domain = client.show_domain_release_repo_storage(ShowDomainReleaseRepoStorageRequest()).result
    assert domain.used_capacity_size >= stored.used_space_length
    assert domain.total_capacity_size == 500 * 1024 ** 3 and domain.total_count >= 1
    detail = client.show_package_data_detail(ShowPackageDataDetailRequest()).result
    assert detail["totalStorage"] == "500.00 GB" and detail["packageStatus"] == 1
    whole = client.show_package_info(ShowPackageInfoRequest()).result["resources"][0]
    assert whole["used"] == domain.used_capacity_size
    mine = client.show_package_info(ShowPackageInfoRequest(project_id=project)).result["resources"][0]
    assert (mine["used"], mine["files"]) == (stored.used_space_length, stored.files_count)
    detail = client.show_package_data_detail(ShowPackageDataDetailRequest(project_id=project)).result
    assert detail["usedStorage"] == stored.used_space
    with pytest.raises(ClientRequestException) as e:
        client.show_package_info(ShowPackageInfoRequest(project_id="f" * 32))
    assert_sdk_error(e.value, 404)


def test_bin_restore_and_delete_for_good(srv, client, project, login):
    v1 = uploaded(srv, login, project, "tmp/junk.bin", b"junk one")
    v2 = uploaded(srv, login, project, "tmp/junk.bin", b"junk two")
    assert set_status(srv, [v2["id"]], "deleted").status_code == 200
    url, _ = release_url(srv, project, "tmp/junk.bin")
    assert requests.get(url, auth=login, timeout=10).content == b"junk one"
    binned = list_files(client, project_id=project, status="deleted")
    assert [d.id for d in binned.data] == [v2["id"]]
    assert set_status(srv, [v2["id"]], "normal").json()["result"]["changed"] == 1
    assert requests.get(url, auth=login, timeout=10).content == b"junk two"
    before = client.show_project_storage_info(ShowProjectStorageInfoRequest(project_id=project)).result
    folder = list_files(client, project_id=project, search_name="tmp").data[0].id
    client.delete_completely_update_file_state(DeleteCompletelyUpdateFileStateRequest(body=[folder]))
    after = client.show_project_storage_info(ShowProjectStorageInfoRequest(project_id=project)).result
    assert after.files_count == before.files_count - 2
    assert after.used_space_length == before.used_space_length - 16
    assert requests.get(url, auth=login, timeout=10).status_code == 404
    assert list_files(client, project_id=project, search_name="tmp").total_records == 0
    with pytest.raises(ClientRequestException) as e:
        client.delete_completely_update_file_state(DeleteCompletelyUpdateFileStateRequest(body=[v1["id"]]))
    assert_sdk_error(e.value, 404)
    assert "body[0]" in e.value.error_msg
    assert "status" in assert_error(set_status(srv, [v1["id"]], "gone"), 400)["error_msg"]


@pytest.fixture(scope="module")
def members(srv, project):
    viewer, developer = srv.create_user(), srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    srv.add_member(project, developer.user_id, ROLE_DEVELOPER)
    return {"viewer": viewer, "developer": developer}


def test_role_and_user_permissions(srv, client, project, members):
    rows = client.list_project_role_permissions(ListProjectRolePermissionsRequest(project_id=project)).result
    by_role = {r.roles: r for r in rows}
    assert len(rows) == 10
    viewer_row = by_role["Viewer"]
    assert (viewer_row.role_id, viewer_row.is_download, viewer_row.is_upload, viewer_row.is_empty) == \
        (8, True, False, False)
    pm = by_role["Project manager"]
    assert pm.is_permission_config and pm.is_empty and pm.is_delete_restore_prod_pkg
    dev = by_role["Developer"]
    assert dev.is_upload and dev.is_delete_restore_test_pkg and not dev.is_delete_restore_prod_pkg
    viewer = members["viewer"]
    mine = srv.artifact_client(viewer.ak, viewer.sk).show_multi_roles_user_permissions(
        ShowMultiRolesUserPermissionsRequest(project_id=project)).result
    assert (mine.user_id, mine.roles, mine.is_download, mine.is_upload) == (viewer.user_id, "Viewer", True, False)
    root = client.show_multi_roles_user_permissions(ShowMultiRolesUserPermissionsRequest(project_id=project))
    assert root.result.is_permission_config is True
    with pytest.raises(ClientRequestException) as e:
        client.list_project_role_permissions(ListProjectRolePermissionsRequest(project_id="bad"))
    assert_sdk_error(e.value, 400)


def test_a_viewer_reads_but_cannot_upload_delete_or_change_settings(srv, project, members, world):
    viewer = members["viewer"]
    vclient = srv.artifact_client(viewer.ak, viewer.sk)
    assert vclient.show_file_detail(ShowFileDetailRequest(id=world["second"]["id"])).result.id == \
        world["second"]["id"]
    vlogin = srv.repo_login(viewer)
    assert_error(upload(srv, vlogin, project, "v/x.bin", b"x"), 403)
    assert_error(set_status(srv, [world["second"]["id"]], "deleted", viewer), 403)
    with pytest.raises(ClientRequestException) as e:
        vclient.delete_completely_update_file_state(DeleteCompletelyUpdateFileStateRequest(
            body=[world["second"]["id"]]))
    assert_sdk_error(e.value, 403)
    settings = {"is_schedule_to_trash": True, "file_expire_time": 30, "is_schedule_to_delete": False,
                "trash_file_expire_time": 0}
    path = "/devreposerver/v5/release/%s/auto-deletion/settings" % project
    assert_error(srv.signed("PUT", path, body=settings, ak=viewer.ak, sk=viewer.sk), 403)
    assert_error(srv.signed("PUT", "/devreposerver/v5/capacity-notice/settings", body={"capacity_threshold": 50},
                            ak=viewer.ak, sk=viewer.sk), 403)
    # A developer bins test packages but not prod ones (those need editRepository).
    dev = members["developer"]
    dlogin = srv.repo_login(dev)
    mine = uploaded(srv, dlogin, project, "dev/build.bin", b"dev build")
    assert_error(upload(srv, dlogin, project, "dev/rel.bin", b"x", category="prod"), 403)
    assert set_status(srv, [mine["id"]], "deleted", dev).status_code == 200
    assert_error(set_status(srv, [world["notes"]["id"]], "deleted", dev), 403)


def test_retention_settings_round_trip_and_validation(srv, client, project):
    shown = client.show_auto_delete_job_settings(ShowAutoDeleteJobSettingsRequest(project_id=project)).result
    assert shown["is_schedule_to_trash"] is False and shown["project_id"] == project
    path = "/devreposerver/v5/release/%s/auto-deletion/settings" % project
    body = {"is_schedule_to_trash": True, "file_expire_time": 90, "is_schedule_to_delete": True,
            "trash_file_expire_time": 66, "project_id": project,
            "cleanRule": {"skipAutoTrash": {"packageCategory": "prod", "paths": ["/a/b/c", "/d/d"]}}}
    resp = srv.signed("PUT", path, body=body)
    assert resp.status_code == 200, resp.text
    shown = client.show_auto_delete_job_settings(ShowAutoDeleteJobSettingsRequest(project_id=project)).result
    assert shown == body
    for field, value in (("file_expire_time", 0), ("trash_file_expire_time", 4000)):
        bad = dict(body, **{field: value})
        assert field in assert_error(srv.signed("PUT", path, body=bad), 400)["error_msg"]
    bad = dict(body, cleanRule={"skipAutoTrash": {"packageCategory": "gold"}})
    assert "packageCategory" in assert_error(srv.signed("PUT", path, body=bad), 400)["error_msg"]
    off = dict(body, is_schedule_to_trash=False, is_schedule_to_delete=False)
    assert srv.signed("PUT", path, body=off).status_code == 200


def test_capacity_notices_once_per_crossing(srv, client, login):
    project = srv.create_project()
    settings = "/devreposerver/v5/capacity-notice/settings"
    records = "/devreposerver/v5/capacity-notice/records"
    shown = client.list_capacity_message_setting(ListCapacityMessageSettingRequest()).result
    assert (shown.capacity_threshold, shown.is_mail_enabled, shown.is_sms_enabled) == (80, 0, 0)
    used = client.show_domain_release_repo_storage(ShowDomainReleaseRepoStorageRequest()).result.used_capacity_size
    # The threshold lies 1,000 bytes above what is stored now.
    total = (used + 1000) * 2
    resp = srv.signed("PUT", settings, body={"capacity_threshold": 50, "message_type": 1, "is_mail_enabled": 1,
                                             "total_capacity_size": total})
    assert resp.status_code == 200, resp.text
    shown = client.list_capacity_message_setting(ListCapacityMessageSettingRequest()).result
    assert (shown.capacity_threshold, shown.message_type, shown.is_mail_enabled) == (50, 1, 1)
    count = lambda: srv.signed("GET", records).json()["result"]["total_records"]  # noqa: E731
    before = count()
    uploaded(srv, login, project, "c/small.bin", b"s" * 400)
    assert count() == before
    big = uploaded(srv, login, project, "c/big.bin", b"b" * 700)
    assert count() == before + 1
    uploaded(srv, login, project, "c/more.bin", b"m" * 10)
    assert count() == before + 1, "still over the threshold: no second notice"
    note = srv.signed("GET", records).json()["result"]["data"][0]
    assert note["capacity_threshold"] == 50 and note["total_capacity_size"] == total
    assert "crossed the capacity threshold" in srv.log_tail(200)
    client.delete_completely_update_file_state(DeleteCompletelyUpdateFileStateRequest(body=[big["id"]]))
    uploaded(srv, login, project, "c/again.bin", b"a" * 10)
    assert count() == before + 1, "back below: nothing recorded"
    uploaded(srv, login, project, "c/big2.bin", b"b" * 700)
    assert count() == before + 2, "a second crossing records a second notice"
    for bad in ({"capacity_threshold": 0}, {"capacity_threshold": 50, "is_sms_enabled": 2},
                {"capacity_threshold": 50, "total_capacity_size": 0}):
        assert list(bad)[-1] in assert_error(srv.signed("PUT", settings, body=bad), 400)["error_msg"]
    srv.signed("PUT", settings, body={"capacity_threshold": 80})


def test_another_accounts_ids_are_404(two_domains):
    a, b = two_domains
    project_a = a.create_project()
    login_a = a.repo_login()
    file_a = uploaded(a, login_a, project_a, "x/own.bin", b"mine")
    client_b = b.artifact_client()
    with pytest.raises(ClientRequestException) as e:
        client_b.show_file_detail(ShowFileDetailRequest(id=file_a["id"]))
    assert_sdk_error(e.value, 404)
    for call in (lambda: client_b.list_latest_version_files(ListLatestVersionFilesRequest(project_id=project_a)),
                 lambda: client_b.show_project_storage_info(ShowProjectStorageInfoRequest(project_id=project_a)),
                 lambda: client_b.show_auto_delete_job_settings(
                     ShowAutoDeleteJobSettingsRequest(project_id=project_a)),
                 lambda: client_b.list_files(ListFilesRequest(body=RepoFileQueryDTOV5(project_id=project_a))),
                 lambda: client_b.delete_completely_update_file_state(
                     DeleteCompletelyUpdateFileStateRequest(body=[file_a["id"]]))):
        with pytest.raises(ClientRequestException) as e:
            call()
        assert_sdk_error(e.value, 404)
    login_b = b.repo_login()
    assert_error(upload(b, login_b, project_a, "y.bin", b"theirs"), 404)
    assert requests.get(file_a["download_url_with_id"], auth=login_b, timeout=10).status_code == 404
    assert all(d.id != project_a for d in client_b.list_files(ListFilesRequest(body=RepoFileQueryDTOV5())).result.data)


def test_the_ip_allow_list_covers_release_transfers(srv, project, login, world):
    class FromAddress(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kw):
            kw["source_address"] = ("127.0.0.2", 0)
            super().init_poolmanager(*args, **kw)

    def other():
        # A fresh connection per request: a refused upload's unread body closes its connection.
        session = requests.Session()
        session.mount("http://", FromAddress())
        return session

    made = srv.signed("POST", "/cloudartifact/v5/domain/ipconfig", body={"value": "127.0.0.1"})
    assert made.status_code == 200, made.text
    url, _ = release_url(srv, project, "1.0/app.tar.gz")
    try:
        assert_error(other().get(url, auth=login, timeout=10), 403, "ARCA.00000018")
        assert_error(other().put(release_url(srv, project, "ip/x.bin")[0], data=b"x", auth=login, timeout=10), 403,
                     "ARCA.00000018")
        assert_error(other().get(world["second"]["download_url_with_id"], auth=login, timeout=10), 403,
                     "ARCA.00000018")
        assert requests.get(url, auth=login, timeout=10).status_code == 200
    finally:
        gone = srv.signed("DELETE", "/cloudartifact/v5/domain/ipconfig/%s" % made.json()["result"]["id"])
        assert gone.status_code == 200, gone.text
    assert other().get(url, auth=login, timeout=10).status_code == 200
