"""Issue 3 §9: path attacks on the package protocols, sent over raw sockets so that no client library
normalises the request target. Every attack is refused (400 or 404, never 2xx) for PUT, GET and DELETE with
valid credentials, and afterwards nothing was written anywhere but the blob store and the database: no file
named after the attack exists anywhere, no new file exists outside `data/blobs`, `data/tmp` and the
database's own files, no stored blob holds an attack body, and the repository lists only the legitimate
uploads."""

import base64
import hashlib
import os
import socket
from pathlib import Path

import pytest
import requests

from harness import unique

# The stored files a server may create or change while running (the database and its journal, the log).
DB_FILES = {"arca.db", "arca.db-wal", "arca.db-shm", "arca.db-journal"}


@pytest.fixture(scope="module")
def target(srv):
    """A generic repository and a Maven release repository of a fresh project, root's repo login, and the
    marker that names every attack's target file."""
    project = srv.create_project()
    made = {
        "project": project,
        "generic": srv.create_repo(project, "generic"),
        "maven": srv.create_maven_repo(project)["release"],
        "pypi": srv.create_repo(project, "pypi"),
        "login": srv.repo_login(),
        "marker": unique("pwned"),
    }
    resp = requests.put(srv.url("/artifactory/%s/victim.txt" % made["maven"]), data=b"victim", auth=made["login"],
                        timeout=10)
    assert resp.status_code == 201, resp.text
    return made


def raw_request(srv, method: str, request_target: bytes, auth, body: bytes = b"",
                content_type: bytes = b"application/octet-stream") -> int:
    """One HTTP/1.1 request with the target exactly as given; answers the status code (0 if the server
    closed the connection without answering)."""
    host, port = srv.host.split(":")
    head = b"%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n" % (method.encode(), request_target,
                                                                       srv.host.encode())
    if auth:
        head += b"Authorization: Basic %s\r\n" % base64.b64encode(("%s:%s" % auth).encode())
    if method in ("PUT", "POST"):
        head += b"Content-Length: %d\r\nContent-Type: %s\r\n" % (len(body), content_type)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(head + b"\r\n" + (body if method in ("PUT", "POST") else b""))
        answer = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            answer += chunk
    if not answer:
        return 0
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 "), answer[:200]
    return int(status_line.split(b" ")[1])


def attacks(repo: str, marker: str):
    """(label, request target) pairs; each aims at a file named `marker` outside the repository."""
    r, m = repo.encode(), marker.encode()
    seg255 = b"a" * 255
    return [
        ("dotdot", b"/artifactory/%s/../../../../%s" % (r, m)),
        ("dotdot-deep", b"/artifactory/%s/a/b/../../../../../../../../tmp/%s" % (r, m)),
        ("dotdot-repo", b"/artifactory/../%s" % m),
        ("dot", b"/artifactory/%s/./%s" % (r, m)),
        ("empty-segment", b"/artifactory/%s//%s" % (r, m)),
        ("enc-dotdot", b"/artifactory/%s/%%2e%%2e/%%2e%%2e/%s" % (r, m)),
        ("enc-dotdot-upper", b"/artifactory/%s/%%2E%%2E/%%2E%%2E/%s" % (r, m)),
        ("half-enc-dotdot", b"/artifactory/%s/.%%2e/%%2e./%s" % (r, m)),
        ("enc-dotdot-slash", b"/artifactory/%s/%%2E%%2E%%2F%%2E%%2E%%2F%s" % (r, m)),
        ("enc-slash", b"/artifactory/%s/..%%2f..%%2f..%%2f%s" % (r, m)),
        ("enc-absolute", b"/artifactory/%s/%%2ftmp%%2f%s" % (r, m)),
        ("enc-repo-slash", b"/artifactory/%s%%2f..%%2f..%%2f%s" % (r, m)),
        ("enc-repo-dotdot", b"/artifactory/%%2e%%2e/%s" % m),
        ("backslash", b"/artifactory/%s/..\\..\\..\\%s" % (r, m)),
        ("enc-backslash", b"/artifactory/%s/..%%5c..%%5c..%%5c%s" % (r, m)),
        ("enc-backslash-upper", b"/artifactory/%s/..%%5C..%%5C%s" % (r, m)),
        ("enc-nul", b"/artifactory/%s/%s%%00.txt" % (r, m)),
        ("raw-nul", b"/artifactory/%s/%s\x00.txt" % (r, m)),
        ("enc-newline", b"/artifactory/%s/%s%%0a.txt" % (r, m)),
        ("overlong-utf8-dot", b"/artifactory/%s/%%c0%%ae%%c0%%ae/%s" % (r, m)),
        ("bad-utf8", b"/artifactory/%s/%%ff%%fe/%s" % (r, m)),
        ("segment-256", b"/artifactory/%s/%s/%s" % (r, seg255 + b"a", m)),
        ("path-over-1024", b"/artifactory/%s/%s/%s" % (r, b"/".join([seg255] * 4), m)),
        ("path-10k", b"/artifactory/%s/%s/%s" % (r, b"/".join([b"b" * 200] * 50), m)),
    ]


def attack_ids():
    return [label for label, _ in attacks("r", "m")]


def snapshot_files(root: Path) -> dict:
    files = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            p = Path(dirpath) / name
            files[p] = p.stat().st_size
    return files


@pytest.fixture(scope="module")
def before(srv, target):
    """The server's working directory (data dir, log) as it was before any attack."""
    return snapshot_files(srv.data_dir.parent)


@pytest.mark.parametrize("kind", ["generic", "maven"])
@pytest.mark.parametrize("label", attack_ids())
def test_attack_is_refused(srv, target, before, kind, label):
    request_target = dict(attacks(target[kind], target["marker"]))[label]
    body = b"ATTACK " + target["marker"].encode()
    for method in ("PUT", "GET", "DELETE"):
        status = raw_request(srv, method, request_target, target["login"], body)
        assert status in (400, 404), "%s %r answered %d" % (method, request_target[:120], status)


def pypi_attacks(repo: str, marker: str):
    r, m = repo.encode(), marker.encode()
    base = b"/artifactory/api/pypi/"
    return [
        ("dotdot", base + b"%s/simple/../../../%s/" % (r, m)),
        ("dotdot-packages", base + b"%s/packages/../../../%s" % (r, m)),
        ("enc-dotdot", base + b"%s/packages/%%2e%%2e/%%2e%%2e/%s" % (r, m)),
        ("enc-slash-dotdot", base + b"%s/packages/a%%2f..%%2f..%%2f%s/1.0/f.whl" % (r, m)),
        ("enc-backslash", base + b"%s/packages/a%%5c..%%5c%s/1.0/f.whl" % (r, m)),
        ("enc-nul", base + b"%s/packages/a/1.0/%s%%00.whl" % (r, m)),
        ("repo-dotdot", base + b"..%%2f%s/simple/" % r),
        ("enc-repo-dotdot", base + b"%%2e%%2e/simple/"),
        ("bad-utf8", base + b"%s/simple/%%ff/" % r),
    ]


@pytest.mark.parametrize("label", [label for label, _ in pypi_attacks("r", "m")])
def test_pypi_path_attack_is_refused(srv, target, before, label):
    request_target = dict(pypi_attacks(target["pypi"], target["marker"]))[label]
    for method in ("GET", "POST"):
        status = raw_request(srv, method, request_target, target["login"], b"ATTACK " + target["marker"].encode())
        assert status in (400, 404), "%s %r answered %d" % (method, request_target[:120], status)


def twine_form(filename: bytes, content: bytes):
    """A twine-style legacy upload of an sdist named `filename` (built by hand: no client rewrites it)."""
    boundary = b"arca-e2e-boundary"
    fields = [(b":action", b"file_upload"), (b"name", b"evil"), (b"version", b"1.0"), (b"filetype", b"sdist"),
              (b"sha256_digest", hashlib.sha256(content).hexdigest().encode())]
    body = b"".join(b"--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k, v)
                    for k, v in fields)
    body += (b"--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"%s\"\r\n"
             b"Content-Type: application/octet-stream\r\n\r\n%s\r\n--%s--\r\n" % (boundary, filename, content,
                                                                                boundary))
    return body, b"multipart/form-data; boundary=" + boundary


@pytest.mark.parametrize("filename", [b"../../evil-1.0.tar.gz", b"..\\..\\evil-1.0.tar.gz", b"/tmp/evil-1.0.tar.gz",
                                      b"packages/../../evil-1.0.tar.gz", b"evil-1.0.tar.gz\x00.whl",
                                      b"..%2f..%2fevil-1.0.tar.gz", b"." * 300 + b"evil-1.0.tar.gz"],
                         ids=["dotdot", "backslash", "absolute", "nested-dotdot", "nul", "enc-slash", "long"])
def test_pypi_upload_file_name_attack_is_refused(srv, target, before, filename):
    body, content_type = twine_form(filename, b"ATTACK " + target["marker"].encode())
    status = raw_request(srv, "POST", b"/artifactory/api/pypi/%s/" % target["pypi"].encode(), target["login"], body,
                         content_type)
    assert status in (400, 404), (filename, status)


def test_the_raw_client_can_succeed(srv, target):
    """The same client, with a well-formed target of maximal segment length, stores and reads a file: the
    refusals above are the server's, not the client's."""
    name = "ok/" + "c" * 255
    target_path = b"/artifactory/%s/%s" % (target["generic"].encode(), name.encode())
    assert raw_request(srv, "PUT", target_path, target["login"], b"legitimate") == 201
    assert raw_request(srv, "GET", target_path, target["login"]) == 200
    # Encoded unreserved characters decode to ordinary names.
    assert raw_request(srv, "PUT", b"/artifactory/%s/ok/a%%20b.txt" % target["generic"].encode(), target["login"],
                       b"space") == 201
    assert requests.get(srv.url("/artifactory/%s/ok/a b.txt" % target["generic"]), auth=target["login"],
                        timeout=10).content == b"space"
    # The same hand-built twine upload with an ordinary file name is accepted.
    body, content_type = twine_form(b"evil-1.0.tar.gz", b"legitimate sdist")
    assert raw_request(srv, "POST", b"/artifactory/api/pypi/%s/" % target["pypi"].encode(), target["login"], body,
                       content_type) in (200, 201)
    # A double-encoded dot-dot is a literal file name inside the repository, not a traversal.
    literal = b"/artifactory/%s/%%252e%%252e/legit.txt" % target["generic"].encode()
    assert raw_request(srv, "PUT", literal, target["login"], b"literal") == 201
    assert raw_request(srv, "GET", literal, target["login"]) == 200


@pytest.mark.parametrize("bad", ["/../../etc", "../x", "a/../../b", "a\\..\\b", "a/\x00b", "a//b", "./a",
                                 "c" * 256])
def test_management_file_paths_are_refused(srv, target, bad):
    """The management API's file paths (file tree, file details, delete to the recycle bin) go through the
    same rules: 400, and the file one level up in another repository stays."""
    repo = target["generic"]
    base = "/cloudartifact/v5/%s/%s/%s" % (srv.domain_id, target["project"], repo)
    for what in ("file-tree", "file-detail"):
        resp = srv.signed("GET", base + "/" + what, query={"path": bad})
        assert resp.status_code == 400, (what, resp.status_code, resp.text[:300])
    resp = srv.signed("DELETE", "/cloudartifact/v5/file", body={"path": "/%s/%s" % (repo, bad)})
    assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    victim = srv.url("/artifactory/%s/victim.txt" % target["maven"])
    sibling = "/%s/../%s/victim.txt" % (repo, target["maven"])
    resp = srv.signed("DELETE", "/cloudartifact/v5/file", body={"path": sibling})
    assert resp.status_code == 400, (resp.status_code, resp.text[:300])
    assert requests.get(victim, auth=target["login"], timeout=10).content == b"victim"


def test_nothing_escaped(srv, target, before):
    """Runs after the attacks (file order): only the blob store and the database changed."""
    marker = target["marker"]
    root = srv.data_dir.parent
    # No file named after the attack, anywhere the attacks aimed.
    for place in (root, srv.data_dir, Path("/tmp"), Path("/"), root.parent):
        for hit in place.glob(marker + "*"):
            pytest.fail("an attack created %s" % hit)
    after = snapshot_files(root)
    for path in after:
        if marker in str(path):
            pytest.fail("an attack created %s" % path)
        rel = path.relative_to(srv.data_dir) if srv.data_dir in path.parents else None
        if path in before or path == srv.log_path:
            continue
        assert rel is not None and (rel.parts[0] in ("blobs", "tmp") or str(rel) in DB_FILES), \
            "a file appeared outside the blob store: %s" % path
    # No stored blob holds an attack body.
    attack_body = b"ATTACK " + marker.encode()
    for path in after:
        if "blobs" in path.parts and path.stat().st_size == len(attack_body):
            assert path.read_bytes() != attack_body, "an attack body was stored as %s" % path
    # The repositories list only the legitimate uploads.
    for kind in ("generic", "maven"):
        listing = requests.get(srv.url("/artifactory/%s/" % target[kind]), auth=target["login"],
                               headers={"Accept": "application/json"}, timeout=10)
        assert listing.status_code == 200, listing.text
        names = sorted(c["name"] for c in listing.json()["children"])
        assert names == (["%2e%2e", "ok"] if kind == "generic" else ["victim.txt"]), names
