"""SPEC §5: per-role grants (the SDK's update_repo_roles_privilege) and how they shape seed 002's answer."""

import pytest
from huaweicloudsdkcodeartsartifact.v2 import (
    PrivilegeParam, RolePrivilegeV5, ShowUserPrivilegesRequest, UpdateRepoRolesPrivilegeRequest,
)
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from harness import ROLE_DEVELOPER, ROLE_PROJECT_MANAGER, ROLE_VIEWER, assert_sdk_error


@pytest.fixture(scope="module")
def users(srv, project):
    made = {}
    for role in (ROLE_PROJECT_MANAGER, ROLE_DEVELOPER, ROLE_VIEWER):
        user = srv.create_user()
        srv.add_member(project, user.user_id, role)
        made[role] = user
    return made


def raw_privileges(srv, user, project):
    resp = srv.signed("GET", "/cloudartifact/v3/user/%s/privileges" % project, ak=user.ak, sk=user.sk)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]


def role_id_of(srv, user, project):
    return raw_privileges(srv, user, project)["role_id"].rstrip(",")


def grant(srv, caller, role_id, entries):
    client = srv.artifact_client(caller.ak, caller.sk)
    body = RolePrivilegeV5(privileges=[PrivilegeParam(**e) for e in entries])
    return client.update_repo_roles_privilege(UpdateRepoRolesPrivilegeRequest(role_id=role_id, body=body))


def test_grant_reproduces_the_seed_example(srv, project, users):
    dev = users[ROLE_DEVELOPER]
    role_id = role_id_of(srv, dev, project)
    resp = grant(srv, users[ROLE_PROJECT_MANAGER], role_id, [{
        "project_id": project, "granted_object_path": "/xxxx/aaa/bbb/*",
        "operations": "editRepository,restore,physicdelete,clearall"}])
    assert resp.status == "success"
    assert [p.operations for p in resp.result] == ["editRepository,restore,physicdelete,clearall"]
    assert resp.result[0].operations_index == [2, 4, 5, 7]
    result = raw_privileges(srv, dev, project)
    assert result["operations"] == "editRepository,restore,physicdelete,clearall"
    assert result["operationsIndex"] == [2, 4, 5, 7]
    assert result["role_id"] == role_id + ","
    assert result["role_name"] == "Developer,"
    assert result["role_chinese_name"] == "开发人员,"
    assert result["project_id"] == project + ","
    assert result["granted_object_path"] == "/xxxx/aaa/bbb/*,"
    assert "," not in result["granted_object_type_id"] and len(result["granted_object_type_id"]) == 32


def test_several_grants_merge_in_entry_order(srv, project, users):
    viewer = users[ROLE_VIEWER]
    role_id = role_id_of(srv, viewer, project)
    grant(srv, users[ROLE_PROJECT_MANAGER], role_id, [
        {"project_id": project, "granted_object_path": "/maven-release/com/acme/*", "operations": "downloadorview"},
        {"project_id": project, "granted_object_path": "/npm-local/*", "operations": "upload,download",
         "granted_object_type_id": "0123456789abcdef0123456789abcdef"},
    ])
    result = raw_privileges(srv, viewer, project)
    assert result["operations"] == "download,upload"
    assert result["operationsIndex"] == [0, 1]
    assert result["role_name"] == "Viewer,Viewer,"
    assert result["granted_object_path"] == "/maven-release/com/acme/*,/npm-local/*,"
    type_ids = result["granted_object_type_id"].split(",")
    assert len(type_ids) == 2 and "0123456789abcdef0123456789abcdef" in type_ids


def test_grants_replace_the_roles_previous_grants(srv, users):
    project = srv.create_project()
    dev = srv.create_user()
    srv.add_member(project, dev.user_id, ROLE_DEVELOPER)
    role_id = role_id_of(srv, dev, project)
    manager = srv.root
    grant(srv, manager, role_id, [{"project_id": project, "granted_object_path": "/a/*", "operations": "upload"}])
    grant(srv, manager, role_id, [{"project_id": project, "granted_object_path": "/b/*", "operations": "delete"}])
    result = raw_privileges(srv, dev, project)
    assert (result["granted_object_path"], result["operations"]) == ("/b/*,", "delete")


def test_developer_cannot_manage_privileges(srv, project, users):
    dev = users[ROLE_DEVELOPER]
    with pytest.raises(ClientRequestException) as e:
        grant(srv, dev, role_id_of(srv, dev, project),
              [{"project_id": project, "granted_object_path": "/*", "operations": "download"}])
    assert_sdk_error(e.value, 403)


@pytest.mark.parametrize("entry, param", [
    ({"granted_object_path": "relative/*", "operations": "download"}, "granted_object_path"),
    ({"granted_object_path": "/a/../b", "operations": "download"}, "granted_object_path"),
    ({"granted_object_path": "/a/*", "operations": "download,fly"}, "operations"),
    ({"granted_object_path": "/a/*", "operations": "download", "project_id": "short"}, "project_id"),
])
def test_bad_grant_is_400_naming_the_parameter(srv, project, users, entry, param):
    entry = {"project_id": project, **entry}
    with pytest.raises(ClientRequestException) as e:
        grant(srv, srv.root, role_id_of(srv, users[ROLE_DEVELOPER], project), [entry])
    assert_sdk_error(e.value, 400)
    assert param in e.value.error_msg


def test_unknown_role_is_400(srv, project):
    with pytest.raises(ClientRequestException) as e:
        grant(srv, srv.root, "f" * 32, [{"project_id": project, "granted_object_path": "/*", "operations": ""}])
    assert_sdk_error(e.value, 400)
    assert "role_id" in e.value.error_msg


def test_sdk_reads_granted_privileges(srv, project, users):
    dev = users[ROLE_DEVELOPER]
    resp = srv.artifact_client(dev.ak, dev.sk).show_user_privileges(ShowUserPrivilegesRequest(project_id=project))
    assert resp.result.operations_index == [int(i) for i in raw_privileges(srv, dev, project)["operationsIndex"]]


def test_narrowing_the_project_manager_role_cannot_lock_the_project(srv):
    """Root keeps every operation whatever the Project manager's grants say (decision), so it can always
    undo them; a member holding the narrowed role is bound by them."""
    project = srv.create_project()
    pm = srv.create_user()
    srv.add_member(project, pm.user_id, ROLE_PROJECT_MANAGER)
    role_id = role_id_of(srv, pm, project)
    root = srv.root
    grant(srv, root, role_id, [{"project_id": project, "granted_object_path": "/x/*", "operations": "download"}])
    with pytest.raises(ClientRequestException) as e:
        grant(srv, pm, role_id, [{"project_id": project, "granted_object_path": "/*", "operations": "download"}])
    assert_sdk_error(e.value, 403)
    resp = grant(srv, root, role_id, [{"project_id": project, "granted_object_path": "/*",
                                       "operations": "download,upload,managePrivileges"}])
    assert resp.status == "success"
    assert raw_privileges(srv, root, project)["operationsIndex"] == list(range(9))
