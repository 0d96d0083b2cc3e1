"""Issue 3 §7: the authorization matrix of the package protocols. Every built-in role (through its ProjectMan
role id) × every protocol operation (GET = download, PUT = upload, DELETE = delete) × a path inside and one
outside a granted glob, in a generic and a Maven repository; plus the same without any grant (the role's
defaults on `/*`), without credentials (401) and for a user outside the project (403).

The expected outcomes come from the defaults README.md documents ("Decisions": Privileges), written out
here, not imported from the code. A denied upload must not create the file and a denied delete must leave
it in place; an allowed delete must remove it."""

import pytest
import requests

from harness import PROJECTMAN_ROLES, unique

# README "Decisions where the seeds and SPEC are silent" → Privileges: each built-in role's default
# operations on `/*`.
ALL = ["download", "upload", "editRepository", "delete", "restore", "physicdelete", "createRepository",
       "clearall", "managePrivileges"]
PUBLISHER = ["download", "upload", "editRepository", "delete", "restore", "createRepository"]
CONTRIBUTOR = ["download", "upload", "delete", "restore"]
READER = ["download"]
DOCUMENTED_DEFAULTS = {
    3: ALL,            # Project manager
    4: CONTRIBUTOR,    # Developer
    5: CONTRIBUTOR,    # Test manager
    6: READER,         # Tester
    7: READER,         # Participant
    8: READER,         # Viewer
    9: PUBLISHER,      # Operation manager
    10: READER,        # Product manager
    11: PUBLISHER,     # System engineer
    12: CONTRIBUTOR,   # Committer
}
assert set(DOCUMENTED_DEFAULTS) == set(PROJECTMAN_ROLES)

# HTTP method → the catalog operation it needs.
PROTOCOL_OPS = {"GET": "download", "PUT": "upload", "DELETE": "delete"}

# Where the requests go. "defaults": a project where no role has grants, so the defaults on `/*` apply
# everywhere; "generic"/"maven": a project where each role's grant is its default operations on a glob
# below the repository, so only paths inside the glob are allowed.
AREAS = {
    # area: (directory inside the glob, directory outside it, file extension)
    "defaults": ("in", "out", "txt"),
    "generic": ("in", "out", "txt"),
    "maven": ("com/acme/lib/1.0", "org/other/lib/1.0", "jar"),
}
GLOBS = {"generic": "/%s/in/*", "maven": "/%s/com/acme/*"}


def file_path(area: str, where: str, name: str) -> str:
    """A file of `area` inside or outside the glob; Maven files follow the layout (classifier = name)."""
    inside, outside, ext = AREAS[area]
    directory = inside if where == "inside" else outside
    if area == "maven":
        return "%s/lib-1.0-%s.%s" % (directory, name, ext)
    return "%s/%s.%s" % (directory, name, ext)


# Grants of the Project manager role bind the root user too (it holds that role's rights in every project),
# and a role's grants apply to all its members: so the roles are restricted in two projects, half in each,
# and each project has an observer whose role is not restricted there to seed and check the files.
GROUPS = {"a": (3, 4, 5, 6, 7), "b": (8, 9, 10, 11, 12)}
OBSERVER_ROLE = {"a": 9, "b": 4}
GROUP_OF = {role: g for g, roles in GROUPS.items() for role in roles}


@pytest.fixture(scope="module")
def world(srv):
    """A project without grants holding every role (observer: root), and two projects where each role of
    the group has its default operations on the globs only, each with a generic and a Maven repository and
    an observer; the files every cell reads and deletes, uploaded by the observers."""
    plain = srv.create_project()
    repos = {("defaults", g): srv.create_repo(plain, "generic") for g in GROUPS}
    root_login = srv.repo_login()  # each reset replaces the password: one login, shared
    observers = {("defaults", g): root_login for g in GROUPS}
    members = {}
    for g, roles in GROUPS.items():
        project = srv.create_project()
        repos[("generic", g)] = srv.create_repo(project, "generic")
        repos[("maven", g)] = srv.create_maven_repo(project)["release"]
        observer = srv.create_user()
        srv.add_member(project, observer.user_id, OBSERVER_ROLE[g])
        observers[("generic", g)] = observers[("maven", g)] = srv.repo_login(observer)
        for role in roles:
            user = srv.create_user()
            srv.add_member(plain, user.user_id, role)
            srv.add_member(project, user.user_id, role)
            members[role] = (user, srv.repo_login(user), project)
            held = srv.privileges(user, project)  # the ProjectMan role id maps to the built-in role
            assert held["role_name"] == PROJECTMAN_ROLES[role][0] + ",", (role, held)
            srv.set_role_grants(held["role_id"].rstrip(","), [
                {"project_id": project, "granted_object_path": GLOBS[area] % repos[(area, g)],
                 "operations": ",".join(DOCUMENTED_DEFAULTS[role])}
                for area in ("generic", "maven")])
    world = {"repos": repos, "members": members, "observers": observers}
    names = ["read", "anon-del"] + ["del-%d" % role for role in PROJECTMAN_ROLES]
    for (area, g) in repos:
        for where in ("inside", "outside"):
            for name in names:
                url = url_of(srv, world, area, g, where, name)
                resp = requests.put(url, data=("%s %s %s" % (area, where, name)).encode(),
                                    auth=observers[(area, g)], timeout=10)
                assert resp.status_code == 201, (url, resp.status_code, resp.text)
    return world


def url_of(srv, world, area, group, where, name):
    return srv.url("/artifactory/%s/%s" % (world["repos"][(area, group)], file_path(area, where, name)))


def observed_status(srv, world, area, group, where, name) -> int:
    """What the project's observer gets for the file: 200 (there) or 404 (not there)."""
    return requests.get(url_of(srv, world, area, group, where, name), auth=world["observers"][(area, group)],
                        timeout=10).status_code


def assert_denied(resp):
    assert resp.status_code == 403, (resp.request.method, resp.url, resp.status_code, resp.text[:300])
    assert resp.json()["error_code"] == "ARCA.00000004", resp.text


def expected(role: int, area: str, where: str, method: str) -> bool:
    in_scope = area == "defaults" or where == "inside"
    return in_scope and PROTOCOL_OPS[method] in DOCUMENTED_DEFAULTS[role]


def test_the_grants_are_in_place(srv, world):
    """Seed 002's answer for a restricted member shows the two globs the matrix relies on."""
    user, _, project = world["members"][8]
    result = srv.privileges(user, project)
    assert result["granted_object_path"] == "%s,%s," % (GLOBS["generic"] % world["repos"][("generic", "b")],
                                                       GLOBS["maven"] % world["repos"][("maven", "b")])
    assert result["operations"] == "download"


@pytest.mark.parametrize("where", ["inside", "outside"])
@pytest.mark.parametrize("area", list(AREAS))
@pytest.mark.parametrize("role", sorted(PROJECTMAN_ROLES),
                         ids=["%d-%s" % (r, PROJECTMAN_ROLES[r][0].replace(" ", "_")) for r in
                              sorted(PROJECTMAN_ROLES)])
def test_matrix(srv, world, role, area, where):
    _, login, _ = world["members"][role]
    g = GROUP_OF[role]
    s = requests.Session()
    s.auth = login

    # download
    resp = s.get(url_of(srv, world, area, g, where, "read"), timeout=10)
    if expected(role, area, where, "GET"):
        assert resp.status_code == 200, (resp.status_code, resp.text[:300])
        assert resp.content == ("%s %s read" % (area, where)).encode()
    else:
        assert_denied(resp)

    # upload
    name = "put-%d" % role
    resp = s.put(url_of(srv, world, area, g, where, name), data=b"uploaded by %d" % role, timeout=10)
    if expected(role, area, where, "PUT"):
        assert resp.status_code == 201, (resp.status_code, resp.text[:300])
        assert requests.get(url_of(srv, world, area, g, where, name), auth=world["observers"][(area, g)],
                            timeout=10).content == b"uploaded by %d" % role
    else:
        assert_denied(resp)
        assert observed_status(srv, world, area, g, where, name) == 404, "a denied upload stored the file"

    # delete
    name = "del-%d" % role
    resp = s.delete(url_of(srv, world, area, g, where, name), timeout=10)
    if expected(role, area, where, "DELETE"):
        assert resp.status_code == 204, (resp.status_code, resp.text[:300])
        assert observed_status(srv, world, area, g, where, name) == 404, "an allowed delete left the file"
    else:
        assert_denied(resp)
        assert observed_status(srv, world, area, g, where, name) == 200, "a denied delete removed the file"


@pytest.mark.parametrize("area", list(AREAS))
def test_without_credentials_is_401(srv, world, area):
    for g in GROUPS:
        for where in ("inside", "outside"):
            for method, name, body in (("GET", "read", None), ("PUT", "anon-put", b"x"),
                                       ("DELETE", "anon-del", None)):
                resp = requests.request(method, url_of(srv, world, area, g, where, name), data=body, timeout=10)
                assert resp.status_code == 401, (method, where, resp.status_code, resp.text[:300])
                assert resp.headers["WWW-Authenticate"].startswith("Basic"), resp.headers
            assert observed_status(srv, world, area, g, where, "anon-put") == 404
            assert observed_status(srv, world, area, g, where, "anon-del") == 200
    # A wrong password is no better than none.
    _, (name, _), _ = world["members"][3]
    resp = requests.get(url_of(srv, world, area, "a", "inside", "read"), auth=(name, "wrong-password"),
                        timeout=10)
    assert resp.status_code == 401


def test_non_member_is_403_everywhere(srv, world):
    login = srv.repo_login(srv.create_user())
    for (area, g) in world["repos"]:
        for method, name in (("GET", "read"), ("PUT", "outsider-put"), ("DELETE", "anon-del")):
            resp = requests.request(method, url_of(srv, world, area, g, "inside", name), auth=login,
                                    data=b"x" if method == "PUT" else None, timeout=10)
            assert_denied(resp)
        assert observed_status(srv, world, area, g, "inside", "outsider-put") == 404
        assert observed_status(srv, world, area, g, "inside", "anon-del") == 200
