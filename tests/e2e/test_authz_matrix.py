"""Issue 3 §5: the authorization matrix over HTTP against the real binary — every built-in role (through its
ProjectMan role id) × download/upload/delete × a path inside and outside a granted glob.

The expected table is README.md's documented defaults, written out here independently of the code."""

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    PrivilegeParam, RolePrivilegeV5, ShowUserPrivilegesRequest, UpdateRepoRolesPrivilegeRequest,
)

# ProjectMan role id → (English name, operations of README's defaults among download/upload/delete).
ALL = {"download", "upload", "delete"}
ROLES = {
    3: ("Project manager", ALL),
    9: ("Operation manager", ALL),
    11: ("System engineer", ALL),
    5: ("Test manager", ALL),
    12: ("Committer", ALL),
    4: ("Developer", ALL),
    10: ("Product manager", {"download"}),
    6: ("Tester", {"download"}),
    7: ("Participant", {"download"}),
    8: ("Viewer", {"download"}),
}
# README's full default operation lists, granted back on the glob so only the path decides.
DEFAULT_OPERATIONS = {
    "Project manager": "download,upload,editRepository,delete,restore,physicdelete,createRepository,clearall,"
                       "managePrivileges",
    "Operation manager": "download,upload,editRepository,delete,restore,createRepository",
    "System engineer": "download,upload,editRepository,delete,restore,createRepository",
    "Test manager": "download,upload,delete,restore",
    "Committer": "download,upload,delete,restore",
    "Developer": "download,upload,delete,restore",
    "Product manager": "download",
    "Tester": "download",
    "Participant": "download",
    "Viewer": "download",
}
METHOD = {"download": "GET", "upload": "PUT", "delete": "DELETE"}
ALLOWED_STATUS = {"download": {200}, "upload": {201, 200}, "delete": {204, 200}}


@pytest.fixture(scope="module")
def world(module_arca):
    srv = module_arca
    project = srv.create_project()
    repo = srv.create_repo(project, "generic")
    root_login = srv.repo_login()
    members = {}
    for role_id, (name, _) in ROLES.items():
        user = srv.create_user()
        srv.add_member(project, user.user_id, role_id)
        privileges = srv.artifact_client(user.ak, user.sk).show_user_privileges(
            ShowUserPrivilegesRequest(project_id=project)).result
        assert privileges.role_name.rstrip(",") == name
        members[name] = {"login": srv.repo_login(user), "role_id": privileges.role_id.rstrip(",")}
    return srv, project, repo, root_login, members


def seed_file(srv, repo, root_login, path):
    resp = requests.put(srv.url("/artifactory/%s/%s" % (repo, path)), data=b"seed", auth=root_login, timeout=10)
    assert resp.status_code in (200, 201), resp.text


def attempt(srv, repo, login, op, path):
    url = srv.url("/artifactory/%s/%s" % (repo, path))
    return requests.request(METHOD[op], url, data=b"payload" if op == "upload" else None, auth=login,
                            timeout=10).status_code


def matrix_path(place, name, op):
    return "%s/%s/%s.txt" % (place, name.replace(" ", "-"), op)


def seed_matrix(srv, repo, root_login, members, place):
    for name in members:
        for op in ("download", "upload", "delete"):
            seed_file(srv, repo, root_login, matrix_path(place, name, op))


def check_matrix(srv, repo, root_login, members, place, expected_of):
    failures = []
    for name, member in members.items():
        for op in ("download", "upload", "delete"):
            path = matrix_path(place, name, op)
            status = attempt(srv, repo, member["login"], op, path)
            allowed = op in expected_of(name)
            ok = status in ALLOWED_STATUS[op] if allowed else status == 403
            if not ok:
                failures.append("%s %s %s: %d (expected %s)" % (name, op, place, status,
                                                                "allow" if allowed else "403"))
    assert not failures, "\n".join(failures)


def test_defaults_apply_to_the_whole_project(world):
    srv, _, repo, root_login, members = world
    seed_matrix(srv, repo, root_login, members, "anywhere")
    check_matrix(srv, repo, root_login, members, "anywhere", lambda name: dict(ROLES.values())[name])


def test_without_credentials_every_operation_is_401(world):
    srv, _, repo, root_login, _ = world
    seed_file(srv, repo, root_login, "anon/file.txt")
    for op in ("download", "upload", "delete"):
        resp = requests.request(METHOD[op], srv.url("/artifactory/%s/anon/file.txt" % repo), timeout=10)
        assert resp.status_code == 401, op
        assert resp.headers["WWW-Authenticate"].startswith("Basic")


def test_granted_glob_decides_inside_and_outside(world):
    srv, project, repo, root_login, members = world
    # Seeded first: the grants below also narrow the root user's Project manager rights to the glob.
    seed_matrix(srv, repo, root_login, members, "inside")
    seed_matrix(srv, repo, root_login, members, "outside")
    client = srv.artifact_client()
    for name, member in members.items():
        client.update_repo_roles_privilege(UpdateRepoRolesPrivilegeRequest(
            role_id=member["role_id"], body=RolePrivilegeV5(privileges=[PrivilegeParam(
                project_id=project, granted_object_path="/%s/inside/*" % repo,
                operations=DEFAULT_OPERATIONS[name])])))
    check_matrix(srv, repo, root_login, members, "inside", lambda name: dict(ROLES.values())[name])
    check_matrix(srv, repo, root_login, members, "outside", lambda name: set())
