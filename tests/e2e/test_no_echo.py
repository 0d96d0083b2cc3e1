"""Issue 10 §9: request values are never echoed into errors or logs. A password typed into the wrong field
must not come back in the 400 nor land in the server's log (at its most verbose level): errors name the
field and what it expects, never what was sent."""

import base64
import json
import struct

import pytest
import requests

from harness import unique

SECRET = "Hunter2-NeverLogMe-7781"


@pytest.fixture(scope="module")
def verbose(tmp_path_factory):
    from conftest import _start, _stop
    server = _start(tmp_path_factory.mktemp("verbose"), env={"ARCA_LOG": "debug"})
    yield server
    _stop(server)


def assert_not_echoed(server, resp, log_from):
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:300])
    assert SECRET not in resp.text, resp.text
    assert SECRET not in server.log_since(log_from, lines=100000)


def test_management_json_fields(verbose):
    bodies = [
        {"user": {"name": unique("echo"), "enabled": SECRET}},
        {"user": {"name": unique("echo"), "password": [SECRET]}},
        {"user": SECRET},
    ]
    for body in bodies:
        start = verbose.log_size()
        resp = verbose.signed("POST", "/v3/users", body=body)
        assert_not_echoed(verbose, resp, start)
        assert "user" in resp.json()["error_msg"]


def test_ticket_and_repository_bodies(verbose):
    start = verbose.log_size()
    resp = verbose.signed("POST", "/v1/%s/tickets" % verbose.iam_project_id, body={"left_num": SECRET})
    assert_not_echoed(verbose, resp, start)
    start = verbose.log_size()
    resp = verbose.signed("POST", "/cloudartifact/v5/artifact/",
                          body={"repository_name": unique("r"), "format": "generic", "type": "hosted",
                                "project_id": {"secret": SECRET}})
    assert_not_echoed(verbose, resp, start)


def test_package_protocol_documents(verbose):
    project = verbose.create_project()
    login = verbose.repo_login()
    npm = verbose.create_repo(project, "npm")
    cargo = verbose.create_repo(project, "cargo")
    start = verbose.log_size()
    resp = requests.put(verbose.url("/artifactory/api/npm/%s/echo-pkg" % npm), auth=login, timeout=10,
                        json={"name": "echo-pkg", "versions": SECRET, "_attachments": {}})
    assert_not_echoed(verbose, resp, start)
    meta = json.dumps({"name": "echo", "vers": "1.0.0", "deps": SECRET}).encode()
    frame = struct.pack("<I", len(meta)) + meta + struct.pack("<I", 0)
    start = verbose.log_size()
    resp = requests.put(verbose.url("/artifactory/api/cargo/%s/api/v1/crates/new" % cargo), data=frame,
                        headers={"Authorization": "Basic " + base64.b64encode(("%s:%s" % login).encode()).decode()},
                        timeout=10)
    assert_not_echoed(verbose, resp, start)


@pytest.mark.parametrize("meta", [
    {"name": "bad name " + SECRET, "vers": "1.0.0", "deps": []},
    {"name": "echo", "vers": SECRET, "deps": []},
    {"name": "echo", "vers": "1.0.0", "deps": [{"name": "bad " + SECRET, "version_req": "^1"}]},
    {"name": "echo", "vers": "1.0.0", "deps": [{"name": "serde", "version_req": SECRET}]},
], ids=["name", "vers", "dependency-name", "version-req"])
def test_cargo_metadata_values(verbose, meta):
    project = verbose.create_project()
    login = verbose.repo_login()
    cargo = verbose.create_repo(project, "cargo")
    body = json.dumps(meta).encode()
    frame = struct.pack("<I", len(body)) + body + struct.pack("<I", 0)
    start = verbose.log_size()
    resp = requests.put(verbose.url("/artifactory/api/cargo/%s/api/v1/crates/new" % cargo), data=frame,
                        headers={"Authorization": "Basic " + base64.b64encode(("%s:%s" % login).encode()).decode()},
                        timeout=10)
    assert_not_echoed(verbose, resp, start)


def test_npm_version_value(verbose):
    project = verbose.create_project()
    login = verbose.repo_login()
    npm = verbose.create_repo(project, "npm")
    version = "1.0.0-" + SECRET + "!"
    doc = {"name": "echo-ver", "dist-tags": {"latest": version},
           "versions": {version: {"name": "echo-ver", "version": version,
                                  "dist": {"tarball": "http://x/echo-ver/-/echo-ver-1.0.0.tgz"}}},
           "_attachments": {"echo-ver-1.0.0.tgz": {"content_type": "application/octet-stream",
                                                   "data": base64.b64encode(b"x").decode(), "length": 1}}}
    start = verbose.log_size()
    resp = requests.put(verbose.url("/artifactory/api/npm/%s/echo-ver" % npm), auth=login, json=doc, timeout=10)
    assert_not_echoed(verbose, resp, start)
    assert "version" in resp.text
