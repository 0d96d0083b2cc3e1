"""The artifacts every server is seeded with: the same bytes for each, from a fixed seed, so a row compares
the same work. Package payloads are built as their clients build them (tests/e2e/uploads.py)."""

import base64
import hashlib
import io
import json
import random
import struct
import tarfile

KIB = 1024
MIB = 1024 * KIB

_rng = random.Random(15)
TEN_K = _rng.randbytes(10 * KIB)
ONE_M = _rng.randbytes(MIB)

# Names every server uses; `VERSIONS` versions of each package, and one npm package of `MANY` versions.
NPM_NAME = "bench-pkg"
NPM_MANY = "bench-many"
PYPI_NAME = "bench-pkg"
CARGO_NAME = "bench-pkg"
MAVEN_GROUP, MAVEN_ARTIFACT = "com/acme", "bench-pkg"
VERSIONS = 100
MANY = 2000


def npm_tarball(name: str, version: str) -> bytes:
    """A real .tgz of package/package.json and a 10 KiB file, as npm pack makes (Verdaccio reads nothing
    in it, arca neither, but a client could install it)."""
    return _tgz([("package/package.json", json.dumps({"name": name, "version": version}).encode()),
                 ("package/data.bin", TEN_K)])


def npm_document(name: str, version: str, tarball: bytes, tarball_url: str) -> dict:
    dist = {"shasum": hashlib.sha1(tarball).hexdigest(), "tarball": tarball_url,
            "integrity": "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()}
    return {"_id": name, "name": name, "dist-tags": {"latest": version},
            "versions": {version: {"name": name, "version": version, "description": "bench",
                                   "dependencies": {"left-pad": "^1.0.0"}, "dist": dist}},
            "_attachments": {"%s-%s.tgz" % (name, version): {
                "content_type": "application/octet-stream", "data": base64.b64encode(tarball).decode(),
                "length": len(tarball)}}}


def pypi_form(name: str, version: str, content: bytes) -> dict:
    """twine's legacy upload fields for an sdist."""
    return {":action": "file_upload", "protocol_version": "1", "name": name, "version": version,
            "filetype": "sdist", "pyversion": "source", "metadata_version": "2.1",
            "md5_digest": hashlib.md5(content).hexdigest(),
            "sha256_digest": hashlib.sha256(content).hexdigest()}


def pypi_filename(name: str, version: str) -> str:
    return "%s-%s.tar.gz" % (name.replace("-", "_"), version)


def _tgz(files) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=1) as tar:
        for path, data in files:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def crate_file(name: str, vers: str) -> bytes:
    """A .crate as cargo package makes it (kellnr opens it to read the manifest), with a 10 KiB file."""
    manifest = ('[package]\nname = "%s"\nversion = "%s"\nedition = "2021"\ndescription = "bench"\n'
                'license = "MIT"\n' % (name, vers)).encode()
    root = "%s-%s/" % (name, vers)
    return _tgz([(root + "Cargo.toml", manifest), (root + "src/lib.rs", b""), (root + "data.bin", TEN_K)])


def cargo_frame(name: str, vers: str, crate: bytes) -> bytes:
    meta = json.dumps({"name": name, "vers": vers, "deps": [], "features": {}, "authors": ["bench"],
                       "description": "bench", "license": "MIT"}).encode()
    return struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate)) + crate


def cargo_index_path(name: str) -> str:
    n = name.lower()
    if len(n) <= 2:
        return "%d/%s" % (len(n), n)
    if len(n) == 3:
        return "3/%s/%s" % (n[0], n)
    return "%s/%s/%s" % (n[:2], n[2:4], n)


def maven_pom(version: str) -> bytes:
    return ("<project><modelVersion>4.0.0</modelVersion><groupId>%s</groupId><artifactId>%s</artifactId>"
            "<version>%s</version></project>" % (MAVEN_GROUP.replace("/", "."), MAVEN_ARTIFACT, version)).encode()


def maven_metadata(versions) -> bytes:
    """maven-metadata.xml as `mvn deploy` uploads it (for servers that store it rather than build it)."""
    items = "".join("<version>%s</version>" % v for v in versions)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><metadata><groupId>%s</groupId><artifactId>%s"
            "</artifactId><versioning><latest>%s</latest><release>%s</release><versions>%s</versions>"
            "</versioning></metadata>" % (MAVEN_GROUP.replace("/", "."), MAVEN_ARTIFACT, versions[-1],
                                          versions[-1], items)).encode()


def version(i: int) -> str:
    return "1.0.%d" % i
