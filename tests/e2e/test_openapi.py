"""`GET /openapi.json`: an OpenAPI 3.1 document of the whole management API (issue 14). Every operation it
describes is called live here (writes on throwaway repositories, users, groups, projects and tickets) and
each answer is validated against the schema the document gives for that method, path and status with
`jsonschema`. Every object there denies fields it does not list, so an answer that drifts from the
document fails here; an operation the document lists but this file never calls fails too.

With OPENAPI_DUMP=<file>, the answers are written to that file as well (to write the document's schemas
from what the server really answers)."""

import hashlib
import io
import json
import os
import re
import time
import zipfile
from urllib.parse import quote

import pytest
import requests
from jsonschema import Draft202012Validator

from harness import REGION, ROLE_DEVELOPER, new_password, unique

METHODS = ("get", "put", "post", "delete", "patch", "head")
METRICS_TOKEN = "openapi-metrics-token-0123456789"


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    """A server of this module's own, with /metrics on (it is off without a token)."""
    from conftest import _start, _stop
    server = _start(tmp_path_factory.mktemp("openapi"), env={"ARCA_METRICS_TOKEN": METRICS_TOKEN})
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def document(srv):
    resp = requests.get(srv.url("/openapi.json"), timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    return resp.json()


def schema_for(document, method, template, status, media="application/json"):
    operation = document["paths"][template][method]
    response = operation["responses"].get(str(status))
    assert response is not None, "%s %s answered %s, which the document does not list" % (
        method.upper(), template, status)
    content = response.get("content") or {}
    if media not in content:
        return None, content
    schema = dict(content[media]["schema"])
    schema["components"] = document["components"]
    return schema, content


def validate(document, template, method, resp):
    """The answer `resp` to `method template` matches the document's response for its status."""
    media = resp.headers.get("Content-Type", "").split(";")[0].strip()
    has_body = method != "head" and resp.status_code not in (204, 304) and resp.content
    schema, content = schema_for(document, method, template, resp.status_code,
                                 media if has_body else "application/json")
    if has_body and "*/*" in content:
        return
    if not has_body:
        assert not content, "%s %s answered %s without a body, the document gives one" % (
            method.upper(), template, resp.status_code)
        return
    assert media in content, "%s %s answered %s as %s; the document says %s" % (
        method.upper(), template, resp.status_code, media, sorted(content))
    if media != "application/json":
        return
    errors = sorted(Draft202012Validator(schema).iter_errors(resp.json()), key=str)
    assert not errors, "%s %s %s: %s" % (method.upper(), template, resp.status_code,
                                         "; ".join("%s at %s" % (e.message, list(e.absolute_path))
                                                   for e in errors[:6]))


class Live:
    """Calls operations by their document template, checks the status, validates the answer and notes
    which operations were called."""

    def __init__(self, srv, document):
        self.srv, self.document = srv, document
        self.called = set()
        self.dump_path = os.environ.get("OPENAPI_DUMP")
        self.dumped = []

    def call(self, method, template, params=None, query=None, body=None, expect=200, signed=True,
             headers=None, data=None, auth=None, user=None):
        path = template
        for name, value in (params or {}).items():
            path = path.replace("{%s}" % name, quote(str(value), safe="/" if name == "path" else ""))
        assert "{" not in path, path
        if body is not None and not self.dump_path:
            self.check_request(method, template, body)
        if signed:
            resp = self.srv.signed(method.upper(), path, query=query, body=body if data is None else data,
                                   headers=headers, ak=user and user.ak, sk=user and user.sk)
        else:
            resp = requests.request(method.upper(), self.srv.url(path), params=query, headers=headers,
                                    json=body, data=data, auth=auth, timeout=60)
        if self.dump_path:
            try:
                answer = resp.json()
            except ValueError:
                answer = None
            self.dumped.append({"method": method, "template": template, "status": resp.status_code,
                                "body": answer})
            with open(self.dump_path, "w") as f:
                json.dump(self.dumped, f, indent=1)
        assert resp.status_code == expect, "%s %s: %s %s" % (method.upper(), path, resp.status_code, resp.text)
        if not self.dump_path:
            validate(self.document, template, method, resp)
        self.called.add((method, template))
        return resp

    def check_request(self, method, template, body):
        """What this file sends (and the server accepts) matches the documented request body."""
        request = self.document["paths"][template][method].get("requestBody")
        assert request, "%s %s takes a body the document does not describe" % (method.upper(), template)
        schema = dict(request["content"]["application/json"]["schema"])
        schema["components"] = self.document["components"]
        errors = list(Draft202012Validator(schema).iter_errors(body))
        assert not errors, "%s %s request: %s" % (method.upper(), template, "; ".join(e.message for e in errors))

    def result(self, *args, **kw):
        return self.call(*args, **kw).json()["result"]


@pytest.fixture(scope="module")
def live(srv, document):
    return Live(srv, document)


def test_the_document_is_openapi_3(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    assert "package protocols" in document["info"]["description"]
    Draft202012Validator.check_schema({"components": document["components"]})
    operations = [op for path in document["paths"].values() for method, op in path.items() if method in METHODS]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)) >= 130
    tags = {tag for op in operations for tag in op["tags"]}
    assert tags == {"artifact", "release", "audit", "iam", "projectman", "operations"}
    # The SDK's names where it has the operation.
    assert "ListArtifactoryStorageStatistic" in ids and "KeystoneListUsers" in ids and "ListProjectsV4" in ids
    for path, item in document["paths"].items():
        assert not path.startswith(("/artifactory", "/npm", "/pypi", "/cargo", "/ui")), path
        for method, op in item.items():
            if method not in METHODS or path in ("/health", "/metrics", "/openapi.json"):
                continue
            # Every management operation can fail the common ways, in the common shape.
            for status in ("400", "401", "403", "404"):
                assert status in op["responses"], (method, path, status)
            declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), (method, path)


# ---- the operations, group by group ----------------------------------------------------------------------

def exercise_projectman(live, srv, ids):
    name = unique("oaproj")
    created = live.call("post", "/v4/project", body={"project_name": name, "description": "openapi",
                                                     "project_type": "scrum"}).json()
    project = created["project_id"]
    ids["project"] = project
    live.call("get", "/v4/projects", query={"limit": 5})
    live.call("post", "/v4/projects/check-name", body={"project_name": name})
    live.call("get", "/v4/projects/{project_id}", {"project_id": project})
    live.call("put", "/v4/projects/{project_id}", {"project_id": project}, body={"description": "changed"})
    member = srv.create_user()
    other = srv.create_user(with_key=False)
    live.call("post", "/v4/projects/{project_id}/member", {"project_id": project},
              body={"user_id": member.user_id, "role_id": ROLE_DEVELOPER, "domain_id": srv.domain_id})
    live.call("post", "/v4/projects/{project_id}/members", {"project_id": project},
              body={"users": [{"user_id": other.user_id, "role_id": ROLE_DEVELOPER}]})
    live.call("get", "/v4/projects/{project_id}/members", {"project_id": project})
    live.call("post", "/v4/projects/{project_id}/members/role", {"project_id": project},
              body={"user_ids": [other.user_id], "role_id": 8})
    live.call("get", "/v4/projects/{project_id}/user-role", {"project_id": project})
    live.call("delete", "/v4/projects/{project_id}/members", {"project_id": project},
              body={"user_ids": [other.user_id]})
    # A project root is not a member of: the member's own.
    live.call("post", "/v4/project", body={"project_name": unique("oaproj"), "project_type": "scrum"}, user=member)
    live.call("get", "/v4/projects/domain/not-added")
    # A second project, to share repositories into and to delete at the end.
    ids["project2"] = live.call("post", "/v4/project", body={"project_name": unique("oaproj"),
                                                             "project_type": "scrum"}).json()["project_id"]
    live.call("get", "/v4/projects/{project_id}", {"project_id": "f" * 32}, expect=404)


def exercise_artifact(live, srv, ids):
    project, tenant = ids["project"], srv.domain_id
    # Tickets.
    live.call("get", "/cloudartifact/v5/ticket")
    ticket = live.call("post", "/v1/{project_id}/tickets", {"project_id": srv.iam_project_id},
                       body={"left_num": 3, "expire_seconds": 600}, expect=201).json()
    live.call("get", "/v1/{project_id}/tickets", {"project_id": srv.iam_project_id}, query={"limit": 5})
    live.call("delete", "/v1/{project_id}/tickets/{ticket}",
              {"project_id": srv.iam_project_id, "ticket": ticket["ticket"]}, expect=204)
    # Repositories.
    maven = live.result("post", "/cloudartifact/v5/maven/repositories",
                        body={"repository_name": unique("oamvn"), "format": "maven2", "project_id": project,
                              "type": "hosted", "description": "openapi"})
    generic = unique("oagen")
    created = live.result("post", "/cloudartifact/v5/artifact/",
                          body={"format": "generic", "type": "hosted", "repository_name": generic,
                                "project_id": project})
    generic_id = created["artifactory"]["id"]
    npm = unique("oanpm")
    live.call("post", "/cloudartifact/v5/artifact", body={"format": "npm", "type": "hosted",
                                                          "repository_name": npm, "project_id": project})
    live.call("post", "/cloudartifact/v5/repositories",
              body={"format": "docker2", "display_name": unique("oadocker").lower().replace("_", "-"),
                    "type": "hosted", "description": "images", "project_id": project})
    live.call("put", "/cloudartifact/v5/artifact/", body={"repo_name": generic, "description": "one"})
    live.call("put", "/cloudartifact/v5/artifact", body={"repo_name": generic, "description": "two"})
    shown = live.result("get", "/cloudartifact/v5/repositories/{repo_id}", {"repo_id": maven["release"]})
    live.call("put", "/cloudartifact/v5/repositories/tab/{tab_id}", {"tab_id": shown["tabId"]},
              body={"description": "pair"})
    live.call("get", "/cloudartifact/v5/maven/info", query={"project_id": project})
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/repositories",
              {"tenant_id": tenant, "project_id": project})
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_id}/repositories",
              {"tenant_id": tenant, "project_id": project, "repo_id": generic_id})
    # Files.
    reset = live.result("post", "/cloudartifact/v5/maven/users/me")
    login = (reset["username"], reset["password"])
    content = b"openapi file"
    assert requests.put(srv.url("/artifactory/%s/dir/f.txt" % generic), data=content, auth=login,
                        timeout=10).status_code == 201
    repo_params = {"tenant_id": tenant, "project_id": project, "repo_name": generic}
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-tree", repo_params,
              query={"path": "/"})
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-tree", repo_params,
              query={"path": "/dir"})
    detail = live.result("get", "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-detail",
                         repo_params, query={"path": "/dir/f.txt"})
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-detail", repo_params,
              query={"path": "/dir"})
    live.call("post", "/cloudartifact/v5/tree/repos/artifacts", body={"artifact_name": "f.txt"})
    # An archive holding a private key, so the security scan has a finding to list.
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("keys/id_rsa", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n")
    assert requests.put(srv.url("/artifactory/%s/keys.jar" % generic), data=archive.getvalue(), auth=login,
                        timeout=10).status_code == 201
    live.call("get", "/cloudartifact/v5/search/checksum", query={"checksum": hashlib.sha256(content).hexdigest()})
    live.call("get", "/cloudartifact/v5/storage")
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/storageinfo/statistic",
              {"tenant_id": tenant, "project_id": project}, query={"repo": generic})
    live.call("post", "/cloudartifact/v5/attention", body={"attention": "true", "ids": [detail["id"]]})
    live.call("get", "/cloudartifact/v5/attention/artifacts")
    # Users, roles and privileges.
    live.call("get", "/cloudartifact/v5/repositories/users")
    live.call("get", "/cloudartifact/v5/repositories/user/info")
    live.call("get", "/cloudartifact/v5/projects/{project_id}/users", {"project_id": project})
    live.call("get", "/cloudartifact/v5/repositories/{project_id}/{repo_id}/privileges",
              {"project_id": project, "repo_id": generic_id})
    privileges = live.call("get", "/cloudartifact/v3/user/{project_id}/privileges", {"project_id": project}).json()
    live.call("get", "/v5/user/{project_id}/privileges", {"project_id": project})
    role_id = privileges["result"]["role_id"].rstrip(",").split(",")[0]
    live.call("put", "/cloudartifact/v5/repositories/{role_id}/privileges", {"role_id": role_id},
              body={"privileges": [{"project_id": project, "granted_object_path": "/%s/*" % generic,
                                    "operations": "download"}]})
    # Remote repositories, proxies, the allow-list.
    virtual = live.result("post", "/cloudartifact/v5/artifact/",
                          body={"format": "generic", "type": "virtual", "repository_name": unique("oavirt"),
                                "project_id": project, "repository_ids": [generic_id]})["artifactory"]["id"]
    live.call("get", "/cloudartifact/v5/repositories/proxy", query={"repo_id": virtual, "type": "all"})
    live.call("get", "/cloudartifact/v5/opensource/enabled")
    proxy = live.result("post", "/cloudartifact/v5/tree/net/proxy", body={"host": "127.0.0.1", "port": 3128,
                                                                          "remark": "openapi"})
    live.call("get", "/cloudartifact/v5/tree/net/proxy")
    live.call("put", "/cloudartifact/v5/tree/net/proxy/{proxy_id}", {"proxy_id": proxy["id"]},
              body={"port": 3129})
    live.call("delete", "/cloudartifact/v5/tree/net/proxy/{proxy_id}", {"proxy_id": proxy["id"]})
    rule = live.result("post", "/cloudartifact/v5/domain/ipconfig", body={"value": "127.0.0.1"})
    live.call("get", "/cloudartifact/v5/domain/ipconfig")
    live.call("put", "/cloudartifact/v5/domain/ipconfig/{id}", {"id": rule["id"]}, body={"value": "127.0.0.0/8"})
    live.call("delete", "/cloudartifact/v5/domain/ipconfig/{id}", {"id": rule["id"]})
    # Sharing into another project.
    live.call("post", "/cloudartifact/v5/maven/project/repository",
              body={"project_id": ids["project2"], "ids": [maven["release"]]})
    live.call("get", "/v5/maven/project/repository", query={"repo_id": maven["release"]})
    live.call("get", "/cloudartifact/v5/maven/repository/list", query={"project_id": ids["project2"]})
    live.call("get", "/cloudartifact/v5/maven/list", query={"project_id": ids["project2"]})
    deadline = time.monotonic() + 30
    while not live.result("get", "/cloudartifact/v5/sec-guard/task/list")["list"]:
        assert time.monotonic() < deadline, "the scan did not finish"
        time.sleep(0.3)
    # The recycle bin.
    live.call("delete", "/cloudartifact/v5/file", body={"path": "/%s/dir/f.txt" % generic})
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-tree", repo_params,
              query={"path": "/", "is_recycle_bin": "true"})
    live.call("put", "/cloudartifact/v5/trashes", body=[{"id": generic_id, "uri": "/dir/f.txt"}])
    live.call("delete", "/cloudartifact/v5/file", body={"path": "/%s/dir/f.txt" % generic})
    live.call("delete", "/cloudartifact/v5/trashes", body=[{"id": generic_id}])
    live.call("delete", "/cloudartifact/v5/repositories", body={"repository_ids": npm})
    live.call("delete", "/cloudartifact/v5/trashes", body=[{"id": npm}])
    live.call("get", "/v5/user/{project_id}/privileges", {"project_id": "x" * 32}, expect=404)
    live.call("get", "/cloudartifact/v5/search/checksum", query={"checksum": "xyz"}, expect=400)


def exercise_audit(live, srv, ids):
    params = {"tenant_id": srv.domain_id, "project_id": ids["project"], "module": "all", "repo": "all"}
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/{module}/{repo}/audit", params)
    live.call("get", "/cloudartifact/v5/{tenant_id}/{project_id}/{module}/{repo}/audit",
              dict(params, project_id="f" * 32), expect=404)


def exercise_release(live, srv, ids):
    project = ids["project"]
    files = "/devreposerver/v5/release/{project_id}/files/{path}"
    live.call("put", files, {"project_id": project, "path": "app/app.bin"}, data=b"release bytes",
              query={"build_id": "b1", "build_no": "7", "release_version": "1.0", "repo_branch": "main"},
              headers={"Content-Type": "application/octet-stream"}, expect=201)
    live.call("post", files, {"project_id": project, "path": "app/other.bin"}, data=b"other bytes",
              headers={"Content-Type": "application/octet-stream"}, expect=201)
    uploaded = live.result("put", files, {"project_id": project, "path": "app/app.bin"}, data=b"release 2",
                           headers={"Content-Type": "application/octet-stream"}, expect=201)
    etag = live.call("get", files, {"project_id": project, "path": "app/app.bin"}).headers["ETag"]
    live.call("get", files, {"project_id": project, "path": "app/app.bin"}, headers={"Range": "bytes=0-3"},
              expect=206)
    live.call("get", files, {"project_id": project, "path": "app/app.bin"}, headers={"If-None-Match": etag},
              expect=304)
    live.call("head", files, {"project_id": project, "path": "app/app.bin"})
    version_id = uploaded["id"]
    live.call("get", "/devreposerver/v5/files/{id}/download", {"id": version_id})
    live.call("head", "/devreposerver/v5/files/{id}/download", {"id": version_id})
    live.call("post", "/devreposerver/v5/files/list", body={"project_id": project})
    live.call("get", "/devreposerver/v5/files/info", query={"file_name": "/%s/app/app.bin" % project})
    live.call("get", "/devreposerver/v5/files/archives", query={"parent_id": project})
    live.call("get", "/devreposerver/v5/files/{id}/info", {"id": version_id})
    for template in ("/devreposerver/v5/{project_id}/files/version",
                     "/devreposerver/v5/{project_id}/files/version/count",
                     "/devreposerver/v5/{project_id}/storage", "/v5/{project_id}/versions",
                     "/v5/{project_id}/versions/count", "/v2/{project_id}/release/files",
                     "/devreposerver/v2/release/{project_id}/files",
                     "/devreposerver/v5/release/{project_id}/auto-deletion/settings",
                     "/devreposerver/v5/release/{project_id}/auto-deletion/records"):
        live.call("get", template, {"project_id": project})
    live.call("get", "/devreposerver/v5/data/package/info")
    live.call("get", "/devreposerver/v5/data/package", query={"project_id": project})
    live.call("get", "/devreposerver/v5/storage")
    live.call("get", "/devreposerver/v5/project-role/permissions", query={"project_id": project})
    live.call("get", "/devreposerver/v5/user/permissions", query={"project_id": project})
    live.call("put", "/devreposerver/v5/release/{project_id}/auto-deletion/settings", {"project_id": project},
              body={"is_schedule_to_trash": False, "file_expire_time": 30, "is_schedule_to_delete": False,
                    "trash_file_expire_time": 30})
    live.call("get", "/devreposerver/v5/capacity-notice/settings")
    # A threshold the account is over at once records a notice.
    live.call("put", "/devreposerver/v5/capacity-notice/settings",
              body={"capacity_threshold": 1, "total_capacity_size": 10})
    live.call("put", "/devreposerver/v5/capacity-notice/settings", body={"capacity_threshold": 90})
    live.call("get", "/devreposerver/v5/capacity-notice/records")
    live.call("put", "/devreposerver/v5/files/status", body={"ids": [version_id], "status": "deleted"})
    live.call("put", "/devreposerver/v5/files/status", body={"ids": [version_id], "status": "normal"})
    live.call("delete", "/devreposerver/v5/files/compeletion", body=[version_id])
    live.call("get", "/devreposerver/v5/{project_id}/storage", {"project_id": "bad"}, expect=400)


def exercise_iam(live, srv, ids):
    token_body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": srv.root.name, "password": srv.root.password, "domain": {"name": srv.domain_name}}}},
        "scope": {"domain": {"name": srv.domain_name}}}}
    token = live.call("post", "/v3/auth/tokens", body=token_body, signed=False, expect=201).headers["X-Subject-Token"]
    live.call("get", "/v3/auth/tokens", headers={"X-Subject-Token": token})
    token_body["auth"]["scope"] = {"project": {"id": srv.iam_project_id}}
    token = live.call("post", "/v3/auth/tokens", body=token_body, signed=False, expect=201).headers["X-Subject-Token"]
    live.call("get", "/v3/auth/tokens", headers={"X-Subject-Token": token})
    live.call("get", "/v3/auth/domains")
    live.call("get", "/v3/projects")
    live.call("post", "/v3/projects", body={"project": {"name": "%s_%s" % (REGION, unique("oa")),
                                                        "parent_id": srv.iam_project_id}}, expect=201)
    user = live.call("post", "/v3/users", body={"user": {"name": unique("oauser"), "domain_id": srv.domain_id,
                                                         "password": new_password()}}, expect=201).json()["user"]
    live.call("get", "/v3/users")
    live.call("get", "/v3/users/{user_id}", {"user_id": user["id"]})
    live.call("patch", "/v3/users/{user_id}", {"user_id": user["id"]}, body={"user": {"description": "openapi"}})
    os_user = live.call("post", "/v3.0/OS-USER/users", body={"user": {
        "name": unique("oauser"), "domain_id": srv.domain_id, "password": new_password()}}, expect=201).json()["user"]
    live.call("get", "/v3.0/OS-USER/users/{user_id}", {"user_id": os_user["id"]})
    live.call("put", "/v3.0/OS-USER/users/{user_id}", {"user_id": os_user["id"]},
              body={"user": {"description": "openapi"}})
    group = live.call("post", "/v3/groups", body={"group": {"name": unique("oagrp"), "description": "openapi"}},
                      expect=201).json()["group"]["id"]
    live.call("get", "/v3/groups")
    live.call("get", "/v3/groups/{group_id}", {"group_id": group})
    live.call("patch", "/v3/groups/{group_id}", {"group_id": group}, body={"group": {"description": "changed"}})
    membership = {"group_id": group, "user_id": user["id"]}
    live.call("put", "/v3/groups/{group_id}/users/{user_id}", membership, expect=204)
    live.call("head", "/v3/groups/{group_id}/users/{user_id}", membership, expect=204)
    live.call("get", "/v3/groups/{group_id}/users", {"group_id": group})
    live.call("get", "/v3/users/{user_id}/groups", {"user_id": user["id"]})
    live.call("get", "/v3/users/{user_id}/projects", {"user_id": user["id"]})
    live.call("delete", "/v3/groups/{group_id}/users/{user_id}", membership, expect=204)
    key = live.call("post", "/v3.0/OS-CREDENTIAL/credentials", body={"credential": {
        "user_id": user["id"], "description": "openapi"}}, expect=201).json()["credential"]["access"]
    live.call("get", "/v3.0/OS-CREDENTIAL/credentials", query={"user_id": user["id"]})
    live.call("get", "/v3.0/OS-CREDENTIAL/credentials/{access_key}", {"access_key": key})
    live.call("put", "/v3.0/OS-CREDENTIAL/credentials/{access_key}", {"access_key": key},
              body={"credential": {"status": "inactive"}})
    live.call("delete", "/v3.0/OS-CREDENTIAL/credentials/{access_key}", {"access_key": key}, expect=204)
    role = live.call("post", "/v3.0/OS-ROLE/roles", body={"role": {
        "display_name": unique("oapol"), "type": "AX", "description": "openapi",
        "policy": {"Version": "1.1", "Statement": [{"Action": ["codeartsartifact:*:get"], "Effect": "Allow"}]}}},
        expect=201).json()["role"]["id"]
    live.call("get", "/v3.0/OS-ROLE/roles")
    live.call("get", "/v3.0/OS-ROLE/roles/{role_id}", {"role_id": role})
    live.call("patch", "/v3.0/OS-ROLE/roles/{role_id}", {"role_id": role}, body={"role": {"description": "x"}})
    grant = {"domain_id": srv.domain_id, "group_id": group, "role_id": role}
    live.call("put", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", grant, expect=204)
    live.call("head", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", grant, expect=204)
    live.call("get", "/v3/domains/{domain_id}/groups/{group_id}/roles", {"domain_id": srv.domain_id, "group_id": group})
    live.call("delete", "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", grant, expect=204)
    live.call("delete", "/v3.0/OS-ROLE/roles/{role_id}", {"role_id": role})
    live.call("delete", "/v3/groups/{group_id}", {"group_id": group}, expect=204)
    live.call("delete", "/v3/users/{user_id}", {"user_id": os_user["id"]}, expect=204)
    live.call("delete", "/v3/users/{user_id}", {"user_id": user["id"]}, expect=204)
    live.call("get", "/v3/users", signed=False, expect=401)
    live.call("get", "/v3/groups/{group_id}", {"group_id": group}, expect=404)
    live.call("get", "/v3/groups/{group_id}", {"group_id": "nothex"}, expect=400)


def exercise_operations(live, srv, ids):
    live.call("get", "/health", signed=False)
    live.call("get", "/metrics", signed=False, headers={"Authorization": "Bearer " + METRICS_TOKEN})
    live.call("get", "/metrics", signed=False, expect=401)
    live.call("get", "/openapi.json", signed=False)


def test_every_operation_answers_as_documented(srv, document, live):
    ids = {}
    exercise_projectman(live, srv, ids)
    exercise_artifact(live, srv, ids)
    exercise_audit(live, srv, ids)
    exercise_release(live, srv, ids)
    exercise_iam(live, srv, ids)
    exercise_operations(live, srv, ids)
    live.call("delete", "/v4/projects/{project_id}", {"project_id": ids["project2"]})
    documented = {(method, path) for path, item in document["paths"].items() for method in item
                  if method in METHODS}
    assert not live.called - documented, "called but not documented: %s" % sorted(live.called - documented)
    assert not documented - live.called, "documented but never called: %s" % sorted(documented - live.called)


def test_the_validation_catches_a_drifted_answer(srv, document):
    """The schemas are strict: an extra field or a wrong type is refused (so the test above can fail)."""
    resp = srv.signed("GET", "/cloudartifact/v5/storage")
    schema, _ = schema_for(document, "get", "/cloudartifact/v5/storage", 200)
    validator = Draft202012Validator(schema)
    body = resp.json()
    assert validator.is_valid(body)
    body["result"]["extra"] = 1
    assert not validator.is_valid(body)
    del body["result"]["extra"]
    body["result"]["totalCount"] = "1"
    assert not validator.is_valid(body)
    # Request bodies too: a field the handler does not read is refused.
    request = document["paths"]["/cloudartifact/v5/maven/repositories"]["post"]["requestBody"]
    schema = dict(request["content"]["application/json"]["schema"], components=document["components"])
    validator = Draft202012Validator(schema)
    assert validator.is_valid({"repository_name": "r", "project_id": "p" * 32})
    assert not validator.is_valid({"repository_name": "r", "repositoryName": "r"})
