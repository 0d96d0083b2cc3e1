"""Issue 4 §5: the CodeArts repository API works for npm, PyPI and Cargo repositories as it does for Maven:
list by format, file tree, checksum search, name search, deleting a repository to the recycle bin (its
clients then get 404) and restoring it whole."""

import base64
import hashlib
import json
import struct

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    BatchRestoreRepoRequest, DeleteRepositoryRequest, IDERepoRevisionModel, IDERepoSearchDO,
    IDETrashArtifactModel, ListAllRepositoriesRequest, SearchArtifactsRequest, SearchByChecksumRequest,
    ShowFileTreeRequest,
)


@pytest.fixture(scope="module")
def world(srv):
    project = srv.create_project()
    login = srv.repo_login()
    repos = {fmt: srv.create_repo(project, fmt) for fmt in ("npm", "pypi", "cargo")}
    payload = {fmt: ("%s payload" % fmt).encode() for fmt in repos}
    session = requests.Session()
    session.auth = login
    r = session.put(srv.url("/artifactory/api/npm/%s/mgmt-pkg" % repos["npm"]), json={
        "name": "mgmt-pkg", "versions": {"1.0.0": {"name": "mgmt-pkg", "version": "1.0.0"}},
        "_attachments": {"mgmt-pkg-1.0.0.tgz": {"data": base64.b64encode(payload["npm"]).decode(),
                                                "length": len(payload["npm"])}}}, timeout=10)
    assert r.status_code == 201, r.text
    r = session.post(srv.url("/artifactory/api/pypi/%s/" % repos["pypi"]), data={
        "name": "mgmt-pkg", "version": "1.0.0", "filetype": "sdist",
        "sha256_digest": hashlib.sha256(payload["pypi"]).hexdigest()},
        files={"content": ("mgmt_pkg-1.0.0.tar.gz", payload["pypi"])}, timeout=10)
    assert r.status_code == 200, r.text
    meta = json.dumps({"name": "mgmt-pkg", "vers": "1.0.0", "deps": []}).encode()
    frame = struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(payload["cargo"])) + payload["cargo"]
    r = session.put(srv.url("/artifactory/api/cargo/%s/api/v1/crates/new" % repos["cargo"]), data=frame, timeout=10)
    assert r.status_code == 200, r.text
    return {"project": project, "repos": repos, "payload": payload, "login": login}


EXPECTED_PATHS = {"npm": "mgmt-pkg/-/mgmt-pkg-1.0.0.tgz", "pypi": "packages/mgmt-pkg/1.0.0/mgmt_pkg-1.0.0.tar.gz",
                  "cargo": "crates/mgmt-pkg/mgmt-pkg-1.0.0.crate"}
CLIENT_URLS = {"npm": "/artifactory/api/npm/%s/mgmt-pkg", "pypi": "/artifactory/api/pypi/%s/simple/mgmt-pkg/",
               "cargo": "/artifactory/api/cargo/%s/index/mg/mt/mgmt-pkg"}


def test_listed_by_format(srv, world):
    client = srv.artifact_client()
    for fmt, name in world["repos"].items():
        listed = client.list_all_repositories(ListAllRepositoriesRequest(
            tenant_id=srv.domain_id, project_id=world["project"], format=fmt)).result
        assert [r.repository_name for r in listed.repositories] == [name]
        assert listed.repositories[0].storage_summary_info.files_count == 1


@pytest.mark.parametrize("fmt", ["npm", "pypi", "cargo"])
def test_file_tree_and_searches(srv, world, fmt):
    client = srv.artifact_client()
    repo, path = world["repos"][fmt], EXPECTED_PATHS[fmt]
    parent, _, leaf = path.rpartition("/")
    tree = client.show_file_tree(ShowFileTreeRequest(tenant_id=srv.domain_id, project_id=world["project"],
                                                     repo_name=repo, path=parent)).result
    assert [c.name for c in tree.children] == [leaf]
    hits = client.search_by_checksum(SearchByChecksumRequest(
        checksum=hashlib.sha256(world["payload"][fmt]).hexdigest())).result
    assert [(h.repo_name, h.relative_path, h.repo_type) for h in hits] == [(repo, path, fmt)]
    found = client.search_artifacts(SearchArtifactsRequest(body=IDERepoSearchDO(
        artifact_name=leaf, artifact_type=fmt, project_id=world["project"], in_project=True))).result
    assert [a.relative_path for a in found.artifacts] == [path]


@pytest.mark.parametrize("fmt", ["npm", "pypi", "cargo"])
def test_delete_and_restore_repository(srv, world, fmt):
    client = srv.artifact_client()
    repo = world["repos"][fmt]
    url = srv.url(CLIENT_URLS[fmt] % repo)
    assert requests.get(url, auth=world["login"], timeout=10).status_code == 200
    client.delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=repo)))
    assert requests.get(url, auth=world["login"], timeout=10).status_code == 404
    client.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(id=repo)]))
    assert requests.get(url, auth=world["login"], timeout=10).status_code == 200


def test_anonymous_reads_follow_the_repository_switch(srv, world):
    from huaweicloudsdkcodeartsartifact.v2 import UpdateArtifactoryRequest, UpdateNotMavenRepoDO
    client = srv.artifact_client()
    repos = world["repos"]
    config = srv.url("/artifactory/api/cargo/%s/index/config.json" % repos["cargo"])
    assert requests.get(config, timeout=10).status_code == 401
    for fmt in ("npm", "pypi", "cargo"):
        assert requests.get(srv.url(CLIENT_URLS[fmt] % repos[fmt]), timeout=10).status_code == 401
        client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
            repo_name=repos[fmt], allow_anonymous=True)))
        assert requests.get(srv.url(CLIENT_URLS[fmt] % repos[fmt]), timeout=10).status_code == 200
    assert requests.get(config, timeout=10).json()["auth-required"] is False
    # Reading is all anonymity opens: publishing still needs credentials.
    resp = requests.put(srv.url("/artifactory/api/npm/%s/anon-pkg" % repos["npm"]), json={"name": "anon-pkg"},
                        timeout=10)
    assert resp.status_code == 401
    for fmt in ("npm", "pypi", "cargo"):
        client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
            repo_name=repos[fmt], allow_anonymous=False)))
