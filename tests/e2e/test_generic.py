"""Issue 3 §4/§5: generic release-file repositories with curl — upload, download, overwrite rules, listings,
conditional and ranged GETs, the recycle bin, and every kind of credential."""

import hashlib
import json
import os
import subprocess

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    BatchRestoreRepoRequest, IDETrashArtifactModel, ShowFileTreeRequest, UpdateArtifactoryRequest,
    UpdateNotMavenRepoDO,
)

from harness import ROLE_VIEWER, unique


@pytest.fixture(scope="module")
def repo(srv, project):
    return srv.create_repo(project, "generic")


def curl(*args, check=True):
    """curl with `-f` (HTTP errors → exit 22) and `-w` printing the status code last."""
    out = subprocess.run(["curl", "-sS", "-f", "-w", "\n%{http_code}", *args], capture_output=True, timeout=120)
    body, _, code = out.stdout.rpartition(b"\n")
    if check:
        assert out.returncode == 0, (out.returncode, out.stderr, body)
    return out.returncode, int(code or 0), body


def test_upload_download_and_overwrite(srv, repo, login, tmp_path):
    src = tmp_path / "app-1.0.tar.gz"
    data = os.urandom(300_000)
    src.write_bytes(data)
    url = srv.url("/artifactory/%s/releases/1.0/app-1.0.tar.gz" % repo)
    user = "%s:%s" % login
    _, code, _ = curl("-u", user, "-T", str(src), url)
    assert code == 201
    dest = tmp_path / "back.tar.gz"
    _, code, _ = curl("-u", user, "-o", str(dest), url)
    assert code == 200 and dest.read_bytes() == data
    # Generic repositories allow overwriting by default; the new bytes win.
    src.write_bytes(b"second build")
    _, code, _ = curl("-u", user, "-T", str(src), url)
    assert code in (200, 201)
    assert curl("-u", user, url)[2] == b"second build"


def test_disable_redeploy_refuses_overwrite(srv, project, login, tmp_path):
    name = srv.create_repo(project, "generic")
    srv.artifact_client().update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=name, deployment_policy="disable_redeploy")))
    f = tmp_path / "f.bin"
    f.write_bytes(b"one")
    url = srv.url("/artifactory/%s/f.bin" % name)
    user = "%s:%s" % login
    assert curl("-u", user, "-T", str(f), url)[1] == 201
    f.write_bytes(b"two")
    rc, code, _ = curl("-u", user, "-T", str(f), url, check=False)
    assert (rc, code) == (22, 409)
    assert curl("-u", user, url)[2] == b"one"


def test_listings_json_and_html(srv, repo, login):
    session = requests.Session()
    session.auth = login
    for path in ("docs/a.txt", "docs/b.txt", "docs/sub/c.txt"):
        assert session.put(srv.url("/artifactory/%s/%s" % (repo, path)), data=path.encode(), timeout=10).ok
    listing = session.get(srv.url("/artifactory/%s/docs/" % repo), headers={"Accept": "application/json"},
                          timeout=10)
    assert listing.headers["Content-Type"].startswith("application/json")
    body = listing.json()
    assert [(c["name"], c["folder"]) for c in body["children"]] == [("sub", True), ("a.txt", False),
                                                                     ("b.txt", False)]
    a = [c for c in body["children"] if c["name"] == "a.txt"][0]
    assert a["size"] == len(b"docs/a.txt") and a["sha256"] == hashlib.sha256(b"docs/a.txt").hexdigest()
    html = session.get(srv.url("/artifactory/%s/docs/" % repo), timeout=10)
    assert html.headers["Content-Type"].startswith("text/html")
    assert 'href="sub/"' in html.text and 'href="a.txt"' in html.text
    assert session.get(srv.url("/artifactory/%s/nothing/" % repo), timeout=10).status_code == 404


def test_conditional_and_range_requests(srv, repo, login):
    data = bytes(range(256)) * 40
    url = srv.url("/artifactory/%s/range/blob.bin" % repo)
    assert requests.put(url, data=data, auth=login, timeout=10).status_code == 201
    head = requests.head(url, auth=login, timeout=10)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(data)
    etag = head.headers["ETag"]
    assert etag == '"%s"' % hashlib.sha256(data).hexdigest()
    assert "Last-Modified" in head.headers
    assert requests.get(url, auth=login, headers={"If-None-Match": etag}, timeout=10).status_code == 304
    part = requests.get(url, auth=login, headers={"Range": "bytes=100-199"}, timeout=10)
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["Content-Range"] == "bytes 100-199/%d" % len(data)
    tail = requests.get(url, auth=login, headers={"Range": "bytes=-10"}, timeout=10)
    assert tail.content == data[-10:]
    bad = requests.get(url, auth=login, headers={"Range": "bytes=999999-"}, timeout=10)
    assert bad.status_code == 416


def test_delete_goes_to_the_recycle_bin(srv, project, repo, login):
    url = srv.url("/artifactory/%s/tmp/gone.txt" % repo)
    assert requests.put(url, data=b"bye", auth=login, timeout=10).status_code == 201
    rc, code, _ = curl("-u", "%s:%s" % login, "-X", "DELETE", url)
    assert code in (200, 204)
    assert requests.get(url, auth=login, timeout=10).status_code == 404
    client = srv.artifact_client()
    binned = client.show_file_tree(ShowFileTreeRequest(tenant_id=srv.domain_id, project_id=project,
                                                       repo_name=repo, path="/tmp", is_recycle_bin=True)).result
    assert [c.name for c in binned.children] == ["gone.txt"]
    client.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(id=repo, uri="/tmp/gone.txt")]))
    assert requests.get(url, auth=login, timeout=10).content == b"bye"


def test_credentials(srv, project, repo, login):
    url = srv.url("/artifactory/%s/creds/file.txt" % repo)
    assert requests.put(url, data=b"secret", auth=login, timeout=10).status_code == 201
    # No credentials: 401 with a Basic challenge, so curl and Maven prompt or report it.
    anon = requests.get(url, timeout=10)
    assert anon.status_code == 401 and anon.headers["WWW-Authenticate"].startswith("Basic")
    rc, code, _ = curl("-u", "%s:wrong" % login[0], url, check=False)
    assert (rc, code) == (22, 401)
    rc, code, _ = curl("-u", "nobody_x:wrong", url, check=False)
    assert (rc, code) == (22, 401)
    # An X-Auth-Token and an AK/SK signature work as well.
    token = srv.root_token()
    assert requests.get(url, headers={"X-Auth-Token": token}, timeout=10).content == b"secret"
    signed = srv.signed("GET", "/artifactory/%s/creds/file.txt" % repo)
    assert signed.status_code == 200 and signed.content == b"secret"


def test_tickets_are_consumed_and_scoped(srv, project, repo, login):
    url = srv.url("/artifactory/%s/tick/file.txt" % repo)
    assert requests.put(url, data=b"t", auth=login, timeout=10).status_code == 201
    token = srv.root_token()
    made = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": token},
                       json={"left_num": 2, "embed_id": repo})
    assert made.status_code in (200, 201), made.text
    ticket = made.json()["value"]
    assert requests.get(url, headers={"Authorization": "Bearer " + ticket}, timeout=10).content == b"t"
    assert requests.get(url, auth=(srv.root.name, ticket), timeout=10).content == b"t"
    exhausted = requests.get(url, headers={"Authorization": "Bearer " + ticket}, timeout=10)
    assert exhausted.status_code == 401
    other = srv.create_repo(project, "generic")
    assert requests.put(srv.url("/artifactory/%s/x" % other), data=b"x", auth=login, timeout=10).ok
    scoped = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": token},
                         json={"left_num": 5, "embed_id": repo}).json()["value"]
    denied = requests.get(srv.url("/artifactory/%s/x" % other), headers={"Authorization": "Bearer " + scoped},
                          timeout=10)
    assert denied.status_code == 403
    # Build pipelines publish with tickets: within the ticket's scope and its user's privileges.
    put = requests.put(srv.url("/artifactory/%s/tick/new.txt" % repo), data=b"n",
                       headers={"Authorization": "Bearer " + scoped}, timeout=10)
    assert put.status_code == 201
    outside = requests.put(srv.url("/artifactory/%s/new.txt" % other), data=b"n",
                           headers={"Authorization": "Bearer " + scoped}, timeout=10)
    assert outside.status_code == 403


def test_viewer_reads_but_cannot_write(srv, project, repo, login):
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    vlogin = srv.repo_login(viewer)
    url = srv.url("/artifactory/%s/viewer/file.txt" % repo)
    assert requests.put(url, data=b"v", auth=login, timeout=10).status_code == 201
    assert requests.get(url, auth=vlogin, timeout=10).content == b"v"
    denied = requests.put(url, data=b"w", auth=vlogin, timeout=10)
    assert denied.status_code == 403
    assert denied.json()["error_code"] == "ARCA.00000004"
    assert requests.delete(url, auth=vlogin, timeout=10).status_code == 403


def test_artifact_size_limit_is_configurable(start_arca, tmp_path):
    """SPEC §9: `max_artifact_bytes` bounds every upload; beyond it the answer is 413 and nothing stays."""
    small = start_arca(extra_args=["--max-artifact-bytes", "4096", "--max-package-document-bytes", "2048"])
    project = small.create_project()
    repo = small.create_repo(project, "generic")
    login = small.repo_login()
    url = small.url("/artifactory/%s/limit/" % repo)
    assert requests.put(url + "ok.bin", data=b"x" * 4096, auth=login, timeout=10).status_code == 201
    too_big = requests.put(url + "big.bin", data=b"x" * 4097, auth=login, timeout=10)
    assert too_big.status_code == 413 and too_big.json()["error_code"] == "ARCA.00000003"
    assert requests.get(url + "big.bin", auth=login, timeout=10).status_code == 404
    npm_repo = small.create_repo(project, "npm")
    doc = requests.put(small.url("/artifactory/api/npm/%s/big" % npm_repo), auth=login, timeout=10,
                       json={"name": "big", "versions": {}, "padding": "x" * 3000})
    assert doc.status_code == 413 and "error" in doc.json()
    leftovers = [p for p in (small.data_dir / "tmp").rglob("*") if p.is_file()]
    assert leftovers == []
