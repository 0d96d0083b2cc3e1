"""Issue 10 §4/§5, scope and isolation: what is not the caller's stays invisible.

Two accounts (domains) share one server (`two_domains`). Account A holds a repository of every format,
with files and packages whose names all carry `SECRET`. Every management endpoint of `src/http/artifact`
and every protocol request is sent by account B (signature, token, repo user, ticket; and without
credentials) once with A's names and ids and once with names and ids that exist nowhere ("ghosts"). The
two answers must be the same once what the caller typed is blanked out: same status, same headers that
matter, same bytes. So A's repositories answer exactly as missing ones do (404 to a caller with
credentials, 401 without), and no answer carries a name, id, count or byte of A that the caller did not type.

Then tickets: one scoped to a repository (or to a path in it) sees only that on the management API, is
refused by IAM, ProjectMan and ticket management without spending a use, and a Basic login naming the
wrong user with a valid ticket is refused without spending one either.
"""

import base64
import hashlib
import io
import json
import secrets
import struct
import zipfile

import pytest
import requests

from harness import ROLE_VIEWER, assert_auth_error, unique

SECRET = "topsecret" + secrets.token_hex(4)
CONTENT = ("content of %s" % SECRET).encode()
NPM_PKG = SECRET + "-pkg"
PY_PROJECT = SECRET + "-lib"
WHEEL = "%s_lib-1.0-py3-none-any.whl" % SECRET
CRATE = SECRET + "-crate"
ARTIFACT = SECRET + "art"


def ghost_hex() -> str:
    return secrets.token_hex(16)


def wheel(name: str, version: str) -> bytes:
    module = name.replace("-", "_")
    dist_info = "%s-%s.dist-info" % (module, version)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("%s/__init__.py" % module, "VALUE = %r\n" % SECRET)
        z.writestr("%s/METADATA" % dist_info, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version))
        z.writestr("%s/WHEEL" % dist_info, "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("%s/RECORD" % dist_info, "")
    return buf.getvalue()


def npm_document(name: str, version: str, tarball: bytes) -> dict:
    return {"name": name, "dist-tags": {"latest": version},
            "versions": {version: {"name": name, "version": version,
                                   "dist": {"shasum": hashlib.sha1(tarball).hexdigest()}}},
            "_attachments": {"%s-%s.tgz" % (name, version): {"data": base64.b64encode(tarball).decode(),
                                                              "length": len(tarball)}}}


def crate_frame(name: str, version: str, crate: bytes) -> bytes:
    meta = json.dumps({"name": name, "vers": version, "deps": [], "features": {}}).encode()
    return struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate)) + crate


def pypi_form(project: str, version: str, filename: str, content: bytes) -> dict:
    return {"data": {":action": "file_upload", "name": project, "version": version, "filetype": "bdist_wheel",
                     "sha256_digest": hashlib.sha256(content).hexdigest()},
            "files": {"content": (filename, content)}}


def repo_view(srv, key: str) -> dict:
    resp = srv.signed("GET", "/cloudartifact/v5/repositories/%s" % key)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]


def ticket(srv, embed_id: str = "", left_num: int = 1000, user_id: str = "") -> dict:
    body = {"left_num": left_num, "embed_id": embed_id}
    if user_id:
        body["user_id"] = user_id
    resp = srv.signed("POST", "/v1/%s/tickets" % srv.iam_project_id, body=body)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def left_num(srv, public_id: str) -> int:
    resp = srv.signed("GET", "/v1/%s/tickets" % srv.iam_project_id, query={"limit": "1000"})
    assert resp.status_code == 200, resp.text
    rows = [r for r in resp.json()["page_data"] if r["ticket"] == public_id]
    return rows[0]["left_num"] if rows else 0


@pytest.fixture(scope="module")
def world(two_domains):
    a, b = two_domains
    assert a.domain_id != b.domain_id
    project = a.create_project()
    login = a.repo_login()
    gen = a.create_repo(project, "generic", name=SECRET + "-gen")
    mvn = a.create_maven_repo(project, name=SECRET + "-mvn")
    npm = a.create_repo(project, "npm", name=SECRET + "-npm")
    pypi = a.create_repo(project, "pypi", name=SECRET + "-pypi")
    cargo = a.create_repo(project, "cargo", name=SECRET + "-cargo")
    put = lambda path, data: requests.put(a.url(path), data=data, auth=login, timeout=30)
    assert put("/artifactory/%s/dir/%s-file.txt" % (gen, SECRET), CONTENT).status_code == 201
    jar_dir = "/artifactory/%s/com/acme/%s/1.0/" % (mvn["release"], ARTIFACT)
    assert put(jar_dir + "%s-1.0.jar" % ARTIFACT, CONTENT).status_code == 201
    assert put(jar_dir + "%s-1.0.pom" % ARTIFACT, b"<project/>").status_code == 201
    resp = requests.put(a.url("/artifactory/api/npm/%s/%s" % (npm, NPM_PKG)),
                        json=npm_document(NPM_PKG, "1.0.0", CONTENT), auth=login, timeout=30)
    assert resp.status_code == 201, resp.text
    content = wheel(PY_PROJECT, "1.0")
    resp = requests.post(a.url("/artifactory/api/pypi/%s/" % pypi), auth=login, timeout=30,
                         **pypi_form(PY_PROJECT, "1.0", WHEEL, content))
    assert resp.status_code == 200, resp.text
    resp = requests.put(a.url("/artifactory/api/cargo/%s/api/v1/crates/new" % cargo),
                        data=crate_frame(CRATE, "0.1.0", CONTENT), auth=login, timeout=30)
    assert resp.status_code == 200, resp.text

    gen_view = repo_view(a, gen)
    real = {
        "tenant": a.domain_id, "project": project, "gen": gen, "gen_id": gen_view["id"],
        "tab": gen_view["tabId"], "mvn": mvn["release"], "mvn_id": mvn["release_id"],
        "mvn_tab": repo_view(a, mvn["release"])["tabId"], "npm": npm, "npm_id": repo_view(a, npm)["id"],
        "pypi": pypi, "pypi_id": repo_view(a, pypi)["id"], "cargo": cargo, "cargo_id": repo_view(a, cargo)["id"],
        "sha256": hashlib.sha256(CONTENT).hexdigest(),
    }
    ghost = {k: (ghost_hex() if k.endswith(("_id", "tab", "tenant")) else "ghost-" + secrets.token_hex(6))
             for k in real}
    ghost["project"] = secrets.token_hex(16)
    ghost["sha256"] = secrets.token_hex(32)

    b_project = b.create_project()
    b_repo = b.create_repo(b_project, "generic")
    b_login = b.repo_login()
    return {"a": a, "b": b, "real": real, "ghost": ghost, "a_login": login, "a_project": project,
            "b_project": b_project, "b_repo": b_repo, "b_login": b_login,
            "b_token": b.root_token(),
            "b_ticket": ticket(b, embed_id=b_repo, left_num=100000)["value"]}


# -- comparing answers -------------------------------------------------------------------------------------

def fill(template, keys: dict):
    """`template` (a string, or JSON-like data holding strings) with every `{label}` replaced."""
    if isinstance(template, str):
        for label, value in keys.items():
            template = template.replace("{%s}" % label, value)
        return template
    if isinstance(template, dict):
        return {fill(k, keys): fill(v, keys) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, keys) for v in template]
    return template


def normalised(resp: requests.Response, typed: dict) -> tuple:
    """What a caller can tell an answer by, with what it typed blanked out (and the trace id)."""
    text = resp.content.decode("utf-8", errors="replace")
    headers = {h: resp.headers.get(h, "") for h in ("Content-Type", "WWW-Authenticate", "Location")}
    trace = resp.headers.get("X-Request-Id")
    values = sorted(typed.items(), key=lambda kv: -len(kv[1]))
    for label, value in values:
        text = text.replace(value, "<%s>" % label)
        headers = {h: v.replace(value, "<%s>" % label) for h, v in headers.items()}
    if trace:
        text = text.replace(trace, "<trace>")
    return resp.status_code, headers, text


def assert_hidden(real: requests.Response, ghost: requests.Response, world, label: str, statuses=(404,)):
    real_view = normalised(real, world["real"])
    ghost_view = normalised(ghost, world["ghost"])
    assert real_view == ghost_view, "%s: another account's repository is told apart from a missing one\n" \
                                    "theirs: %r\nmissing: %r" % (label, real_view, ghost_view)
    assert real.status_code in statuses, (label, real.status_code, real.text[:300])
    leaks = [v for v in [SECRET, *world["real"].values()] if v in real_view[2] or v in str(real_view[1])]
    assert not leaks, "%s: the answer carries %r: %s" % (label, leaks, real_view)


# -- management API ----------------------------------------------------------------------------------------

# (method, path, query, body); `{my_tenant}`/`{my_project}` are the caller's own, the rest A's (or ghosts).
MANAGEMENT = [
    ("GET", "/cloudartifact/v5/repositories/{gen}", None, None),
    ("GET", "/cloudartifact/v5/repositories/{gen_id}", None, None),
    ("GET", "/cloudartifact/v5/repositories/{mvn_id}", None, None),
    ("GET", "/cloudartifact/v5/{tenant}/{project}/repositories", None, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{project}/repositories", None, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{my_project}/repositories",
     {"in_project": "false", "qname": "{gen}"}, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{my_project}/repositories", {"in_project": "false", "group_id": "{tab}"},
     None),
    ("GET", "/cloudartifact/v5/{tenant}/{project}/{gen}/repositories", None, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{project}/{gen_id}/repositories", None, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{my_project}/{gen}/repositories", None, None),
    ("GET", "/cloudartifact/v5/{tenant}/{project}/{gen}/file-tree", {"path": "/dir"}, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{project}/{gen}/file-tree", {"path": "/"}, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{my_project}/{gen_id}/file-tree",
     {"path": "/dir", "is_recycle_bin": "true"}, None),
    ("GET", "/cloudartifact/v5/{tenant}/{project}/{gen}/file-detail", {"path": "dir/%s-file.txt" % SECRET}, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{project}/{gen_id}/file-detail", {"path": "dir"}, None),
    ("GET", "/cloudartifact/v5/search/checksum", {"checksum": "{sha256}"}, None),
    ("GET", "/cloudartifact/v5/search/checksum", {"checksum": "{sha256}", "in_project": "true",
                                                  "project_id": "{project}"}, None),
    ("POST", "/cloudartifact/v5/tree/repos/artifacts", None, {"artifact_name": SECRET}),
    ("POST", "/cloudartifact/v5/tree/repos/artifacts", None,
     {"artifact_name": "file", "in_project": True, "project_id": "{project}"}),
    ("GET", "/cloudartifact/v5/repositories/{project}/{gen_id}/privileges", None, None),
    ("GET", "/cloudartifact/v5/repositories/{my_project}/{gen}/privileges", None, None),
    ("GET", "/cloudartifact/v5/projects/{project}/users", None, None),
    ("GET", "/cloudartifact/v5/projects/{project}/users", {"repo_id": "{gen_id}"}, None),
    ("GET", "/cloudartifact/v5/projects/{my_project}/users", {"repo_id": "{gen}"}, None),
    ("GET", "/cloudartifact/v3/user/{project}/privileges", None, None),
    ("GET", "/v5/user/{project}/privileges", None, None),
    ("GET", "/cloudartifact/v5/{my_tenant}/{my_project}/storageinfo/statistic", {"repo": "{gen}"}, None),
    ("GET", "/cloudartifact/v5/{tenant}/{project}/storageinfo/statistic", {"repo": "{gen_id}"}, None),
    ("GET", "/cloudartifact/v5/maven/info", {"ids": "{mvn_id}"}, None),
    ("GET", "/cloudartifact/v5/maven/info", {"project_id": "{project}"}, None),
    ("PUT", "/cloudartifact/v5/repositories/{role}/privileges", None,
     {"privileges": [{"project_id": "{project}", "granted_object_path": "/{gen}/*", "operations": "download"}]}),
    ("PUT", "/cloudartifact/v5/artifact/", None, {"repo_name": "{gen}", "description": "mine now"}),
    ("PUT", "/cloudartifact/v5/artifact/", None, {"repo_name": "{mvn_id}", "allow_anonymous": True}),
    ("PUT", "/cloudartifact/v5/repositories/tab/{mvn_tab}", None, {"description": "mine now"}),
    ("POST", "/cloudartifact/v5/artifact/", None,
     {"format": "generic", "type": "hosted", "repository_name": "probe-in-theirs", "project_id": "{project}"}),
    ("POST", "/cloudartifact/v5/maven/repositories", None,
     {"repository_name": "probe-in-theirs", "format": "maven2", "type": "hosted", "project_id": "{project}"}),
    ("DELETE", "/cloudartifact/v5/file", None, {"path": "/{gen}/dir/%s-file.txt" % SECRET}),
    ("DELETE", "/cloudartifact/v5/file", None, {"path": "/{gen_id}/dir"}),
    ("PUT", "/cloudartifact/v5/trashes", None, [{"id": "{gen_id}", "uri": ""}]),
    ("PUT", "/cloudartifact/v5/trashes", None, [{"id": "{gen}", "uri": "/dir"}]),
    ("DELETE", "/cloudartifact/v5/trashes", None, [{"id": "{gen_id}", "uri": ""}]),
    ("DELETE", "/cloudartifact/v5/trashes", None, [{"id": "{gen}", "uri": "/{gen}/dir"}]),
    ("DELETE", "/cloudartifact/v5/repositories", None, {"repository_ids": "{gen_id}"}),
    ("DELETE", "/cloudartifact/v5/repositories", None, {"repository_ids": "{mvn}"}),
]


def management_callers(world):
    b, token, tick = world["b"], world["b_token"], world["b_ticket"]

    def signed(method, path, query, body):
        return b.signed(method, requests.utils.requote_uri(path), query=query, body=body)

    def by_token(method, path, query, body):
        return b.request(method, path, params=query, json=body, headers={"X-Auth-Token": token})

    def by_ticket(method, path, query, body):
        return b.request(method, path, params=query, json=body, headers={"Authorization": "Bearer " + tick})

    return {"signature": signed, "token": by_token, "ticket": by_ticket}


def management_ids(case):
    method, path, query, body = case
    return "%s %s %s" % (method, path, json.dumps(query or body or ""))


@pytest.mark.parametrize("case", MANAGEMENT, ids=management_ids)
def test_management_answers_another_accounts_repositories_as_missing(world, case):
    method, path, query, body = case
    role_id = world["a"].privileges(world["a"].root, world["a_project"])["role_id"].rstrip(",")
    own = {"my_tenant": world["b"].domain_id, "my_project": world["b_project"], "role": role_id}
    for name, call in management_callers(world).items():
        if name == "ticket" and method != "GET":
            continue
        answers = []
        for keys in (world["real"], world["ghost"]):
            keys = dict(keys, **own)
            answers.append(call(method, fill(path, keys), fill(query, keys), fill(body, keys)))
        assert_hidden(*answers, world, "%s as %s" % (management_ids(case), name), statuses=(200, 404))


def test_account_a_is_intact_and_b_lists_none_of_it(world):
    """After every probe above: A's repositories and file are untouched, and B's unfiltered lists, searches
    and totals hold nothing of A."""
    a, b = world["a"], world["b"]
    got = requests.get(a.url("/artifactory/%s/dir/%s-file.txt" % (world["real"]["gen"], SECRET)),
                       auth=world["a_login"], timeout=10)
    assert got.content == CONTENT
    for key in ("gen", "mvn", "npm", "pypi", "cargo"):
        view = repo_view(a, world["real"][key])
        assert view["status"] == "active" and view["allowAnonymous"] is False, view
        assert view["description"] != "mine now", view
    answers = [
        b.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (b.domain_id, world["b_project"]),
                 query={"in_project": "false", "is_need_paging": "false"}),
        b.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (b.domain_id, world["b_project"]),
                 query={"in_project": "false", "is_recycle_bin": "true"}),
        b.signed("GET", "/cloudartifact/v5/storage"),
        b.signed("GET", "/cloudartifact/v5/maven/info"),
        b.signed("GET", "/cloudartifact/v5/repositories/users"),
        b.signed("POST", "/cloudartifact/v5/tree/repos/artifacts", body={"artifact_name": "-"}),
    ]
    for resp in answers:
        assert resp.status_code == 200, resp.text
        assert SECRET not in resp.text and a.domain_id not in resp.text and world["a_project"] not in resp.text
    listed = answers[0].json()["result"]
    assert [r["name"] for r in listed["repositories"]] == [world["b_repo"]]
    assert answers[2].json()["result"]["totalCount"] == 0


# -- protocols ---------------------------------------------------------------------------------------------

INDEX_PATH = "%s/%s/%s" % (CRATE[:2], CRATE[2:4], CRATE)
NPM_ABBREVIATED = {"Accept": "application/vnd.npm.install-v1+json"}

# (method, path, extra keyword arguments of requests)
PROTOCOL = [
    ("GET", "/artifactory/{gen}/dir/%s-file.txt" % SECRET, {}),
    ("HEAD", "/artifactory/{gen}/dir/%s-file.txt" % SECRET, {}),
    ("GET", "/artifactory/{gen_id}/dir/%s-file.txt" % SECRET, {}),
    ("GET", "/artifactory/{gen}/", {}),
    ("GET", "/artifactory/{gen}/dir/", {"headers": {"Accept": "application/json"}}),
    ("GET", "/artifactory/{gen}/missing.txt", {}),
    ("PUT", "/artifactory/{gen}/dir/new.txt", {"data": b"not yours"}),
    ("DELETE", "/artifactory/{gen}/dir/%s-file.txt" % SECRET, {}),
    ("GET", "/artifactory/{mvn}/com/acme/%s/1.0/%s-1.0.jar" % (ARTIFACT, ARTIFACT), {}),
    ("GET", "/artifactory/{mvn_id}/com/acme/%s/1.0/%s-1.0.jar.sha1" % (ARTIFACT, ARTIFACT), {}),
    ("GET", "/artifactory/{mvn}/com/acme/%s/maven-metadata.xml" % ARTIFACT, {}),
    ("PUT", "/artifactory/{mvn}/com/acme/%s/2.0/%s-2.0.jar" % (ARTIFACT, ARTIFACT), {"data": b"not yours"}),
    ("GET", "/artifactory/api/npm/{npm}/%s" % NPM_PKG, {}),
    ("GET", "/artifactory/api/npm/{npm_id}/%s" % NPM_PKG, {"headers": NPM_ABBREVIATED}),
    ("GET", "/artifactory/api/npm/{npm}/%s/-/%s-1.0.0.tgz" % (NPM_PKG, NPM_PKG), {}),
    ("GET", "/artifactory/api/npm/{npm}/-/package/%s/dist-tags" % NPM_PKG, {}),
    ("GET", "/artifactory/api/npm/{npm}/-/ping", {}),
    ("GET", "/artifactory/api/npm/{npm}/-/whoami", {}),
    ("PUT", "/artifactory/api/npm/{npm}/%s" % NPM_PKG, {"json": npm_document(NPM_PKG, "2.0.0", b"not yours")}),
    ("DELETE", "/artifactory/api/npm/{npm}/%s/-rev/1-0" % NPM_PKG, {}),
    ("GET", "/artifactory/api/pypi/{pypi}/simple/", {}),
    ("GET", "/artifactory/api/pypi/{pypi}/simple", {"allow_redirects": False}),
    ("GET", "/artifactory/api/pypi/{pypi}/simple/%s/" % PY_PROJECT, {}),
    ("GET", "/artifactory/api/pypi/{pypi_id}/simple/%s/" % PY_PROJECT,
     {"headers": {"Accept": "application/vnd.pypi.simple.v1+json"}}),
    ("GET", "/artifactory/api/pypi/{pypi}/simple/%s" % PY_PROJECT.upper(), {"allow_redirects": False}),
    ("GET", "/artifactory/api/pypi/{pypi}/packages/%s/1.0/%s" % (PY_PROJECT, WHEEL), {}),
    ("GET", "/artifactory/api/pypi/{pypi}/packages/%s/1.0/%s.metadata" % (PY_PROJECT, WHEEL), {}),
    ("GET", "/artifactory/api/pypi/{pypi}/nothing/here", {}),
    ("POST", "/artifactory/api/pypi/{pypi}/", pypi_form(PY_PROJECT, "2.0", WHEEL.replace("1.0", "2.0"), b"x")),
    ("POST", "/artifactory/api/pypi/{pypi}/yank", {"data": {"project": PY_PROJECT, "version": "1.0"}}),
    ("GET", "/artifactory/api/cargo/{cargo}/index/config.json", {}),
    ("GET", "/artifactory/api/cargo/{cargo_id}/index/config.json", {}),
    ("GET", "/artifactory/api/cargo/{cargo}/index/%s" % INDEX_PATH, {}),
    ("GET", "/artifactory/api/cargo/{cargo}/api/v1/crates/%s/0.1.0/download" % CRATE, {}),
    ("GET", "/artifactory/api/cargo/{cargo}/api/v1/crates", {"params": {"q": SECRET}}),
    ("GET", "/artifactory/api/cargo/{cargo}/api/v1/crates/%s/owners" % CRATE, {}),
    ("PUT", "/artifactory/api/cargo/{cargo}/api/v1/crates/new", {"data": crate_frame(CRATE, "9.0.0", b"x")}),
    ("DELETE", "/artifactory/api/cargo/{cargo}/api/v1/crates/%s/0.1.0/yank" % CRATE, {}),
    ("GET", "/artifactory/api/cargo/{cargo}/nothing", {}),
]


def protocol_callers(world):
    b = world["b"]
    basic = world["b_login"]

    def with_headers(extra):
        def call(method, url, kwargs):
            kwargs = dict(kwargs)
            kwargs["headers"] = dict(kwargs.get("headers", {}), **extra)
            return requests.request(method, url, timeout=30, **kwargs)
        return call

    def by_basic(method, url, kwargs):
        return requests.request(method, url, auth=basic, timeout=30, **kwargs)

    def signed(method, url, kwargs):
        if method not in ("GET", "HEAD"):
            return None
        path = url[len(b.base_url):]
        params = kwargs.get("params")
        return b.signed(method, path, query=params, headers=kwargs.get("headers"))

    return {
        "repo user": by_basic,
        "token": with_headers({"X-Auth-Token": world["b_token"]}),
        "ticket": with_headers({"Authorization": "Bearer " + world["b_ticket"]}),
        "cargo ticket": with_headers({"Authorization": world["b_ticket"]}),
        "signature": signed,
        "anonymous": with_headers({}),
    }


def protocol_ids(case):
    return "%s %s" % (case[0], case[1])


@pytest.mark.parametrize("case", PROTOCOL, ids=protocol_ids)
def test_protocols_answer_another_accounts_repositories_as_missing(world, case):
    method, path, kwargs = case
    for name, call in protocol_callers(world).items():
        if name == "cargo ticket" and "/api/cargo/" not in path:
            continue
        answers = [call(method, world["b"].url(fill(path, keys)), kwargs)
                   for keys in (world["real"], world["ghost"])]
        if answers[0] is None:
            continue
        # Without credentials a repository that is not public is a challenge, whether or not it exists.
        statuses = (401,) if name == "anonymous" else (404,)
        assert_hidden(*answers, world, "%s as %s" % (protocol_ids(case), name), statuses=statuses)


def test_npm_login_to_another_accounts_repository_is_missing(world):
    """`npm login` authenticates with the body's repo user; a repository of another account is not there
    for that user, as a missing one."""
    user, password = world["b_login"]
    path = "/artifactory/api/npm/{npm}/-/user/org.couchdb.user:%s" % user
    answers = [requests.put(world["b"].url(fill(path, keys)), json={"name": user, "password": password},
                            timeout=30) for keys in (world["real"], world["ghost"])]
    assert_hidden(*answers, world, "npm login")
    mine = world["b"].create_repo(world["b_project"], "npm")
    own = requests.put(world["b"].url("/artifactory/api/npm/%s/-/user/org.couchdb.user:%s" % (mine, user)),
                       json={"name": user, "password": password}, timeout=30)
    assert own.status_code == 201, own.text


def test_public_repositories_stay_readable_by_anyone(world):
    """The anonymous switch opens reads to everyone, other accounts included; writes stay closed."""
    a = world["a"]
    public = a.create_repo(world["a_project"], "generic", name=SECRET + "-public")
    resp = a.signed("PUT", "/cloudartifact/v5/artifact/", body={"repo_name": public, "allow_anonymous": True})
    assert resp.status_code == 200, resp.text
    url = a.url("/artifactory/%s/open.txt" % public)
    assert requests.put(url, data=b"open", auth=world["a_login"], timeout=10).status_code == 201
    assert requests.get(url, timeout=10).content == b"open"
    assert requests.get(url, auth=world["b_login"], timeout=10).content == b"open"
    denied = requests.put(url, data=b"B's", auth=world["b_login"], timeout=10)
    assert denied.status_code in (403, 404), denied.text
    assert requests.put(url, data=b"anon", timeout=10).status_code == 401
    assert requests.get(url, timeout=10).content == b"open"


# -- scoped tickets ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def scoped(world):
    """In account A: `inside` (a generic repository with `dir/in.txt` and `top.txt`) and `outside` (another,
    with `other.txt` whose content is unique), and tickets of A's root scoped to `inside` and to
    `/inside/dir`."""
    a, login = world["a"], world["a_login"]
    inside = a.create_repo(world["a_project"], "generic", name="inside-" + secrets.token_hex(4))
    outside = a.create_repo(world["a_project"], "generic", name="outside-" + secrets.token_hex(4))
    other_content = ("outside " + secrets.token_hex(8)).encode()
    for repo, path, data in ((inside, "dir/in.txt", b"in"), (inside, "top.txt", b"top"),
                             (outside, "other.txt", other_content)):
        assert requests.put(a.url("/artifactory/%s/%s" % (repo, path)), data=data, auth=login,
                            timeout=10).status_code == 201
    return {"inside": inside, "outside": outside, "inside_id": repo_view(a, inside)["id"],
            "outside_id": repo_view(a, outside)["id"], "other_content": other_content,
            "repo": ticket(a, embed_id=inside), "path": ticket(a, embed_id="/%s/dir" % inside),
            "by_id": ticket(a, embed_id=repo_view(a, inside)["id"])}


def as_ticket(world, value, method, path, **kw):
    headers = dict(kw.pop("headers", {}), Authorization="Bearer " + value)
    return world["a"].request(method, path, headers=headers, **kw)


@pytest.mark.parametrize("form", ["repo", "by_id", "path"])
def test_scoped_ticket_lists_and_searches_only_its_scope(world, scoped, form):
    a, value = world["a"], scoped[form]["value"]
    listing = as_ticket(world, value, "GET", "/cloudartifact/v5/%s/%s/repositories" % (a.domain_id,
                                                                                        world["a_project"]),
                        params={"in_project": "false", "is_need_paging": "false"})
    assert listing.status_code == 200, listing.text
    assert [r["name"] for r in listing.json()["result"]["repositories"]] == [scoped["inside"]]
    assert listing.json()["result"]["total"] == 1
    for checksum, hits in ((hashlib.sha256(scoped["other_content"]).hexdigest(), 0),
                           (hashlib.sha256(CONTENT).hexdigest(), 0)):
        resp = as_ticket(world, value, "GET", "/cloudartifact/v5/search/checksum", params={"checksum": checksum})
        assert resp.status_code == 200 and len(resp.json()["result"]) == hits, resp.text
    visible = 0 if form == "path" else 1
    resp = as_ticket(world, value, "GET", "/cloudartifact/v5/search/checksum",
                     params={"checksum": hashlib.sha256(b"top").hexdigest()})
    assert len(resp.json()["result"]) == visible, resp.text
    resp = as_ticket(world, value, "GET", "/cloudartifact/v5/search/checksum",
                     params={"checksum": hashlib.sha256(b"in").hexdigest()})
    assert [r["name"] for r in resp.json()["result"]] == ["in.txt"], resp.text
    storage = as_ticket(world, value, "GET", "/cloudartifact/v5/storage").json()["result"]
    assert storage["totalCount"] == 1 + visible, storage
    assert as_ticket(world, value, "GET", "/cloudartifact/v5/maven/info").json()["result"] == []
    users = as_ticket(world, value, "GET", "/cloudartifact/v5/repositories/users",
                      params={"user_name": a.root.name}).json()["result"]["data"]
    assert [u["repo_number"] for u in users] == [1], users
    tree = as_ticket(world, value, "GET", "/cloudartifact/v5/%s/%s/%s/file-tree" % (
        a.domain_id, world["a_project"], scoped["inside"]), params={"path": "/"})
    assert tree.status_code == 200, tree.text
    expected = ["dir"] if form == "path" else ["dir", "top.txt"]
    assert sorted(c["name"] for c in tree.json()["result"]["children"]) == expected, tree.text
    privileges = as_ticket(world, value, "GET", "/cloudartifact/v3/user/%s/privileges" % world["a_project"])
    assert privileges.status_code == 200 and scoped["outside"] not in privileges.text, privileges.text


@pytest.mark.parametrize("form", ["repo", "by_id", "path"])
def test_scoped_ticket_is_refused_outside_its_scope(world, scoped, form):
    a, value = world["a"], scoped[form]["value"]
    tenant, project = a.domain_id, world["a_project"]
    outside, outside_id = scoped["outside"], scoped["outside_id"]
    refused = [
        ("GET", "/cloudartifact/v5/repositories/%s" % outside, None),
        ("GET", "/cloudartifact/v5/repositories/%s" % outside_id, None),
        ("GET", "/cloudartifact/v5/%s/%s/%s/repositories" % (tenant, project, outside), None),
        ("GET", "/cloudartifact/v5/%s/%s/%s/file-tree" % (tenant, project, outside), {"path": "/"}),
        ("GET", "/cloudartifact/v5/%s/%s/%s/file-detail" % (tenant, project, outside), {"path": "other.txt"}),
        ("GET", "/cloudartifact/v5/repositories/%s/%s/privileges" % (project, outside_id), None),
        ("GET", "/cloudartifact/v5/projects/%s/users" % project, {"repo_id": outside}),
        ("GET", "/cloudartifact/v5/%s/%s/storageinfo/statistic" % (tenant, project), {"repo": outside}),
        ("GET", "/artifactory/%s/other.txt" % outside, None),
        ("GET", "/artifactory/%s/" % outside, None),
    ]
    if form == "path":
        refused += [
            ("GET", "/cloudartifact/v5/%s/%s/%s/file-detail" % (tenant, project, scoped["inside"]),
             {"path": "top.txt"}),
            ("GET", "/artifactory/%s/top.txt" % scoped["inside"], None),
        ]
    for method, path, params in refused:
        resp = as_ticket(world, value, method, path, params=params)
        assert resp.status_code == 403, (form, path, resp.status_code, resp.text[:300])
        typed = path + json.dumps(params)
        assert scoped["other_content"].decode() not in resp.text, resp.text
        assert "other.txt" in typed or "other.txt" not in resp.text, resp.text
    # Inside the scope the same ticket works.
    inside = as_ticket(world, value, "GET", "/artifactory/%s/dir/in.txt" % scoped["inside"])
    assert inside.content == b"in"
    shown = as_ticket(world, value, "GET", "/cloudartifact/v5/repositories/%s" % scoped["inside"])
    assert shown.status_code == 200, shown.text


ADMIN_READS = [
    "/v3/users", "/v3/groups", "/v3/projects", "/v3/auth/domains", "/v3.0/OS-CREDENTIAL/credentials",
    "/v3.0/OS-ROLE/roles", "/v4/projects", "/cloudartifact/v5/ticket", "/v1/{iam}/tickets",
]


@pytest.mark.parametrize("embed", ["", "repo"])
@pytest.mark.parametrize("path", ADMIN_READS)
def test_tickets_are_refused_by_iam_projectman_and_ticket_management(world, scoped, path, embed):
    """A ticket is a download credential: identity, projects and tickets are administered with a signature
    or a token only. The refusal takes no use of the ticket."""
    a = world["a"]
    made = ticket(a, embed_id=scoped["inside"] if embed else "", left_num=50)
    path = path.replace("{iam}", a.iam_project_id)
    assert_auth_error(as_ticket(world, made["value"], "GET", path))
    basic = a.request("GET", path, auth=(a.root.name, made["value"]))
    assert_auth_error(basic)
    assert left_num(a, made["ticket"]) == 50


def test_ticket_management_writes_refuse_tickets(world):
    a = world["a"]
    made = ticket(a, left_num=50)
    victim = ticket(a, left_num=50)
    for method, path, body in (("POST", "/v1/%s/tickets" % a.iam_project_id, {"left_num": 5}),
                               ("DELETE", "/v1/%s/tickets/%s" % (a.iam_project_id, victim["ticket"]), None),
                               ("POST", "/v3/users", {"user": {"name": unique("u"), "password": "Aa1!" * 4}})):
        assert_auth_error(as_ticket(world, made["value"], method, path, json=body))
    assert left_num(a, made["ticket"]) == 50
    assert left_num(a, victim["ticket"]) == 50


@pytest.mark.parametrize("where", ["management", "artifact"])
def test_basic_ticket_naming_another_user_takes_no_use(world, scoped, where):
    a = world["a"]
    other = a.create_user(with_key=False)
    made = ticket(a, left_num=3)
    path = ("/cloudartifact/v3/user/%s/privileges" % world["a_project"] if where == "management"
            else "/artifactory/%s/dir/in.txt" % scoped["inside"])
    for name in (other.name, "%s_%s" % (a.domain_id, other.user_id), "nobody"):
        resp = a.request("GET", path, auth=(name, made["value"]))
        assert resp.status_code == 401, resp.text
    assert left_num(a, made["ticket"]) == 3
    assert a.request("GET", path, auth=(a.root.name, made["value"])).status_code == 200
    assert left_num(a, made["ticket"]) == 2


def test_viewer_in_own_account_still_gets_403(world):
    """403 stays the answer inside one's own account: the repository exists for its members."""
    a = world["a"]
    viewer = a.create_user()
    a.add_member(world["a_project"], viewer.user_id, ROLE_VIEWER)
    login = a.repo_login(viewer)
    resp = requests.put(a.url("/artifactory/%s/dir/viewer.txt" % world["real"]["gen"]), data=b"v", auth=login,
                        timeout=10)
    assert resp.status_code == 403, resp.text
    stranger = a.create_user()
    resp = requests.get(a.url("/artifactory/%s/dir/%s-file.txt" % (world["real"]["gen"], SECRET)),
                        auth=a.repo_login(stranger), timeout=10)
    assert resp.status_code == 403, resp.text
