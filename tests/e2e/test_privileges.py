"""SPEC §5, seed 002: GET /cloudartifact/v3/user/{project_id}/privileges (and its v5 twin)."""

import re

import pytest
from huaweicloudsdkcodeartsartifact.v2 import ListUserPrivilegesRequest, ShowUserPrivilegesRequest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkprojectman.v4 import BatchDeleteMembersV4Request, BatchDeleteMembersV4RequestBody

from harness import (
    HEX32, OPERATIONS, PROJECTMAN_ROLES, ROLE_DEVELOPER, ROLE_PROJECT_MANAGER, ROLE_VIEWER, assert_auth_error,
    assert_error, assert_sdk_error,
)

RESULT_KEYS_V3 = {"operations", "operationsIndex", "role_id", "role_name", "role_chinese_name", "project_id",
                  "area_service_id", "granted_object_path", "granted_object_type_id"}
RESULT_KEYS_V5 = RESULT_KEYS_V3 - {"operationsIndex"} | {"operations_index"}
EMPTY_V3 = {"operations": "", "operationsIndex": [], "role_id": "", "role_name": "", "role_chinese_name": "",
            "project_id": "", "area_service_id": "", "granted_object_path": "", "granted_object_type_id": ""}
PATH_GLOB = re.compile(r"^/[A-Za-z0-9/*._-]*$")


@pytest.fixture(scope="module")
def member(srv, project):
    """One IAM user per ProjectMan role id, each a member of `project` with that role."""
    users = {}
    for role_id in (ROLE_PROJECT_MANAGER, ROLE_DEVELOPER, ROLE_VIEWER):
        user = srv.create_user()
        srv.add_member(project, user.user_id, role_id)
        users[role_id] = user
    return users


def v3_raw(srv, user, project_id):
    """The v3 answer as raw JSON (the SDK renames keys), with the response for its headers."""
    resp = srv.signed("GET", "/cloudartifact/v3/user/%s/privileges" % project_id, ak=user.ak, sk=user.sk)
    assert resp.status_code == 200, resp.text
    return resp, resp.json()


def sdk_v3(srv, user, project_id):
    return srv.artifact_client(user.ak, user.sk).show_user_privileges(ShowUserPrivilegesRequest(project_id=project_id))


def parts(value: str):
    """'a,b,' -> ['a', 'b']: every entry's value is followed by a comma."""
    assert value.endswith(","), "each entry's value must be followed by a comma: %r" % value
    return value[:-1].split(",")


def assert_merged_result(result: dict, project_id: str, role_name: str, role_chinese_name: str, index_key: str):
    ops = result["operations"].split(",") if result["operations"] else []
    index = result[index_key]
    assert index == sorted(set(index)), "operationsIndex must be ascending without repeats: %r" % index
    assert all(0 <= i < len(OPERATIONS) for i in index), index
    assert ops == [OPERATIONS[i] for i in index], "operations must follow the catalog order of operationsIndex"
    role_ids = parts(result["role_id"])
    assert all(HEX32.match(r) for r in role_ids) and len(set(role_ids)) == 1, role_ids
    n = len(role_ids)
    assert parts(result["role_name"]) == [role_name] * n
    assert parts(result["role_chinese_name"]) == [role_chinese_name] * n
    assert parts(result["project_id"]) == [project_id] * n
    assert len(parts(result["area_service_id"])) == n
    paths = parts(result["granted_object_path"])
    assert len(paths) == n and all(PATH_GLOB.match(p) for p in paths), paths
    type_ids = result["granted_object_type_id"].split(",")
    assert not result["granted_object_type_id"].endswith(",")
    assert len(type_ids) == len(set(type_ids)), "granted_object_type_id holds distinct values"
    return set(ops)


def test_non_member_gets_the_empty_shape(srv, project):
    stranger = srv.create_user()
    resp, body = v3_raw(srv, stranger, project)
    assert body["status"] == "success"
    assert body["result"] == EMPTY_V3


def test_envelope_spells_traceId(srv, project):
    stranger = srv.create_user()
    resp, body = v3_raw(srv, stranger, project)
    assert set(body) == {"status", "traceId", "result"}
    assert body["traceId"] == resp.headers["X-Request-Id"]


def test_unknown_project_is_404(srv):
    assert_error(srv.signed("GET", "/cloudartifact/v3/user/%s/privileges" % ("Z" * 32)), 404)


@pytest.mark.parametrize("role_id", [ROLE_PROJECT_MANAGER, ROLE_DEVELOPER, ROLE_VIEWER])
def test_member_gets_role_entries(srv, project, member, role_id):
    name, chinese = PROJECTMAN_ROLES[role_id]
    _, body = v3_raw(srv, member[role_id], project)
    assert set(body["result"]) == RESULT_KEYS_V3
    ops = assert_merged_result(body["result"], project, name, chinese, "operationsIndex")
    assert ops, "a built-in role grants at least one operation"


def test_roles_have_distinct_role_ids(srv, project, member):
    ids = {parts(v3_raw(srv, member[r], project)[1]["result"]["role_id"])[0] for r in member}
    assert len(ids) == len(member)


def test_role_ids_are_the_same_across_projects(srv, member, project):
    other = srv.create_project()
    srv.add_member(other, member[ROLE_DEVELOPER].user_id, ROLE_DEVELOPER)
    first = v3_raw(srv, member[ROLE_DEVELOPER], project)[1]["result"]["role_id"]
    second = v3_raw(srv, member[ROLE_DEVELOPER], other)[1]["result"]["role_id"]
    assert first == second, "built-in roles have fixed role ids"


def test_default_operations_grow_with_the_role(srv, project, member):
    def ops(role_id):
        return set(v3_raw(srv, member[role_id], project)[1]["result"]["operations"].split(","))
    viewer, developer, manager = ops(ROLE_VIEWER), ops(ROLE_DEVELOPER), ops(ROLE_PROJECT_MANAGER)
    assert "download" in viewer and not viewer & {"upload", "delete", "physicdelete", "managePrivileges"}
    assert {"download", "upload"} <= developer and "managePrivileges" not in developer
    assert viewer <= developer <= manager
    assert "managePrivileges" in manager


def test_creator_has_project_manager_rights(srv, project):
    _, body = v3_raw(srv, srv.root, project)
    ops = assert_merged_result(body["result"], project, "Project manager", "项目经理", "operationsIndex")
    assert "managePrivileges" in ops


def test_sdk_show_user_privileges(srv, project, member):
    resp = sdk_v3(srv, member[ROLE_DEVELOPER], project)
    assert resp.status == "success"
    assert resp.trace_id
    assert resp.result.role_name == "Developer," * len(parts(resp.result.role_id))
    assert resp.result.operations_index == sorted(resp.result.operations_index)


def test_sdk_v5_list_user_privileges(srv, project, member):
    user = member[ROLE_DEVELOPER]
    resp = srv.artifact_client(user.ak, user.sk).list_user_privileges(ListUserPrivilegesRequest(project_id=project))
    body = resp.to_json_object()
    assert set(body) == {"status", "trace_id", "result"}
    assert set(body["result"]) == RESULT_KEYS_V5
    assert_merged_result(body["result"], project, "Developer", "开发人员", "operations_index")
    v3 = v3_raw(srv, user, project)[1]["result"]
    assert body["result"]["operations"] == v3["operations"]


@pytest.mark.parametrize("bad", ["abc", "A" * 31, "A" * 33, "A" * 31 + "-", "A" * 31 + "_"])
def test_malformed_project_id_is_400(srv, bad):
    with pytest.raises(ClientRequestException) as e:
        sdk_v3(srv, srv.root, bad)
    assert_sdk_error(e.value, 400)


def test_removed_member_gets_the_empty_shape(srv, project):
    user = srv.create_user()
    srv.add_member(project, user.user_id, ROLE_DEVELOPER)
    assert v3_raw(srv, user, project)[1]["result"]["operations"]
    srv.projectman_client().batch_delete_members_v4(BatchDeleteMembersV4Request(
        project_id=project, body=BatchDeleteMembersV4RequestBody(user_ids=[user.user_id])))
    assert v3_raw(srv, user, project)[1]["result"] == EMPTY_V3


def test_privileges_require_authentication(srv, project):
    assert_auth_error(srv.get("/cloudartifact/v3/user/%s/privileges" % project))
