"""Issue 3 §8/§9: a refused or aborted upload leaves nothing behind — no blob in the blob store, no
temporary file — whichever protocol it came through and whether it was refused before or after its bytes
were streamed to disk (PyPI stores the distribution before it can validate the form and authorize it)."""

import base64
import hashlib
import io
import json
import socket
import struct
import time
import zipfile

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import UpdateArtifactoryRequest, UpdateNotMavenRepoDO

from harness import ROLE_VIEWER


@pytest.fixture(scope="module")
def ctx(srv):
    project = srv.create_project()
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    generic = srv.create_repo(project, "generic")
    srv.artifact_client().update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=generic, deployment_policy="disable_redeploy")))
    return {"project": project, "generic": generic, "maven": srv.create_maven_repo(project),
            "pypi": srv.create_repo(project, "pypi"), "cargo": srv.create_repo(project, "cargo"),
            "npm": srv.create_repo(project, "npm"),
            "login": srv.repo_login(),
            "viewer": srv.repo_login(viewer)}


def stored_blobs(srv) -> set:
    return {p.name for p in (srv.data_dir / "blobs").rglob("*") if p.is_file()}


def temp_files(srv) -> list:
    return sorted(p.name for p in (srv.data_dir / "tmp").iterdir())


class NothingLeft:
    """Asserts that the blob store and its temporary area hold the same files afterwards."""

    def __init__(self, srv):
        self.srv = srv

    def __enter__(self):
        self.blobs = stored_blobs(self.srv)
        return self

    def __exit__(self, exc_type, *rest):
        if exc_type is None:
            # Cleanup after an error may run just after the answer was sent.
            deadline = time.monotonic() + 2
            while stored_blobs(self.srv) != self.blobs and time.monotonic() < deadline:
                time.sleep(0.05)
            assert stored_blobs(self.srv) - self.blobs == set(), "a refused upload left a blob behind"
            # On S3 the security scan copies a stored blob into tmp/ for a moment, in the background.
            while temp_files(self.srv) and time.monotonic() < deadline + 3:
                time.sleep(0.05)
            assert temp_files(self.srv) == [], "a refused upload left a temporary file"


def wheel(name: str, version: str, summary: str) -> bytes:
    module = name.replace("-", "_")
    dist_info = "%s-%s.dist-info" % (module, version)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("%s/__init__.py" % module, "VALUE = %r\n" % summary)
        z.writestr("%s/METADATA" % dist_info,
                   "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n" % (name, version, summary))
        z.writestr("%s/WHEEL" % dist_info, "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("%s/RECORD" % dist_info, "")
    return buf.getvalue()


def twine_upload(srv, ctx, filename: str, content: bytes, login=None, **fields):
    form = {":action": "file_upload", "name": filename.split("-")[0], "version": filename.split("-")[1],
            "filetype": "bdist_wheel" if filename.endswith(".whl") else "sdist",
            "sha256_digest": hashlib.sha256(content).hexdigest()}
    form.update(fields)
    return requests.post(srv.url("/artifactory/api/pypi/%s/" % ctx["pypi"]), data=form,
                         files={"content": (filename, content)}, auth=login or ctx["login"], timeout=30)


def test_pypi_refusals_after_the_bytes_were_stored(srv, ctx):
    good = wheel("leaky", "1.0", "first")
    assert twine_upload(srv, ctx, "leaky-1.0-py3-none-any.whl", good).status_code == 200
    cases = [
        # the same file name again, with other bytes and other METADATA (both blobs are new)
        ("reupload", "leaky-1.0-py3-none-any.whl", wheel("leaky", "1.0", "second"), None, {}),
        ("viewer", "leaky-1.1-py3-none-any.whl", wheel("leaky", "1.1", "viewer"), ctx["viewer"], {}),
        ("digest", "leaky-1.2-py3-none-any.whl", wheel("leaky", "1.2", "digest"), None,
         {"sha256_digest": "0" * 64}),
        ("name", "leaky-1.3-py3-none-any.whl", wheel("leaky", "1.3", "name"), None, {"name": "other"}),
        ("requires_python", "leaky-1.4-py3-none-any.whl", wheel("leaky", "1.4", "rp"), None,
         {"requires_python": ">=3" + "0" * 300}),
        ("traversal", "../leaky-1.5.tar.gz", b"sdist bytes", None, {"name": "leaky", "version": "1.5"}),
    ]
    for label, filename, content, login, fields in cases:
        with NothingLeft(srv):
            resp = twine_upload(srv, ctx, filename, content, login, **fields)
            assert resp.status_code in (400, 403), (label, resp.status_code, resp.text[:300])


def test_hosted_refusals_store_nothing(srv, ctx):
    login, generic, maven = ctx["login"], ctx["generic"], ctx["maven"]
    url = srv.url("/artifactory/%s/once.bin" % generic)
    assert requests.put(url, data=b"first", auth=login, timeout=10).status_code == 201
    cases = [
        ("redeploy", url, b"second", login, 409),
        ("viewer", srv.url("/artifactory/%s/viewer.bin" % generic), b"viewer bytes", ctx["viewer"], 403),
        ("snapshot-in-release",
         srv.url("/artifactory/%s/com/acme/a/1.0-SNAPSHOT/a-1.0-SNAPSHOT.jar" % maven["release"]), b"snap",
         login, 400),
        ("release-in-snapshot", srv.url("/artifactory/%s/com/acme/a/1.0/a-1.0.jar" % maven["snapshot"]),
         b"rel", login, 400),
        ("checksum-mismatch", srv.url("/artifactory/%s/com/acme/a/1.0/a-1.0.jar.sha1" % maven["release"]),
         b"0" * 40, login, (400, 404)),
    ]
    for label, target, body, who, status in cases:
        with NothingLeft(srv):
            resp = requests.put(target, data=body, auth=who, timeout=10)
            expected = status if isinstance(status, tuple) else (status,)
            assert resp.status_code in expected, (label, resp.status_code, resp.text[:300])


def test_aborted_upload_leaves_no_temporary_file(srv, ctx):
    """The client promises 8 MiB, sends 1 MiB and hangs up: the half-written temporary file goes, and no
    file appears in the repository."""
    host, port = srv.host.split(":")
    auth = base64.b64encode(("%s:%s" % ctx["login"]).encode())
    with NothingLeft(srv):
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(b"PUT /artifactory/%s/aborted.bin HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
                      b"Content-Length: %d\r\n\r\n" % (ctx["generic"].encode(), srv.host.encode(), auth, 8 << 20))
            s.sendall(b"x" * (1 << 20))
            time.sleep(0.3)  # the server is now writing the temporary file
        deadline = time.monotonic() + 5
        while temp_files(srv) and time.monotonic() < deadline:
            time.sleep(0.05)
    resp = requests.get(srv.url("/artifactory/%s/aborted.bin" % ctx["generic"]), auth=ctx["login"], timeout=10)
    assert resp.status_code == 404


def test_cargo_publish_shorter_than_declared_stores_nothing(srv, ctx):
    """cargo's publish frame declares the .crate's length; a body that ends early is refused after the
    bytes were streamed into the blob store."""
    url = srv.url("/artifactory/api/cargo/%s/api/v1/crates/new" % ctx["cargo"])
    auth = {"Authorization": "Basic " + base64.b64encode(("%s:%s" % ctx["login"]).encode()).decode()}
    meta = json.dumps({"name": "leaky", "vers": "1.0.0", "deps": [], "features": {}}).encode()
    crate = b"crate bytes that stop early"
    frame = struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate) + 100) + crate
    with NothingLeft(srv):
        resp = requests.put(url, data=frame, headers=auth, timeout=10)
        assert resp.status_code == 400, resp.text
    whole = struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate)) + crate
    assert requests.put(url, data=whole, headers=auth, timeout=10).status_code == 200


def npm_document(name: str, version: str, tarball: bytes, **dist):
    data = base64.b64encode(tarball).decode()
    return {"name": name, "dist-tags": {"latest": version},
            "versions": {version: {"name": name, "version": version, "dist": dict(dist)}},
            "_attachments": {"%s-%s.tgz" % (name, version): {"data": data, "length": len(tarball)}}}


def test_npm_refusals_store_nothing(srv, ctx):
    """A publish whose tarball does not match its own dist fields is refused after the decoded bytes were
    streamed into the blob store; nothing of it stays, and no version appears."""
    url = srv.url("/artifactory/api/npm/%s/leaky" % ctx["npm"])
    good = b"the first tarball"
    first = npm_document("leaky", "1.0.0", good, shasum=hashlib.sha1(good).hexdigest())
    assert requests.put(url, json=first, auth=ctx["login"], timeout=10).status_code == 201
    other = b"another tarball"
    sha512 = base64.b64encode(hashlib.sha512(b"not it").digest()).decode()
    wrong_length = npm_document("leaky", "1.2.0", other)
    wrong_length["_attachments"]["leaky-1.2.0.tgz"]["length"] = len(other) + 1
    not_base64 = npm_document("leaky", "1.3.0", other)
    not_base64["_attachments"]["leaky-1.3.0.tgz"]["data"] = "bm90IGJhc2U2N!=="
    cases = [
        ("republish", npm_document("leaky", "1.0.0", other), ctx["login"], 403),
        ("viewer", npm_document("leaky", "1.1.0", other), ctx["viewer"], 403),
        ("shasum", npm_document("leaky", "1.1.0", other, shasum="0" * 40), ctx["login"], 400),
        ("integrity", npm_document("leaky", "1.1.0", other, integrity="sha512-" + sha512), ctx["login"], 400),
        ("length", wrong_length, ctx["login"], 400),
        ("base64", not_base64, ctx["login"], 400),
    ]
    for label, doc, who, status in cases:
        with NothingLeft(srv):
            resp = requests.put(url, json=doc, auth=who, timeout=10)
            assert resp.status_code == status, (label, resp.status_code, resp.text[:300])
            assert "error" in resp.json(), label
    packument = requests.get(url, auth=ctx["login"], timeout=10).json()
    assert list(packument["versions"]) == ["1.0.0"]
    assert packument["versions"]["1.0.0"]["dist"]["shasum"] == hashlib.sha1(good).hexdigest()


@pytest.mark.parametrize("fmt", ["npm", "pypi", "cargo"])
def test_package_repositories_take_no_plain_file_uploads(srv, ctx, fmt):
    """Their files are described by metadata (an npm version's integrity, a wheel's digest, a crate's
    checksum): a plain PUT through /artifactory/{repo}/ would swap published bytes behind it."""
    if fmt == "npm":
        url = srv.url("/artifactory/api/npm/%s/swapped" % ctx["npm"])
        original = b"published tarball"
        assert requests.put(url, json=npm_document("swapped", "1.0.0", original), auth=ctx["login"],
                            timeout=10).status_code == 201
        target = srv.url("/artifactory/%s/swapped/-/swapped-1.0.0.tgz" % ctx["npm"])
    else:
        target = srv.url("/artifactory/%s/some/file.bin" % ctx[fmt])
    with NothingLeft(srv):
        resp = requests.put(target, data=b"other bytes", auth=ctx["login"], timeout=10)
        assert resp.status_code == 400, resp.text
        assert "/artifactory/api/%s/" % fmt in resp.json()["error_msg"]
    if fmt == "npm":
        served = requests.get(target, auth=ctx["login"], timeout=10)
        assert served.content == original
        dist = requests.get(url, auth=ctx["login"], timeout=10).json()["versions"]["1.0.0"]["dist"]
        assert dist["shasum"] == hashlib.sha1(original).hexdigest()
