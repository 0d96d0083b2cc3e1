"""Issue 13: the audit log (show_audit) through the official SDK. Every kind of change leaves an entry with
its operator, account, address, user agent, module, operation, time, result and reason — management API
changes, package publishes and deletes, privilege changes, and refused attempts; the list filters by module,
repository and user, pages newest first, refuses bad paging naming the parameter, and shows an account only
its own entries. Old entries go after `audit_retention_days`."""

import json
import time

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    BatchRestoreRepoRequest, DeleteArtifactFileRequest, DeleteRepositoryRequest, IDERepoRevisionModel,
    IDETrashArtifactModel, PathMap, ShowAuditRequest, UpdateArtifactoryRequest, UpdateNotMavenRepoDO,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from harness import ROLE_DEVELOPER, ROLE_VIEWER, assert_error, assert_sdk_error, sql_row, unique
from uploads import cargo_publish, npm_publish, put_file, pypi_upload, wheel


class FromAddress(requests.adapters.HTTPAdapter):
    """Requests from another loopback address (as test_ip_allow_list.py sends them)."""

    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


@pytest.fixture(scope="module")
def domains(two_domains):
    return two_domains


@pytest.fixture(scope="module")
def srv(domains):
    return domains[0]


def audit(srv, project="all", module="all", repo="all", user=None, page_num=None, page_size=None, ak=None,
          sk=None):
    """show_audit through the SDK; answers the AuditResult."""
    client = srv.artifact_client(ak, sk)
    return client.show_audit(ShowAuditRequest(tenant_id=srv.domain_id, project_id=project, module=module,
                                              repo=repo, user_id=user, page_num=page_num,
                                              page_size=page_size)).result


def entries(srv, **kw):
    return audit(srv, page_size=100, **kw).audit_info_list or []


def data_of(entry):
    return json.loads(entry.data)


@pytest.fixture(scope="module")
def world(srv, project, login):
    """One of each kind of change, in order, by root."""
    client = srv.artifact_client()
    generic = srv.create_repo(project, "generic")
    client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=generic, project_id=project, description="audited")))
    assert put_file(srv.base_url, generic, "dir/a.txt", b"a", login).status_code in (200, 201)
    client.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path="/%s/dir/a.txt" % generic)))
    client.delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=generic)))
    repo_id = sql_row(srv, "SELECT id FROM repositories WHERE name = ?", generic)[0]
    restored = client.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(
        id=repo_id, format="generic", status="trash", uri="")]))
    assert restored.result.success_num == 1
    maven = srv.create_maven_repo(project)
    jar = "com/example/audited/1.0/audited-1.0.jar"
    assert put_file(srv.base_url, maven["release"], jar, b"jar", login).status_code in (200, 201)
    npm = srv.create_repo(project, "npm")
    assert npm_publish(srv.base_url, npm, "audited-pkg", "1.0.0", b"tgz", login).status_code in (200, 201)
    pypi = srv.create_repo(project, "pypi")
    assert pypi_upload(srv.base_url, pypi, "audited", "1.0", wheel("audited", "1.0", "audit"), login).ok
    cargo = srv.create_repo(project, "cargo")
    assert cargo_publish(srv.base_url, cargo, "audited", "1.0.0", b"crate bytes", login).ok
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    role_id = srv.privileges(viewer, project)["role_id"].rstrip(",")
    srv.set_role_grants(role_id, [{"project_id": project, "granted_object_path": "/%s/*" % generic,
                                   "operations": "download"}])
    return {"generic": generic, "generic_id": repo_id, "maven": maven, "npm": npm, "pypi": pypi, "cargo": cargo,
            "viewer": viewer,
            "project": project}


def test_every_kind_of_change_is_recorded(srv, world):
    generic = entries(srv, repo=world["generic"])
    assert [e.operation for e in reversed(generic)] == [
        "createRepository", "updateRepository", "upload", "deleteFile", "deleteRepository", "restore"]
    assert [e.module for e in reversed(generic)] == [
        "repository", "repository", "generic", "file", "repository", "trash"]
    # The repository's id filters as its name does.
    assert [e.id for e in entries(srv, repo=world["generic_id"])] == [e.id for e in generic]
    for e in generic:
        assert (e.operator, e.operator_tenant_name, e.ip_source) == (srv.root.name, srv.domain_name, "127.0.0.1")
        assert e.user_agent and e.time and e.reason == ""
        assert data_of(e)["result"] == "success"
    upload = generic[3]
    assert upload.info == "/artifactory/%s/dir/a.txt" % world["generic"]
    assert data_of(upload)["method"] == "PUT" and data_of(upload)["status"] in (200, 201)

    maven = entries(srv, repo=world["maven"]["release"])
    assert [(e.module, e.operation) for e in reversed(maven)] == [
        ("repository", "createRepository"), ("maven", "upload")]
    assert [e.operation for e in entries(srv, repo=world["maven"]["snapshot"])] == ["createRepository"]

    npm = entries(srv, repo=world["npm"], module="npm")
    assert [(e.operation, e.info) for e in npm] == [("publish", "audited-pkg@1.0.0")]
    assert (data_of(npm[0])["package"], data_of(npm[0])["version"]) == ("audited-pkg", "1.0.0")

    for fmt, operation, package in (("pypi", "upload", "audited@1.0"), ("cargo", "publish", "audited@1.0.0")):
        published = entries(srv, repo=world[fmt], module=fmt)
        assert [(e.operation, e.info) for e in published] == [(operation, package)], fmt

    privileges = entries(srv, module="privilege", project=world["project"])
    assert [e.operation for e in privileges] == ["updatePrivileges"]
    members = entries(srv, module="member", project=world["project"])
    assert [e.operation for e in members] == ["addMembers"]
    # IAM changes are recorded too: the viewer's creation and access key.
    assert {"createUser", "createAccessKey"} <= {e.operation for e in entries(srv, module="iam")}


def test_a_refused_change_is_recorded_with_its_reason(srv, world):
    viewer = world["viewer"]
    with pytest.raises(ClientRequestException) as err:
        srv.artifact_client(viewer.ak, viewer.sk).delete_repository(DeleteRepositoryRequest(
            body=IDERepoRevisionModel(repository_ids=world["generic"])))
    assert_sdk_error(err.value, 403)
    refused = entries(srv, repo=world["generic"], user=viewer.user_id)
    assert len(refused) == 1
    e = refused[0]
    assert (e.operation, e.operator) == ("deleteRepository", viewer.name)
    assert data_of(e)["result"] == "failure" and data_of(e)["status"] == 403
    assert e.reason.startswith("ARCA.00000004")
    # A refused package upload too: the viewer may only download.
    resp = requests.put(srv.url("/artifactory/%s/x.txt" % world["generic"]), data=b"x",
                        auth=srv.repo_login(viewer), timeout=10)
    assert resp.status_code == 403
    uploads = [e for e in entries(srv, user=viewer.user_id, module="generic") if e.operation == "upload"]
    assert len(uploads) == 1 and data_of(uploads[0])["result"] == "failure"
    # Reading the log is the root user's (or a policy's): the viewer may not.
    with pytest.raises(ClientRequestException) as err:
        audit(srv, ak=viewer.ak, sk=viewer.sk)
    assert_sdk_error(err.value, 403)


def test_user_filter_and_a_second_users_change(srv, world, project):
    developer = srv.create_user()
    srv.add_member(project, developer.user_id, ROLE_DEVELOPER)
    assert put_file(srv.base_url, world["generic"], "dev/b.txt", b"b", srv.repo_login(developer)).status_code \
        in (200, 201)
    mine = entries(srv, user=developer.user_id)
    # Resetting the repo password is the developer's own change; the upload follows it.
    assert [e.operation for e in mine] == ["upload", "resetRepoPassword"]
    assert all(e.operator == developer.name for e in mine)
    assert entries(srv, user=developer.user_id, repo=world["npm"]) == []


def test_paging_is_newest_first(srv, world):
    everything = audit(srv, page_size=100)
    assert everything.total >= 15
    listed = everything.audit_info_list
    assert [e.time for e in listed] == sorted((e.time for e in listed), reverse=True)
    pages = []
    for page_num in (1, 2, 3):
        pages += audit(srv, page_num=page_num, page_size=4).audit_info_list
    assert [e.id for e in pages] == [e.id for e in listed[:12]]
    beyond = audit(srv, page_num=10_000, page_size=100)
    assert beyond.audit_info_list == [] and beyond.total == everything.total


def test_bad_parameters_name_themselves(srv, world):
    path = "/cloudartifact/v5/%s/all/all/all/audit" % srv.domain_id
    for query, name in (({"page_size": "0"}, "page_size"), ({"page_size": "101"}, "page_size"),
                        ({"page_num": "0"}, "page_num"), ({"page_num": "x"}, "page_num"),
                        ({"user_id": "a b"}, "user_id")):
        assert name in assert_error(srv.signed("GET", path, query=query), 400)["error_msg"]
    bad_module = "/cloudartifact/v5/%s/all/%s/all/audit" % (srv.domain_id, "no%20such")
    assert "module" in assert_error(srv.signed("GET", bad_module), 400)["error_msg"]
    unknown_project = "/cloudartifact/v5/%s/%s/all/all/audit" % (srv.domain_id, "f" * 32)
    assert_error(srv.signed("GET", unknown_project), 404)


def test_another_accounts_entries_are_invisible(domains, world):
    a, b = domains
    # b's own log holds none of a's entries, and a's tenant id is a 404 for b.
    b.create_project()
    b_entries = entries(b)
    assert b_entries and all(e.operator_tenant_name == b.domain_name for e in b_entries)
    assert entries(b, repo=world["generic"]) == []
    with pytest.raises(ClientRequestException) as err:
        b.artifact_client().show_audit(ShowAuditRequest(tenant_id=a.domain_id, project_id="all", module="all",
                                                        repo="all"))
    assert_sdk_error(err.value, 404)
    # a's project is not b's to filter on.
    with pytest.raises(ClientRequestException) as err:
        audit(b, project=world["project"])
    assert_sdk_error(err.value, 404)


def test_retention_prunes_old_entries_at_start(start_arca):
    first = start_arca()
    first.create_project()
    old = entries(first, module="project")
    assert len(old) == 1
    data_dir = first.data_dir
    assert first.stop() == 0
    # Two days back: older than one day of retention.
    sql_row(first, "UPDATE audit_log SET at_ms = at_ms - 172800000 WHERE id = ?", old[0].id)
    second = start_arca(env={"ARCA_AUDIT_RETENTION_DAYS": "1"}, data_dir=data_dir)
    second.create_project()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        remaining = [e.id for e in entries(second, module="project")]
        if old[0].id not in remaining:
            break
        time.sleep(0.2)
    assert old[0].id not in remaining and len(remaining) == 1


def test_a_change_refused_for_its_address_is_recorded(srv, world):
    """With an allow-list, a change from an address outside it is refused (403) and recorded with that
    address and the refusal."""
    rule = srv.signed("POST", "/cloudartifact/v5/domain/ipconfig", body={"value": "127.0.0.1"})
    assert rule.status_code == 200, rule.text
    try:
        session = requests.Session()
        session.mount("http://", FromAddress("127.0.0.2"))
        resp = session.put(srv.url("/cloudartifact/v5/artifact/"), json={"repo_name": world["generic"],
                                                                          "description": "from outside"},
                           headers={"X-Auth-Token": srv.root_token(), "User-Agent": "audit-test/1"}, timeout=10)
        assert_error(resp, 403, "ARCA.00000018")
    finally:
        deleted = srv.signed("DELETE", "/cloudartifact/v5/domain/ipconfig/%s" % rule.json()["result"]["id"])
        assert deleted.status_code == 200, deleted.text
    refused = [e for e in entries(srv, module="repository") if e.ip_source == "127.0.0.2"]
    assert len(refused) == 1
    e = refused[0]
    assert (e.operation, e.user_agent, e.operator) == ("updateRepository", "audit-test/1", srv.root.name)
    assert e.reason.startswith("ARCA.00000018") and data_of(e)["result"] == "failure"
