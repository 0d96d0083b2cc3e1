"""Issue 13: the release repositories' retention job, on a server whose retention day lasts one second and
whose job runs every second. Old versions go to the recycle bin (sparing the configured category and
folders), old binned versions are deleted for good, each removal is listed, and the job survives a
restart without removing anything twice."""

import time

import requests
from huaweicloudsdkcodeartsartifact.v2 import (ListFilesRequest, RepoFileQueryDTOV5,
                                               ShowAuditRequest, ShowAutoDeleteJobSettingsRequest,
                                               ShowProjectStorageInfoRequest)

SHORT_DAYS = ["--release-retention-day-secs", "1", "--release-retention-interval-secs", "1"]


def put(srv, login, project, path, data, **query):
    resp = requests.put(srv.url("/devreposerver/v5/release/%s/files/%s" % (project, path)), params=query,
                        data=data, auth=login, timeout=30)
    assert resp.status_code == 201, resp.text
    return resp.json()["result"]


def settings(srv, project, body):
    resp = srv.signed("PUT", "/devreposerver/v5/release/%s/auto-deletion/settings" % project, body=body)
    assert resp.status_code == 200, resp.text


def records(srv, project):
    resp = srv.signed("GET", "/devreposerver/v5/release/%s/auto-deletion/records" % project,
                      query={"page_size": 100})
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]


def wait_for(check, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, "condition not met in %ss" % timeout
        time.sleep(0.25)


def test_retention_bins_then_deletes_and_survives_a_restart(start_arca):
    srv = start_arca(SHORT_DAYS)
    project = srv.create_project()
    login = srv.repo_login()
    old = put(srv, login, project, "1.0/old.bin", b"old bytes")
    put(srv, login, project, "1.0/released.bin", b"prod bytes", category="prod")
    put(srv, login, project, "keep/kept.bin", b"kept bytes")
    rule = {"is_schedule_to_trash": True, "file_expire_time": 2, "is_schedule_to_delete": False,
            "trash_file_expire_time": 0,
            "cleanRule": {"skipAutoTrash": {"packageCategory": "prod", "paths": ["/keep"]}}}
    settings(srv, project, rule)
    binned = wait_for(lambda: [r for r in records(srv, project)["data"] if r["action"] == "trash"])
    assert [(r["path"], r["version_id"]) for r in binned] == [("/1.0/old.bin", old["id"])]
    client = srv.artifact_client()
    in_bin = client.list_files(ListFilesRequest(body=RepoFileQueryDTOV5(project_id=project,
                                                                        status="deleted"))).result
    assert [d.id for d in in_bin.data] == [old["id"]]
    url = srv.url("/devreposerver/v5/release/%s/files/1.0/old.bin" % project)
    assert requests.get(url, auth=login, timeout=10).status_code == 404
    # Spared: the prod package and the kept folder stay live however old they get.
    time.sleep(2.5)
    live = client.list_files(ListFilesRequest(body=RepoFileQueryDTOV5(project_id=project, search_name=".",
                                                                     search_type="file"))).result
    assert sorted(d.name for d in live.data) == ["kept.bin", "released.bin"]
    assert records(srv, project)["total_records"] == 1

    # Out of the bin for good after a day in it; the blob's bytes are freed.
    before = client.show_project_storage_info(ShowProjectStorageInfoRequest(project_id=project)).result
    settings(srv, project, dict(rule, is_schedule_to_delete=True, trash_file_expire_time=1))
    wait_for(lambda: any(r["action"] == "delete" for r in records(srv, project)["data"]))
    after = client.show_project_storage_info(ShowProjectStorageInfoRequest(project_id=project)).result
    assert after.used_space_length == before.used_space_length - len(b"old bytes")
    assert records(srv, project)["total_records"] == 2
    # What the job removed is in the audit log too, filed under arca as the operator.
    logged = srv.artifact_client().show_audit(ShowAuditRequest(
        tenant_id=srv.domain_id, project_id=project, module="release", repo="all", page_size=100)).result
    operations = [(e.operation, e.operator) for e in logged.audit_info_list or []]
    assert ("retentionTrash", "arca") in operations and ("retentionDelete", "arca") in operations, operations

    # A restart keeps the settings and the records, removes nothing twice, and the job runs again.
    assert srv.stop() == 0
    again = start_arca(SHORT_DAYS, data_dir=srv.data_dir)
    shown = again.artifact_client().show_auto_delete_job_settings(
        ShowAutoDeleteJobSettingsRequest(project_id=project)).result
    assert (shown["is_schedule_to_trash"], shown["file_expire_time"], shown["trash_file_expire_time"]) == \
        (True, 2, 1)
    time.sleep(2.5)
    assert records(again, project)["total_records"] == 2
    login = again.repo_login()
    fresh = put(again, login, project, "2.0/new.bin", b"new bytes")
    gone = wait_for(lambda: [r for r in records(again, project)["data"] if r["version_id"] == fresh["id"]])
    assert {r["action"] for r in gone} >= {"trash"}
