"""Uploads as each package client sends them, over plain HTTP (faster than starting the clients, and the
same requests): a generic or Maven PUT, twine's legacy multipart upload, npm's publish document, cargo's
publish frame. Each writer has a reader answering what the server serves at that coordinate now, so
tests (test_races.py) and scripts/crash_test.py can compare served bytes with acknowledged ones.
"""

import base64
import hashlib
import io
import json
import struct
import zipfile

import requests

TIMEOUT = 60


def _url(base: str, path: str) -> str:
    return base.rstrip("/") + path


def put_file(base, repo, path, data: bytes, auth, session=requests) -> requests.Response:
    """PUT /artifactory/{repo}/{path}: generic files and Maven artifacts (as curl and mvn deploy)."""
    return session.put(_url(base, "/artifactory/%s/%s" % (repo, path)), data=data, auth=auth, timeout=TIMEOUT)


def served_file(base, repo, path, auth, session=requests):
    resp = session.get(_url(base, "/artifactory/%s/%s" % (repo, path)), auth=auth, timeout=TIMEOUT)
    return resp.content if resp.status_code == 200 else None


def wheel(name: str, version: str, summary: str, padding: bytes = b"") -> bytes:
    """A minimal wheel whose METADATA carries `summary` (so each uploader's METADATA differs too)."""
    module = name.replace("-", "_")
    dist_info = "%s-%s.dist-info" % (module, version)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("%s/__init__.py" % module, "VALUE = %r\n" % summary)
        z.writestr("%s/padding.bin" % module, padding)
        z.writestr("%s/METADATA" % dist_info, wheel_metadata(name, version, summary))
        z.writestr("%s/WHEEL" % dist_info, "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        z.writestr("%s/RECORD" % dist_info, "")
    return buf.getvalue()


def wheel_metadata(name: str, version: str, summary: str) -> str:
    return "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n" % (name, version, summary)


def wheel_name(name: str, version: str) -> str:
    return "%s-%s-py3-none-any.whl" % (name.replace("-", "_"), version)


def pypi_upload(base, repo, name, version, content: bytes, auth, session=requests) -> requests.Response:
    """twine's legacy upload of a wheel: one multipart POST with the digests twine sends."""
    form = {":action": "file_upload", "protocol_version": "1", "name": name, "version": version,
            "filetype": "bdist_wheel", "pyversion": "py3", "metadata_version": "2.1",
            "md5_digest": hashlib.md5(content).hexdigest(),
            "sha256_digest": hashlib.sha256(content).hexdigest(),
            "blake2_256_digest": hashlib.blake2b(content, digest_size=32).hexdigest()}
    return session.post(_url(base, "/artifactory/api/pypi/%s/" % repo), data=form,
                        files={"content": (wheel_name(name, version), content)}, auth=auth, timeout=TIMEOUT)


def served_pypi(base, repo, name, version, auth, session=requests):
    """(distribution bytes, its sha256 in the JSON simple index, its PEP 658 metadata), Nones when absent."""
    project = name.lower().replace("_", "-")
    path = "/artifactory/api/pypi/%s/packages/%s/%s/%s" % (repo, project, version, wheel_name(name, version))
    dist = session.get(_url(base, path), auth=auth, timeout=TIMEOUT)
    meta = session.get(_url(base, path + ".metadata"), auth=auth, timeout=TIMEOUT)
    index = session.get(_url(base, "/artifactory/api/pypi/%s/simple/%s/" % (repo, project)), auth=auth,
                        headers={"Accept": "application/vnd.pypi.simple.v1+json"}, timeout=TIMEOUT)
    listed = None
    if index.status_code == 200:
        listed = next((f["hashes"]["sha256"] for f in index.json()["files"]
                       if f["filename"] == wheel_name(name, version)), None)
    return (dist.content if dist.status_code == 200 else None, listed,
            meta.content if meta.status_code == 200 else None)


def npm_publish(base, repo, name, version, tarball: bytes, auth, session=requests) -> requests.Response:
    """npm publish: the document with the tarball base64-encoded in `_attachments` and its `dist`."""
    dist = {"shasum": hashlib.sha1(tarball).hexdigest(),
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()}
    doc = {"_id": name, "name": name, "dist-tags": {"latest": version},
           "versions": {version: {"name": name, "version": version, "dist": dist}},
           "_attachments": {"%s-%s.tgz" % (name, version): {
               "content_type": "application/octet-stream", "data": base64.b64encode(tarball).decode(),
               "length": len(tarball)}}}
    return session.put(_url(base, "/artifactory/api/npm/%s/%s" % (repo, name)), json=doc, auth=auth,
                       timeout=TIMEOUT)


def served_npm(base, repo, name, version, auth, session=requests):
    """(tarball bytes, the packument's dist.shasum of the version), Nones when absent."""
    packument = session.get(_url(base, "/artifactory/api/npm/%s/%s" % (repo, name)), auth=auth, timeout=TIMEOUT)
    if packument.status_code != 200 or version not in packument.json().get("versions", {}):
        return None, None
    shasum = packument.json()["versions"][version]["dist"]["shasum"]
    tgz = session.get(_url(base, "/artifactory/api/npm/%s/%s/-/%s-%s.tgz" % (repo, name, name, version)),
                      auth=auth, timeout=TIMEOUT)
    return (tgz.content if tgz.status_code == 200 else None), shasum


def cargo_publish(base, repo, name, vers, crate: bytes, auth, session=requests) -> requests.Response:
    """cargo publish: the frame of metadata JSON and .crate bytes, each after its little-endian length."""
    meta = json.dumps({"name": name, "vers": vers, "deps": [], "features": {}, "authors": [],
                       "description": "race", "license": "MIT"}).encode()
    frame = struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate)) + crate
    token = "Basic " + base64.b64encode(("%s:%s" % auth).encode()).decode()
    return session.put(_url(base, "/artifactory/api/cargo/%s/api/v1/crates/new" % repo), data=frame,
                       headers={"Authorization": token}, timeout=TIMEOUT)


def cargo_index_path(name: str) -> str:
    n = name.lower()
    if len(n) <= 2:
        return "%d/%s" % (len(n), n)
    if len(n) == 3:
        return "3/%s/%s" % (n[0], n)
    return "%s/%s/%s" % (n[:2], n[2:4], n)


def served_cargo(base, repo, name, vers, auth, session=requests):
    """(.crate bytes, the index line's cksum of the version), Nones when absent."""
    index = session.get(_url(base, "/artifactory/api/cargo/%s/index/%s" % (repo, cargo_index_path(name))),
                        auth=auth, timeout=TIMEOUT)
    cksum = None
    if index.status_code == 200:
        for line in index.text.splitlines():
            entry = json.loads(line)
            if entry["vers"] == vers:
                cksum = entry["cksum"]
    crate = session.get(_url(base, "/artifactory/api/cargo/%s/api/v1/crates/%s/%s/download" % (repo, name, vers)),
                        auth=auth, timeout=TIMEOUT)
    return (crate.content if crate.status_code == 200 else None), cksum
