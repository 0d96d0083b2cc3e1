"""Issue 15: a warm artifact GET is answered from memory (repository, file row, repo login, privilege
entries, the file's bytes), and no change is ever hidden by that: once a change is acknowledged, the next
request sees it — an overwrite racing continuous reads, a revoked membership, a new repo password, a
repository closed to anonymous reads or deleted."""

import threading

import requests
from huaweicloudsdkcodeartsartifact.v2 import (
    DeleteRepositoryRequest, IDERepoRevisionModel, UpdateArtifactoryRequest, UpdateNotMavenRepoDO,
)
from huaweicloudsdkprojectman.v4 import BatchDeleteMembersV4Request, BatchDeleteMembersV4RequestBody

from harness import ROLE_DEVELOPER


def put(srv, repo, path, data, auth):
    resp = requests.put(srv.url("/artifactory/%s/%s" % (repo, path)), data=data, auth=auth, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    return resp


def test_no_read_started_after_an_overwrite_was_acknowledged_sees_older_bytes(srv, project, login):
    repo = srv.create_repo(project, "generic")
    url = srv.url("/artifactory/%s/hot/file.txt" % repo)
    put(srv, repo, "hot/file.txt", b"v0", login)
    acknowledged = [0]
    stop = threading.Event()
    stale = []
    seen = []

    def read():
        session = requests.Session()
        session.auth = login
        while not stop.is_set():
            floor = acknowledged[0]
            resp = session.get(url, timeout=30)
            assert resp.status_code == 200, resp.text
            version = int(resp.content[1:])
            seen.append(version)
            if version < floor:
                stale.append((floor, version))

    readers = [threading.Thread(target=read) for _ in range(6)]
    for reader in readers:
        reader.start()
    try:
        for version in range(1, 120):
            # Small files are kept by their bytes' SHA-256 as well: each version is new content.
            put(srv, repo, "hot/file.txt", b"v%d" % version, login)
            acknowledged[0] = version
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert not stale, "reads answered with bytes older than an acknowledged overwrite: %s" % stale[:5]
    assert len(seen) > 120, "the readers hardly ran: %d reads" % len(seen)
    assert requests.get(url, auth=login, timeout=30).content == b"v119"


def test_revocations_apply_to_the_very_next_request(srv, project, login):
    repo = srv.create_repo(project, "generic")
    developer = srv.create_user()
    srv.add_member(project, developer.user_id, ROLE_DEVELOPER)
    auth = srv.repo_login(developer)
    put(srv, repo, "a.txt", b"content", auth)
    url = srv.url("/artifactory/%s/a.txt" % repo)
    for _ in range(3):
        assert requests.get(url, auth=auth, timeout=10).status_code == 200

    # A new repo password: the old one is refused at once, the new one works at once.
    new_auth = srv.repo_login(developer)
    assert requests.get(url, auth=auth, timeout=10).status_code == 401
    assert requests.get(url, auth=new_auth, timeout=10).status_code == 200

    # Out of the project: no more reads.
    srv.projectman_client().batch_delete_members_v4(BatchDeleteMembersV4Request(
        project_id=project, body=BatchDeleteMembersV4RequestBody(user_ids=[developer.user_id])))
    assert requests.get(url, auth=new_auth, timeout=10).status_code == 403

    # Open to anonymous reads, then closed again.
    client = srv.artifact_client()
    client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=repo, allow_anonymous=True)))
    for _ in range(3):
        assert requests.get(url, timeout=10).content == b"content"
    client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=repo, allow_anonymous=False)))
    assert requests.get(url, timeout=10).status_code == 401

    # Deleted: the file is gone with its repository.
    assert requests.get(url, auth=login, timeout=10).status_code == 200
    client.delete_repository(DeleteRepositoryRequest(body=IDERepoRevisionModel(repository_ids=repo)))
    assert requests.get(url, auth=login, timeout=10).status_code == 404


def test_a_deleted_file_is_gone_at_once_and_ranges_come_from_the_kept_bytes(srv, project, login):
    repo = srv.create_repo(project, "generic")
    data = bytes(range(256)) * 16
    put(srv, repo, "r.bin", data, login)
    url = srv.url("/artifactory/%s/r.bin" % repo)
    for _ in range(2):
        assert requests.get(url, auth=login, timeout=10).content == data
    part = requests.get(url, auth=login, headers={"Range": "bytes=100-299"}, timeout=10)
    assert part.status_code == 206 and part.content == data[100:300]
    assert part.headers["Content-Range"] == "bytes 100-299/%d" % len(data)
    tail = requests.get(url, auth=login, headers={"Range": "bytes=-10"}, timeout=10)
    assert tail.status_code == 206 and tail.content == data[-10:]

    assert requests.delete(url, auth=login, timeout=10).status_code in (200, 204)
    assert requests.get(url, auth=login, timeout=10).status_code == 404
