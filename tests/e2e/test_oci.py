"""Issue 16: container images through the OCI Distribution API (`/v2/`) — pushed and pulled with requests
(every endpoint, chunked uploads interrupted and resumed, digests, tags, referrers, mounts, deletion and
the collection of unreferenced layers), the registry's Bearer handshake and token scopes, privileges and
tickets, hostile names, another account's images; and with the real clients: skopeo copying an image
in and out, buildah building one and podman pulling it."""

import base64
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from pathlib import Path

import pytest
import requests

from harness import ROLE_PROJECT_MANAGER, ROLE_VIEWER, sql_row, unique

# Collect often, and soon: a layer no manifest references is gone a few seconds later.
ARCA_ARGS = ["--oci-gc-interval-secs", "1", "--oci-gc-grace-secs", "4"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def docker_name(prefix: str) -> str:
    return unique(prefix).lower().replace("_", "-")


def create_docker_repo(srv, project, name=None) -> str:
    name = name or docker_name("img")
    resp = srv.signed("POST", "/cloudartifact/v5/repositories", body={
        "format": "docker2", "display_name": name, "description": "e2e", "type": "hosted", "project_id": project})
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["format"] == "docker2"
    return name


def v2(srv, path: str) -> str:
    return srv.url("/v2/" + path)


def layer_tar(files: dict) -> tuple:
    """A gzip'ed tar layer and its uncompressed digest (the config's diff_id)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), 0, 0o644
            tar.addfile(info, io.BytesIO(content))
    plain = raw.getvalue()
    return gzip.compress(plain, mtime=0), sha(plain)


def push_blob(srv, auth, name, data: bytes) -> str:
    digest = sha(data)
    resp = requests.post(v2(srv, name + "/blobs/uploads/"), params={"digest": digest}, data=data, auth=auth,
                         headers={"Content-Type": "application/octet-stream"}, timeout=30)
    assert resp.status_code == 201, resp.text
    assert resp.headers["Docker-Content-Digest"] == digest
    assert resp.headers["Location"].endswith("/blobs/" + digest)
    return digest


def image_manifest(config: bytes, layers: list, media_type=OCI_MANIFEST, extra=None) -> bytes:
    doc = {"schemaVersion": 2, "mediaType": media_type,
           "config": {"mediaType": OCI_CONFIG if media_type == OCI_MANIFEST
                      else "application/vnd.docker.container.image.v1+json",
                      "digest": sha(config), "size": len(config)},
           "layers": [{"mediaType": OCI_LAYER if media_type == OCI_MANIFEST
                       else "application/vnd.docker.image.rootfs.diff.tar.gzip",
                       "digest": sha(l), "size": len(l)} for l in layers]}
    doc.update(extra or {})
    return json.dumps(doc).encode()


def push_manifest(srv, auth, name, ref, body: bytes, media_type=OCI_MANIFEST):
    return requests.put(v2(srv, "%s/manifests/%s" % (name, ref)), data=body, auth=auth,
                        headers={"Content-Type": media_type}, timeout=30)


def push_image(srv, auth, name, tag, files: dict, media_type=OCI_MANIFEST, shared=None):
    """A one- or two-layer image (`shared`: a layer to put first); answers (manifest digest, layers)."""
    layers = [shared] if shared else []
    gz, diff_id = layer_tar(files)
    layers.append(gz)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id] * len(layers)}}).encode()
    for blob in [config, *layers]:
        push_blob(srv, auth, name, blob)
    body = image_manifest(config, layers, media_type)
    resp = push_manifest(srv, auth, name, tag, body, media_type)
    assert resp.status_code == 201, resp.text
    assert resp.headers["Docker-Content-Digest"] == sha(body)
    return sha(body), layers


def oci_error(resp) -> str:
    return resp.json()["errors"][0]["code"]


@pytest.fixture(scope="module")
def repo(srv, project):
    return create_docker_repo(srv, project)


def test_version_check_challenge_and_token(srv, repo, login):
    anon = requests.get(v2(srv, ""), timeout=10)
    assert anon.status_code == 401 and oci_error(anon) == "UNAUTHORIZED"
    challenge = anon.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="%s/v2/token",service="arca"' % srv.base_url)
    assert anon.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    ok = requests.get(v2(srv, ""), auth=login, timeout=10)
    assert ok.status_code == 200 and ok.headers["Docker-Distribution-API-Version"] == "registry/2.0"
    assert requests.get(v2(srv, ""), auth=(login[0], "wrong"), timeout=10).status_code == 401
    # A private image without credentials: the challenge names the scope the request needs.
    pull = requests.get(v2(srv, repo + "/x/manifests/latest"), timeout=10)
    assert pull.status_code == 401
    assert 'scope="repository:%s/x:pull"' % repo in pull.headers["WWW-Authenticate"]
    push = requests.post(v2(srv, repo + "/x/blobs/uploads/"), timeout=10)
    assert 'scope="repository:%s/x:pull,push"' % repo in push.headers["WWW-Authenticate"]
    # The token endpoint: Basic in, a short-lived token out, which then opens /v2/.
    scope = "repository:%s/x:pull,push" % repo
    tok = requests.get(v2(srv, "token"), params={"service": "arca", "scope": scope}, auth=login, timeout=10)
    assert tok.status_code == 200, tok.text
    body = tok.json()
    assert body["token"] == body["access_token"] and 0 < body["expires_in"] <= 300 and body["issued_at"]
    bearer = {"Authorization": "Bearer " + body["token"]}
    assert requests.get(v2(srv, ""), headers=bearer, timeout=10).status_code == 200
    forged = {"Authorization": "Bearer " + body["token"][:-2] + "xx"}
    assert requests.get(v2(srv, ""), headers=forged, timeout=10).status_code == 401


def test_manifests_by_tag_and_digest_in_every_media_type(srv, repo, login):
    name = repo + "/app/web"
    digests = {}
    for media_type, tag in ((OCI_MANIFEST, "oci"), (DOCKER_MANIFEST, "docker")):
        digest, _ = push_image(srv, login, name, tag, {"hello.txt": tag.encode()}, media_type)
        digests[media_type] = digest
        for ref in (tag, digest):
            got = requests.get(v2(srv, "%s/manifests/%s" % (name, ref)), auth=login, timeout=10,
                               headers={"Accept": media_type})
            assert got.status_code == 200, got.text
            assert got.headers["Content-Type"] == media_type
            assert got.headers["Docker-Content-Digest"] == digest and sha(got.content) == digest
            head = requests.head(v2(srv, "%s/manifests/%s" % (name, ref)), auth=login, timeout=10)
            assert head.status_code == 200 and head.headers["Docker-Content-Digest"] == digest
            assert int(head.headers["Content-Length"]) == len(got.content) and not head.content
    for media_type, child in ((OCI_INDEX, OCI_MANIFEST), (DOCKER_LIST, DOCKER_MANIFEST)):
        child_doc = requests.get(v2(srv, "%s/manifests/%s" % (name, digests[child])), auth=login, timeout=10)
        index = json.dumps({"schemaVersion": 2, "mediaType": media_type, "manifests": [
            {"mediaType": child, "digest": digests[child], "size": len(child_doc.content),
             "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
        resp = push_manifest(srv, login, name, "multi-" + media_type.split(".")[-2], index, media_type)
        assert resp.status_code == 201, resp.text
        got = requests.get(v2(srv, "%s/manifests/%s" % (name, sha(index))), auth=login, timeout=10)
        assert got.headers["Content-Type"] == media_type and got.content == index
    # References must be in the image first; a digest reference must match; unknown ones are 404.
    lonely = image_manifest(b"{}", [b"never pushed"])
    resp = push_manifest(srv, login, name, "broken", lonely)
    assert resp.status_code == 400 and oci_error(resp) == "MANIFEST_BLOB_UNKNOWN"
    resp = push_manifest(srv, login, name, sha(b"other"), image_manifest(b"{}", []))
    assert resp.status_code == 400 and oci_error(resp) == "DIGEST_INVALID"
    resp = push_manifest(srv, login, name, "junk", b"not json")
    assert resp.status_code == 400 and oci_error(resp) == "MANIFEST_INVALID"
    big = push_manifest(srv, login, name, "big", b"{" + b" " * (4 * 1024 * 1024 + 10) + b"}")
    assert big.status_code == 413 and oci_error(big) == "MANIFEST_INVALID"
    missing = requests.get(v2(srv, name + "/manifests/nope"), auth=login, timeout=10)
    assert missing.status_code == 404 and oci_error(missing) == "MANIFEST_UNKNOWN"
    unknown = requests.get(v2(srv, repo + "/never/manifests/latest"), auth=login, timeout=10)
    assert unknown.status_code == 404 and oci_error(unknown) == "MANIFEST_UNKNOWN"
    nameless = requests.get(v2(srv, "nosuchrepo/x/manifests/latest"), auth=login, timeout=10)
    assert nameless.status_code == 404 and oci_error(nameless) == "NAME_UNKNOWN"


def test_chunked_upload_interrupted_and_resumed(srv, repo, login):
    name = repo + "/chunks"
    data = os.urandom(300_000)
    start = requests.post(v2(srv, name + "/blobs/uploads/"), auth=login, timeout=10)
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    assert start.headers["Docker-Upload-UUID"] in location
    url = srv.url(location)
    first = requests.patch(url, data=data[:100_000], auth=login, timeout=10,
                           headers={"Content-Range": "0-99999", "Content-Type": "application/octet-stream"})
    assert first.status_code == 202 and first.headers["Range"] == "0-99999"
    # The client "loses" the connection; the status says where to resume.
    status = requests.get(url, auth=login, timeout=10)
    assert status.status_code == 204 and status.headers["Range"] == "0-99999"
    resume_at = int(status.headers["Range"].split("-")[1]) + 1
    wrong = requests.patch(url, data=data[150_000:200_000], auth=login, timeout=10,
                           headers={"Content-Range": "150000-199999"})
    assert wrong.status_code == 416 and oci_error(wrong) == "BLOB_UPLOAD_INVALID"
    second = requests.patch(url, data=data[resume_at:200_000], auth=login, timeout=10,
                            headers={"Content-Range": "%d-199999" % resume_at})
    assert second.status_code == 202 and second.headers["Range"] == "0-199999"
    # The last chunk comes with the closing PUT.
    done = requests.put(url, params={"digest": sha(data)}, data=data[200_000:], auth=login, timeout=30)
    assert done.status_code == 201, done.text
    assert done.headers["Docker-Content-Digest"] == sha(data)
    got = requests.get(v2(srv, "%s/blobs/%s" % (name, sha(data))), auth=login, timeout=30)
    assert got.status_code == 200 and got.content == data
    ranged = requests.get(v2(srv, "%s/blobs/%s" % (name, sha(data))), auth=login, timeout=30,
                          headers={"Range": "bytes=1000-1999"})
    assert ranged.status_code == 206 and ranged.content == data[1000:2000]
    head = requests.head(v2(srv, "%s/blobs/%s" % (name, sha(data))), auth=login, timeout=30)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(data)
    assert head.headers["Docker-Content-Digest"] == sha(data)
    # The session is over; a cancelled one is gone too.
    assert requests.get(url, auth=login, timeout=10).status_code == 404
    other = srv.url(requests.post(v2(srv, name + "/blobs/uploads/"), auth=login, timeout=10).headers["Location"])
    assert requests.delete(other, auth=login, timeout=10).status_code == 204
    gone = requests.get(other, auth=login, timeout=10)
    assert gone.status_code == 404 and oci_error(gone) == "BLOB_UPLOAD_UNKNOWN"


def test_wrong_digests_are_refused_and_sha512_is_verified(srv, repo, login):
    name = repo + "/digests"
    resp = requests.post(v2(srv, name + "/blobs/uploads/"), params={"digest": sha(b"other")}, data=b"content",
                         auth=login, timeout=10)
    assert resp.status_code == 400 and oci_error(resp) == "DIGEST_INVALID"
    session = srv.url(requests.post(v2(srv, name + "/blobs/uploads/"), auth=login, timeout=10).headers["Location"])
    resp = requests.put(session, params={"digest": sha(b"other")}, data=b"content", auth=login, timeout=10)
    assert resp.status_code == 400 and oci_error(resp) == "DIGEST_INVALID"
    assert requests.get(v2(srv, "%s/blobs/%s" % (name, sha(b"content"))), auth=login,
                        timeout=10).status_code == 404
    d512 = "sha512:" + hashlib.sha512(b"content").hexdigest()
    resp = requests.post(v2(srv, name + "/blobs/uploads/"), params={"digest": d512}, data=b"content",
                         auth=login, timeout=10)
    assert resp.status_code == 201, resp.text
    got = requests.get(v2(srv, "%s/blobs/%s" % (name, d512)), auth=login, timeout=10)
    assert got.status_code == 200 and got.content == b"content"
    bad512 = "sha512:" + hashlib.sha512(b"x").hexdigest()
    resp = requests.post(v2(srv, name + "/blobs/uploads/"), params={"digest": bad512}, data=b"content",
                         auth=login, timeout=10)
    assert resp.status_code == 400 and oci_error(resp) == "DIGEST_INVALID"


def test_hostile_names_references_and_digests(srv, repo, login):
    cases = [
        ("Upper/x/manifests/latest", "NAME_INVALID"),
        ("%s/a..b/manifests/latest" % repo, "NAME_INVALID"),
        ("%s/manifests/latest" % repo, "NAME_INVALID"),
        ("%s/x/blobs/sha256:abc" % repo, "DIGEST_INVALID"),
        ("%s/x/blobs/md5:d41d8cd98f00b204e9800998ecf8427e" % repo, "DIGEST_INVALID"),
        ("%s/x/manifests/sha256:%s" % (repo, "g" * 64), "DIGEST_INVALID"),
        ("%s/x/manifests/-tag" % repo, "MANIFEST_INVALID"),
        ("%s/x/manifests/%s" % (repo, "t" * 129), "MANIFEST_INVALID"),
        ("%s/x/blobs/uploads/not-an-id" % repo, "MANIFEST_INVALID"),
        ("%s/x%%00/manifests/latest" % repo, "NAME_INVALID"),
        ("%s/x/referrers/sha256:zz" % repo, "DIGEST_INVALID"),
    ]
    for path, code in cases:
        resp = requests.get(v2(srv, path), auth=login, timeout=10)
        assert resp.status_code == 400 and oci_error(resp) == code, (path, resp.status_code, resp.text)
    for path in ("%s/x/other/thing" % repo, "%s/../../etc/passwd" % repo):
        assert requests.get(v2(srv, path), auth=login, timeout=10).status_code in (400, 404)
    resp = requests.post(v2(srv, repo + "/x/blobs/uploads/"), params={"digest": "sha256:nothex"}, data=b"x",
                         auth=login, timeout=10)
    assert resp.status_code == 400 and oci_error(resp) == "DIGEST_INVALID"


def test_tags_are_paged_with_n_last_and_link(srv, repo, login):
    name = repo + "/paged"
    digest, _ = push_image(srv, login, name, "v1", {"f": b"1"})
    body = requests.get(v2(srv, "%s/manifests/v1" % name), auth=login, timeout=10).content
    for tag in ("v2", "v3", "a0", "z9"):
        assert push_manifest(srv, login, name, tag, body).status_code == 201
    everything = requests.get(v2(srv, name + "/tags/list"), auth=login, timeout=10).json()
    assert everything == {"name": name, "tags": ["a0", "v1", "v2", "v3", "z9"]}
    page = requests.get(v2(srv, name + "/tags/list"), params={"n": 2}, auth=login, timeout=10)
    assert page.json()["tags"] == ["a0", "v1"]
    assert page.headers["Link"] == '</v2/%s/tags/list?n=2&last=v1>; rel="next"' % name
    nxt = requests.get(srv.url(page.headers["Link"].split(">")[0][1:]), auth=login, timeout=10)
    assert nxt.json()["tags"] == ["v2", "v3"] and "Link" in nxt.headers
    last = requests.get(v2(srv, name + "/tags/list"), params={"n": 5, "last": "v3"}, auth=login, timeout=10)
    assert last.json()["tags"] == ["z9"] and "Link" not in last.headers
    assert requests.get(v2(srv, name + "/tags/list"), params={"n": "x"}, auth=login,
                        timeout=10).status_code == 400
    # Deleting a tag leaves the manifest; deleting the manifest takes its tags.
    assert requests.delete(v2(srv, name + "/manifests/z9"), auth=login, timeout=10).status_code == 202
    assert requests.get(v2(srv, name + "/manifests/z9"), auth=login, timeout=10).status_code == 404
    assert requests.get(v2(srv, name + "/manifests/" + digest), auth=login, timeout=10).status_code == 200
    assert requests.delete(v2(srv, name + "/manifests/" + digest), auth=login, timeout=10).status_code == 202
    assert requests.get(v2(srv, name + "/tags/list"), auth=login, timeout=10).json()["tags"] == []
    assert requests.get(v2(srv, name + "/manifests/v1"), auth=login, timeout=10).status_code == 404


def test_referrers_with_and_without_artifact_type(srv, repo, login):
    name = repo + "/signed"
    subject, _ = push_image(srv, login, name, "latest", {"app": b"app"})
    subject_doc = requests.get(v2(srv, name + "/manifests/latest"), auth=login, timeout=10).content
    empty = b"{}"
    push_blob(srv, login, name, empty)
    referrers = {}
    for kind in ("application/vnd.example.signature", "application/vnd.example.sbom"):
        doc = json.dumps({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": kind,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha(empty), "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha(empty), "size": 2}],
            "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": len(subject_doc)},
            "annotations": {"org.example.kind": kind}}).encode()
        resp = push_manifest(srv, login, name, sha(doc), doc)
        assert resp.status_code == 201, resp.text
        assert resp.headers["OCI-Subject"] == subject
        referrers[kind] = sha(doc)
    got = requests.get(v2(srv, "%s/referrers/%s" % (name, subject)), auth=login, timeout=10)
    assert got.status_code == 200 and got.headers["Content-Type"] == OCI_INDEX
    index = got.json()
    assert index["schemaVersion"] == 2 and index["mediaType"] == OCI_INDEX
    assert sorted(m["digest"] for m in index["manifests"]) == sorted(referrers.values())
    sig = [m for m in index["manifests"] if m["artifactType"] == "application/vnd.example.signature"][0]
    assert sig["annotations"] == {"org.example.kind": "application/vnd.example.signature"}
    filtered = requests.get(v2(srv, "%s/referrers/%s" % (name, subject)), auth=login, timeout=10,
                            params={"artifactType": "application/vnd.example.sbom"})
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [referrers["application/vnd.example.sbom"]]
    none = requests.get(v2(srv, "%s/referrers/%s" % (name, sha(b"nothing"))), auth=login, timeout=10)
    assert none.status_code == 200 and none.json()["manifests"] == []


def test_cross_repository_mount_allowed_and_refused(srv, project, repo, login):
    source = repo + "/base"
    _, layers = push_image(srv, login, source, "1", {"base": b"base layer"})
    other_repo = create_docker_repo(srv, project)
    target = other_repo + "/derived"
    mount = requests.post(v2(srv, target + "/blobs/uploads/"), params={"mount": sha(layers[0]), "from": source},
                          auth=login, timeout=10)
    assert mount.status_code == 201, mount.text
    assert mount.headers["Docker-Content-Digest"] == sha(layers[0])
    got = requests.get(v2(srv, "%s/blobs/%s" % (target, sha(layers[0]))), auth=login, timeout=10)
    assert got.content == layers[0]
    # A user who may push into its own project's repository but not read the source gets a session.
    outsider = srv.create_user()
    their_project = srv.create_project()
    srv.add_member(their_project, outsider.user_id, 4)
    theirs = create_docker_repo(srv, their_project)
    outsider_login = srv.repo_login(outsider)
    refused = requests.post(v2(srv, theirs + "/stolen/blobs/uploads/"), auth=outsider_login, timeout=10,
                            params={"mount": sha(layers[0]), "from": source})
    assert refused.status_code == 202 and "/blobs/uploads/" in refused.headers["Location"]
    assert requests.get(v2(srv, "%s/stolen/blobs/%s" % (theirs, sha(layers[0]))), auth=outsider_login,
                        timeout=10).status_code == 404
    assert requests.get(v2(srv, "%s/blobs/%s" % (source, sha(layers[0]))), auth=outsider_login,
                        timeout=10).status_code in (403, 404)


def test_a_shared_layer_survives_one_deletion_and_is_collected_after_both(srv, repo, login):
    shared, _ = layer_tar({"shared.bin": os.urandom(50_000)})
    one, _ = push_image(srv, login, repo + "/one", "1", {"one": b"1"}, shared=shared)
    two, _ = push_image(srv, login, repo + "/two", "1", {"two": b"2"}, shared=shared)
    blob = lambda image: requests.get(v2(srv, "%s/%s/blobs/%s" % (repo, image, sha(shared))), auth=login,
                                      timeout=10)
    assert requests.delete(v2(srv, repo + "/one/manifests/" + one), auth=login, timeout=10).status_code == 202
    time.sleep(7)
    assert blob("two").status_code == 200 and blob("two").content == shared
    assert blob("one").status_code == 404, "image one's copy of the layer is collected"
    assert sql_row(srv, "SELECT count(*) FROM blobs WHERE sha256 = ?", sha(shared)[7:])[0] == 1
    assert requests.delete(v2(srv, repo + "/two/manifests/" + two), auth=login, timeout=10).status_code == 202
    deadline = time.time() + 15
    while time.time() < deadline and blob("two").status_code == 200:
        time.sleep(0.5)
    assert blob("two").status_code == 404
    assert sql_row(srv, "SELECT count(*) FROM blobs WHERE sha256 = ?", sha(shared)[7:])[0] == 0


def test_images_in_the_file_tree_search_statistics_and_recycle_bin(srv, repo, login):
    from huaweicloudsdkcodeartsartifact.v2 import (
        BatchDeleteTrashesRequest, BatchRestoreRepoRequest, DeleteArtifactFileRequest, IDETrashArtifactModel,
        PathMap, SearchByChecksumRequest, ShowStorageRequest, TrashArtifactModelForDelete)
    client = srv.artifact_client()
    digest, layers = push_image(srv, login, repo + "/kept", "1", {"k": os.urandom(1000)})
    layer = sha(layers[0])
    hits = client.search_by_checksum(SearchByChecksumRequest(checksum=layer[7:])).result
    assert [(h.repo_name, h.relative_path) for h in hits] == [(repo, "kept/blobs/" + layer)]
    assert client.show_storage(ShowStorageRequest(format_list="docker2")).result.total_count >= 3
    # Deleted through the management API, the manifest goes to the recycle bin and keeps its layer.
    manifest_path = "/%s/kept/manifests/%s" % (repo, digest)
    client.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path=manifest_path)))
    assert requests.get(v2(srv, repo + "/kept/manifests/1"), auth=login, timeout=10).status_code == 404
    time.sleep(7)
    blob = lambda: requests.get(v2(srv, "%s/kept/blobs/%s" % (repo, layer)), auth=login, timeout=10)
    assert blob().status_code == 200, "a manifest in the recycle bin keeps its layers"
    restored = client.batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(
        id=repo, uri="/kept/manifests/" + digest)]))
    assert restored.result.success_num == 1
    assert requests.get(v2(srv, repo + "/kept/manifests/1"), auth=login, timeout=10).status_code == 200
    # Purged for good, its layer is collected.
    client.delete_artifact_file(DeleteArtifactFileRequest(body=PathMap(path=manifest_path)))
    purged = client.batch_delete_trashes(BatchDeleteTrashesRequest(body=[TrashArtifactModelForDelete(
        id=repo, uri="/kept/manifests/" + digest)]))
    assert purged.result.success_num == 1
    deadline = time.time() + 15
    while time.time() < deadline and blob().status_code == 200:
        time.sleep(0.5)
    assert blob().status_code == 404
    assert client.search_by_checksum(SearchByChecksumRequest(checksum=layer[7:])).result == []


def test_viewer_is_refused_a_push_and_a_pull_only_token_grants_no_push(srv, project, repo, login):
    name = repo + "/guarded"
    push_image(srv, login, name, "1", {"g": b"g"})
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    viewer_login = srv.repo_login(viewer)
    assert requests.get(v2(srv, name + "/manifests/1"), auth=viewer_login, timeout=10).status_code == 200
    denied = requests.post(v2(srv, name + "/blobs/uploads/"), auth=viewer_login, timeout=10)
    assert denied.status_code == 403 and oci_error(denied) == "DENIED"
    assert requests.delete(v2(srv, name + "/manifests/1"), auth=viewer_login, timeout=10).status_code == 403
    scope = "repository:%s:pull,push,delete" % name
    tok = requests.get(v2(srv, "token"), params={"service": "arca", "scope": scope}, auth=viewer_login,
                       timeout=10).json()["token"]
    claims = json.loads(base64.urlsafe_b64decode(tok.split(".")[1] + "=="))
    assert claims["access"] == [{"name": name, "actions": ["pull"]}], "a Viewer's token grants pull only"
    bearer = {"Authorization": "Bearer " + tok}
    assert requests.get(v2(srv, name + "/manifests/1"), headers=bearer, timeout=10).status_code == 200
    refused = requests.post(v2(srv, name + "/blobs/uploads/"), headers=bearer, timeout=10)
    assert refused.status_code == 403 and oci_error(refused) == "DENIED"
    # A token for another name grants nothing here, even to root; an anonymous token nothing private.
    other = requests.get(v2(srv, "token"), params={"scope": "repository:%s/else:pull" % repo}, auth=login,
                         timeout=10).json()["token"]
    assert requests.get(v2(srv, name + "/manifests/1"), timeout=10,
                        headers={"Authorization": "Bearer " + other}).status_code == 403
    anon = requests.get(v2(srv, "token"), params={"scope": "repository:%s:pull" % name}, timeout=10)
    assert anon.status_code == 200
    assert requests.get(v2(srv, name + "/manifests/1"), timeout=10,
                        headers={"Authorization": "Bearer " + anon.json()["token"]}).status_code == 401


def test_an_open_repository_serves_anonymous_pulls_but_no_pushes(srv, project, login):
    from huaweicloudsdkcodeartsartifact.v2 import UpdateArtifactoryRequest, UpdateNotMavenRepoDO
    open_repo = create_docker_repo(srv, project)
    srv.artifact_client().update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=open_repo, allow_anonymous=True)))
    name = open_repo + "/public"
    digest, _ = push_image(srv, login, name, "1", {"p": b"p"})
    assert requests.get(v2(srv, name + "/manifests/1"), timeout=10).status_code == 200
    tok = requests.get(v2(srv, "token"), params={"scope": "repository:%s:pull,push" % name}, timeout=10).json()
    claims = json.loads(base64.urlsafe_b64decode(tok["token"].split(".")[1] + "=="))
    assert claims["sub"] == "" and claims["access"] == [{"name": name, "actions": ["pull"]}]
    bearer = {"Authorization": "Bearer " + tok["token"]}
    assert requests.get(v2(srv, name + "/manifests/" + digest), headers=bearer, timeout=10).status_code == 200
    for headers in ({}, bearer):
        push = requests.post(v2(srv, name + "/blobs/uploads/"), headers=headers, timeout=10)
        assert push.status_code == 401 and oci_error(push) == "UNAUTHORIZED"
        delete = requests.delete(v2(srv, name + "/manifests/" + digest), headers=headers, timeout=10)
        assert delete.status_code == 401


def test_a_ticket_is_a_registry_password(srv, repo):
    token = srv.root_token()
    ticket = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": token},
                         json={"left_num": 30}).json()["value"]
    auth = (srv.root.name, ticket)
    push_image(srv, auth, repo + "/ticketed", "1", {"t": b"t"})
    assert requests.get(v2(srv, repo + "/ticketed/manifests/1"), auth=auth, timeout=10).status_code == 200
    tok = requests.get(v2(srv, "token"), params={"scope": "repository:%s/ticketed:pull" % repo}, auth=auth,
                       timeout=10)
    assert tok.status_code == 200
    assert requests.get(v2(srv, repo + "/ticketed/manifests/1"), timeout=10,
                        headers={"Authorization": "Bearer " + tok.json()["token"]}).status_code == 200


def test_create_docker_repositories_through_the_sdk_and_create_artifactory(srv, project):
    from huaweicloudsdkcodeartsartifact.v2 import CreateDockerRepositoriesRequest, CreateDockerRepositoryDO
    # The SDK's body names no project: the caller's only project is taken.
    maker = srv.create_user()
    srv.add_member(project, maker.user_id, ROLE_PROJECT_MANAGER)
    name = docker_name("sdk")
    resp = srv.artifact_client(maker.ak, maker.sk).create_docker_repositories(CreateDockerRepositoriesRequest(
        body=CreateDockerRepositoryDO(format="docker2", display_name=name, description="d", type="hosted")))
    assert resp.result["name"] == name and resp.result["format"] == "docker2"
    assert resp.result["url"].endswith("/v2/%s/" % name)
    srv.create_project()
    many = srv.signed("POST", "/cloudartifact/v5/repositories", body={
        "format": "docker2", "display_name": docker_name("many"), "type": "hosted"})
    assert many.status_code == 400 and "project_id" in many.text
    bad = srv.signed("POST", "/cloudartifact/v5/repositories", body={
        "format": "docker2", "display_name": "Upper_Case", "type": "hosted", "project_id": project})
    assert bad.status_code == 400 and "display_name" in bad.text and "Upper_Case" not in bad.text
    remote = srv.signed("POST", "/cloudartifact/v5/repositories", body={
        "format": "docker2", "display_name": docker_name("r"), "type": "remote", "project_id": project})
    assert remote.status_code == 400 and "type" in remote.text
    upper = srv.signed("POST", "/cloudartifact/v5/artifact/", body={
        "format": "docker2", "type": "hosted", "repository_name": "Not_An_Image_Name", "project_id": project})
    assert upper.status_code == 400 and "repository_name" in upper.text
    name2 = docker_name("art")
    srv.create_repo(project, "docker2", name=name2)
    listed = srv.signed("GET", "/cloudartifact/v5/repositories/" + name2)
    assert listed.status_code == 200 and listed.json()["result"]["format"] == "docker2"


def test_the_console_creates_a_docker2_repository(srv, project):
    session = requests.Session()
    signed_in = session.post(srv.url("/ui/sign-in"), data={"domain": srv.domain_name, "user": srv.root.name,
                             "password": srv.root.password}, allow_redirects=False, timeout=30)
    assert signed_in.status_code == 303
    page = session.get(srv.url("/ui/repositories"), timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    assert '<option value="docker2">' in page.text
    name = docker_name("ui")
    resp = session.post(srv.url("/ui/repositories"), data={"csrf": csrf, "project_id": project,
                        "format": "docker2", "name": name}, headers={"Origin": srv.base_url},
                        allow_redirects=False, timeout=30)
    assert resp.status_code == 303, resp.text
    shown = srv.signed("GET", "/cloudartifact/v5/repositories/" + name)
    assert shown.status_code == 200 and shown.json()["result"]["format"] == "docker2"
    refused = session.post(srv.url("/ui/repositories"), data={"csrf": csrf, "project_id": project,
                           "format": "docker2", "name": "Upper"}, headers={"Origin": srv.base_url},
                           allow_redirects=False, timeout=30)
    assert refused.status_code == 400


def test_another_accounts_image_is_invisible(two_domains):
    a, b = two_domains
    project = a.create_project()
    name = create_docker_repo(a, project)
    a_login = a.repo_login()
    push_image(a, a_login, name + "/secret", "1", {"s": b"s"})
    b_login = b.repo_login()
    for path in ("/secret/manifests/1", "/secret/tags/list"):
        resp = requests.get(v2(a, name + path), auth=b_login, timeout=10)
        assert resp.status_code == 404 and oci_error(resp) == "NAME_UNKNOWN"
    tok = requests.get(v2(a, "token"), params={"scope": "repository:%s/secret:pull,push" % name}, auth=b_login,
                       timeout=10).json()["token"]
    resp = requests.get(v2(a, name + "/secret/manifests/1"), timeout=10, headers={"Authorization": "Bearer " + tok})
    assert resp.status_code == 404


# -- real clients -----------------------------------------------------------------------------------------

SKOPEO = shutil.which("skopeo")


def oci_layout(root: Path, tag: str) -> Path:
    """An OCI image layout on disk, made here (no registry is reachable): one layer with a file."""
    root.mkdir(parents=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    gz, diff_id = layer_tar({"hello.txt": b"hello from skopeo\n"})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode()
    manifest = image_manifest(config, [gz])
    for blob in (gz, config, manifest):
        (blobs / sha(blob)[7:]).write_bytes(blob)
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": sha(manifest), "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return root


def run(*cmd, env=None):
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.skipif(SKOPEO is None, reason="skopeo is not installed")
@pytest.mark.parametrize("credential", ["repo_user", "ticket"])
def test_skopeo_copies_in_and_out(srv, repo, login, tmp_path, credential):
    if credential == "ticket":
        ticket = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id,
                             headers={"X-Auth-Token": srv.root_token()}, json={"left_num": 100}).json()["value"]
        creds = "%s:%s" % (srv.root.name, ticket)
    else:
        creds = "%s:%s" % login
    host = srv.base_url.split("//")[1]
    image = "%s/%s/skopeo/%s" % (host, repo, credential.replace("_", "-"))
    layout = oci_layout(tmp_path / "layout", "v1")
    out = run(SKOPEO, "copy", "--dest-tls-verify=false", "--dest-creds", creds, "oci:%s:v1" % layout,
              "docker://%s:v1" % image)
    assert out.returncode == 0, out.stderr
    inspected = run(SKOPEO, "inspect", "--tls-verify=false", "--creds", creds, "docker://%s:v1" % image)
    assert inspected.returncode == 0, inspected.stderr
    info = json.loads(inspected.stdout)
    index = json.loads((layout / "index.json").read_text())
    assert info["Digest"] == index["manifests"][0]["digest"]
    tags = run(SKOPEO, "list-tags", "--tls-verify=false", "--creds", creds, "docker://%s" % image)
    assert tags.returncode == 0 and json.loads(tags.stdout)["Tags"] == ["v1"], tags.stderr
    out = run(SKOPEO, "copy", "--src-tls-verify=false", "--src-creds", creds, "docker://%s:v1" % image,
              "dir:%s" % (tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    pulled = (tmp_path / "out" / "manifest.json").read_bytes()
    assert sha(pulled) == info["Digest"]
    for blob in json.loads(pulled)["layers"]:
        assert sha((tmp_path / "out" / blob["digest"][7:]).read_bytes()) == blob["digest"]
    # Without credentials the private image is refused; then skopeo deletes it.
    anon = run(SKOPEO, "inspect", "--tls-verify=false", "docker://%s:v1" % image)
    assert anon.returncode != 0
    out = run(SKOPEO, "delete", "--tls-verify=false", "--creds", creds, "docker://%s:v1" % image)
    assert out.returncode == 0, out.stderr
    assert run(SKOPEO, "inspect", "--tls-verify=false", "--creds", creds, "docker://%s:v1" % image).returncode != 0


BUILDAH, PODMAN = shutil.which("buildah"), shutil.which("podman")


@pytest.mark.skipif(BUILDAH is None or PODMAN is None, reason="buildah or podman is not installed")
def test_buildah_builds_and_pushes_and_podman_pulls(srv, repo, login, tmp_path):
    store = ["--storage-driver", "vfs", "--root", str(tmp_path / "storage"), "--runroot", str(tmp_path / "run")]
    context = tmp_path / "context"
    context.mkdir()
    (context / "hello.txt").write_text("built by buildah\n")
    (context / "Containerfile").write_text("FROM scratch\nCOPY hello.txt /hello.txt\n")
    host = srv.base_url.split("//")[1]
    image = "%s/%s/built/hello:1" % (host, repo)
    env = dict(os.environ, BUILDAH_ISOLATION="chroot", HOME=str(tmp_path))
    out = run(BUILDAH, *store, "bud", "--isolation", "chroot", "-t", image, str(context), env=env)
    if out.returncode != 0:
        pytest.skip("buildah cannot build in this environment: %s" % out.stderr.strip()[-300:])
    out = run(BUILDAH, *store, "push", "--tls-verify=false", "--creds", "%s:%s" % login, image, env=env)
    assert out.returncode == 0, out.stderr
    pushed = requests.get(v2(srv, repo + "/built/hello/manifests/1"), auth=login, timeout=10)
    assert pushed.status_code == 200
    # podman wants a run root of at most 50 characters.
    short = Path(tempfile.mkdtemp(prefix="arca-podman-"))
    pstore = ["--storage-driver", "vfs", "--root", str(short / "storage"), "--runroot", str(short / "run")]
    out = run(PODMAN, *pstore, "pull", "--tls-verify=false", "--creds", "%s:%s" % login, image, env=env)
    assert out.returncode == 0, out.stderr
    out = run(PODMAN, *pstore, "image", "inspect", "--format", "{{.Digest}}", image, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == pushed.headers["Docker-Content-Digest"]
    saved = tmp_path / "saved"
    out = run(PODMAN, *pstore, "save", "--format", "oci-dir", "-o", str(saved), image, env=env)
    assert out.returncode == 0, out.stderr
    found = b""
    for blob in (saved / "blobs" / "sha256").iterdir():
        try:
            with tarfile.open(blob) as tar:
                member = tar.extractfile("hello.txt")
                found = member.read() if member else found
        except (tarfile.TarError, KeyError):
            continue
    assert found == b"built by buildah\n"
    shutil.rmtree(short, ignore_errors=True)
