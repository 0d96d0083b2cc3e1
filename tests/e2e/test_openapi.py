"""`GET /openapi.json`: an OpenAPI 3.1 document of the management API (issue 14). Live answers of the
operations it describes are validated against it with `jsonschema`: every object there denies fields it does
not list, so an answer that drifts from the document fails here."""

import pytest
import requests
from jsonschema import Draft202012Validator

from harness import unique


@pytest.fixture(scope="module")
def document(srv):
    resp = requests.get(srv.url("/openapi.json"), timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/json")
    return resp.json()


@pytest.fixture(scope="module")
def setup(srv):
    """A project holding a repository with a file, a group, a ticket: so the lists below are not empty."""
    project = srv.create_project()
    repo = srv.create_repo(project, "generic")
    login = srv.repo_login()
    assert requests.put(srv.url("/artifactory/%s/dir/f.txt" % repo), data=b"openapi", auth=login,
                        timeout=10).status_code == 201
    srv.create_group(unique("grp"))
    srv.issue_ticket()
    return {"project": project, "repo": repo}


def validate(document, template, method, resp):
    operation = document["paths"][template][method]
    response = operation["responses"].get(str(resp.status_code))
    assert response is not None, "%s %s answered %s, which the document does not list" % (
        method.upper(), template, resp.status_code)
    schema = dict(response["content"]["application/json"]["schema"])
    schema["components"] = document["components"]
    errors = sorted(Draft202012Validator(schema).iter_errors(resp.json()), key=str)
    assert not errors, "%s %s: %s" % (method.upper(), template, "; ".join(e.message for e in errors[:5]))


def test_the_document_is_openapi_3(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"]
    Draft202012Validator.check_schema({"components": document["components"]})
    operation_ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(operation_ids) == len(set(operation_ids)) >= 19


def cases(srv, setup):
    project = setup["project"]
    return [
        ("/cloudartifact/v5/ticket", {}, None),
        ("/v1/{project_id}/tickets", {"project_id": srv.iam_project_id}, None),
        ("/cloudartifact/v3/user/{project_id}/privileges", {"project_id": project}, None),
        ("/v5/user/{project_id}/privileges", {"project_id": project}, None),
        ("/cloudartifact/v5/storage", {}, None),
        ("/cloudartifact/v5/repositories/user/info", {}, None),
        ("/cloudartifact/v5/{tenant_id}/{project_id}/repositories",
         {"tenant_id": srv.domain_id, "project_id": project}, None),
        ("/cloudartifact/v5/{tenant_id}/{project_id}/{repository_name}/repositories",
         {"tenant_id": srv.domain_id, "project_id": project, "repository_name": setup["repo"]}, None),
        ("/cloudartifact/v5/{tenant_id}/{project_id}/{repository_name}/file-tree",
         {"tenant_id": srv.domain_id, "project_id": project, "repository_name": setup["repo"]}, {"path": "/"}),
        ("/cloudartifact/v5/{tenant_id}/{project_id}/{repository_name}/file-tree",
         {"tenant_id": srv.domain_id, "project_id": project, "repository_name": setup["repo"]}, {"path": "/dir"}),
        ("/cloudartifact/v5/{tenant_id}/{project_id}/{repository_name}/file-detail",
         {"tenant_id": srv.domain_id, "project_id": project, "repository_name": setup["repo"]},
         {"path": "/dir/f.txt"}),
        ("/cloudartifact/v5/search/checksum", {}, {"checksum": "0" * 64}),
        ("/cloudartifact/v5/opensource/enabled", {}, None),
        ("/cloudartifact/v5/domain/ipconfig", {}, None),
        ("/cloudartifact/v5/tree/net/proxy", {}, None),
        ("/v3/users", {}, None),
        ("/v3/groups", {}, None),
        ("/v3/projects", {}, None),
        ("/v4/projects", {}, None),
    ]


def test_live_answers_match_the_document(srv, document, setup):
    checked = 0
    for template, params, query in cases(srv, setup):
        resp = srv.signed("GET", template.format(**params), query=query)
        assert resp.status_code == 200, (template, resp.text)
        validate(document, template, "get", resp)
        checked += 1
    resp = requests.get(srv.url("/health"), timeout=10)
    validate(document, "/health", "get", resp)
    assert checked + 1 >= 20


def test_error_answers_match_the_document(srv, document, setup):
    # Unsigned: 401 with the error shape.
    resp = requests.get(srv.url("/v3/users"), timeout=10)
    assert resp.status_code == 401
    validate(document, "/v3/users", "get", resp)
    # Another account's (here: no) project: 404.
    resp = srv.signed("GET", "/v5/user/%s/privileges" % ("x" * 32))
    assert resp.status_code == 404, resp.text
    validate(document, "/v5/user/{project_id}/privileges", "get", resp)


def test_the_validation_catches_a_drifted_answer(srv, document, setup):
    """The schemas are strict: an extra field or a wrong type is refused (so the test above can fail)."""
    resp = srv.signed("GET", "/cloudartifact/v5/storage")
    body = resp.json()
    schema = dict(document["paths"]["/cloudartifact/v5/storage"]["get"]["responses"]["200"]["content"][
        "application/json"]["schema"])
    schema["components"] = document["components"]
    validator = Draft202012Validator(schema)
    assert validator.is_valid(body)
    body["result"]["extra"] = 1
    assert not validator.is_valid(body)
    del body["result"]["extra"]
    body["result"]["totalCount"] = "1"
    assert not validator.is_valid(body)
