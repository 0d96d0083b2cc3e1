"""The artifacts every server is seeded with: the same bytes for each, from a fixed seed, so a row compares
the same work. Package payloads are built as their clients build them (tests/e2e/uploads.py)."""

import base64
import hashlib
import io
import json
import random
import struct
import tarfile

from uploads import cargo_index_path  # noqa: F401 (the rows' paths)

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
# The Maven artifact of many versions (issue 15: "maven-metadata of 1,000 versions").
MAVEN_MANY, MAVEN_MANY_VERSIONS = "bench-many", 1000
# The version of each format's package whose artifact is 1 MiB (the others' are 10 KiB).
BIG = "2.0.0"
VERSIONS = 100
MANY = 2000


def npm_tarball(name: str, version: str, payload: bytes = TEN_K) -> bytes:
    """A real .tgz of package/package.json and a 10 KiB file, as npm pack makes (Verdaccio reads nothing
    in it, arca neither, but a client could install it)."""
    return _tgz([("package/package.json", json.dumps({"name": name, "version": version}).encode()),
                 ("package/data.bin", payload)])


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


def crate_file(name: str, vers: str, payload: bytes = TEN_K) -> bytes:
    """A .crate as cargo package makes it (kellnr opens it to read the manifest), with a 10 KiB file."""
    manifest = ('[package]\nname = "%s"\nversion = "%s"\nedition = "2021"\ndescription = "bench"\n'
                'license = "MIT"\n' % (name, vers)).encode()
    root = "%s-%s/" % (name, vers)
    return _tgz([(root + "Cargo.toml", manifest), (root + "src/lib.rs", b""), (root + "data.bin", payload)])


def cargo_frame(name: str, vers: str, crate: bytes) -> bytes:
    meta = json.dumps({"name": name, "vers": vers, "deps": [], "features": {}, "authors": ["bench"],
                       "description": "bench", "license": "MIT"}).encode()
    return struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate)) + crate


def maven_pom(version: str, artifact: str = MAVEN_ARTIFACT) -> bytes:
    return ("<project><modelVersion>4.0.0</modelVersion><groupId>%s</groupId><artifactId>%s</artifactId>"
            "<version>%s</version></project>" % (MAVEN_GROUP.replace("/", "."), artifact, version)).encode()


def maven_metadata(versions) -> bytes:
    """maven-metadata.xml as `mvn deploy` uploads it (for servers that store it rather than build it)."""
    items = "".join("<version>%s</version>" % v for v in versions)
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><metadata><groupId>%s</groupId><artifactId>%s"
            "</artifactId><versioning><latest>%s</latest><release>%s</release><versions>%s</versions>"
            "</versioning></metadata>" % (MAVEN_GROUP.replace("/", "."), MAVEN_ARTIFACT, versions[-1],
                                          versions[-1], items)).encode()


def version(i: int) -> str:
    return "1.0.%d" % i


# Seeding, the same for every server that takes the format; `url(name)` is where a package's document goes.

def publish_npm(session, url, tarball_url, many: int):
    """npm publish of `VERSIONS` versions of NPM_NAME and `many` of NPM_MANY, one version per request, then
    NPM_NAME@BIG with a 1 MiB file."""
    for name, count in ((NPM_NAME, VERSIONS), (NPM_MANY, many)):
        for i in range(count):
            v = version(i)
            tgz = npm_tarball(name, v)
            r = session.put(url(name), json=npm_document(name, v, tgz, tarball_url(name, v)), timeout=120)
            assert r.status_code in (200, 201), r.text
    tgz = npm_tarball(NPM_NAME, BIG, ONE_M)
    r = session.put(url(NPM_NAME), json=npm_document(NPM_NAME, BIG, tgz, tarball_url(NPM_NAME, BIG)), timeout=120)
    assert r.status_code in (200, 201), r.text


def publish_pypi(session, upload_url: str):
    """twine upload of `VERSIONS` sdists of PYPI_NAME of 10 KiB, and one of 1 MiB (version BIG)."""
    for v, content in [(version(i), TEN_K) for i in range(VERSIONS)] + [(BIG, ONE_M)]:
        r = session.post(upload_url, data=pypi_form(PYPI_NAME, v, content),
                         files={"content": (pypi_filename(PYPI_NAME, v), content)}, timeout=60)
        assert r.status_code in (200, 201), r.text


def publish_cargo(session, new_url: str):
    """cargo publish of `VERSIONS` versions of CARGO_NAME of 10 KiB, and one of 1 MiB (version BIG)."""
    for v, payload in [(version(i), TEN_K) for i in range(VERSIONS)] + [(BIG, ONE_M)]:
        r = session.put(new_url, data=cargo_frame(CARGO_NAME, v, crate_file(CARGO_NAME, v, payload)), timeout=60)
        assert r.status_code == 200, r.text


def publish_maven_big(session, artifact_url: str):
    """The POM and a 1 MiB jar of MAVEN_ARTIFACT@BIG; `artifact_url` ends with the artifact's folder."""
    for suffix, data in ((".pom", maven_pom(BIG)), (".jar", ONE_M)):
        r = session.put(artifact_url + "%s/%s-%s%s" % (BIG, MAVEN_ARTIFACT, BIG, suffix), data=data, timeout=60)
        assert r.status_code in (200, 201), r.text


def first_file_link(session, page_url: str, version_: str = None) -> str:
    """The URL of the first file a PEP 503 simple page links to (of `version_`, when given)."""
    from urllib.parse import urljoin
    page = session.get(page_url, headers={"Accept": "text/html"}, timeout=60)
    links = [part.split('"', 1)[0].split("#", 1)[0] for part in page.text.split('href="')[1:]]
    if version_:
        from urllib.parse import unquote
        links = [link for link in links if unquote(link).endswith("/" + pypi_filename(PYPI_NAME, version_))]
    return urljoin(page.url, links[0])
