"""SPEC §9 / issue 3: artifact paths that try to escape their repository are refused, and nothing is
written outside the repository. Requests go out over a raw socket so no client normalises the path."""

import base64
import os
import socket
from pathlib import Path

import pytest
import requests

MARKER = b"escaped-bytes-7f3a"


@pytest.fixture(scope="module")
def srv(module_arca):
    return module_arca


@pytest.fixture(scope="module")
def setup(srv):
    project = srv.create_project()
    repo = srv.create_repo(project, "generic")
    login = srv.repo_login()
    return repo, login


def raw_request(srv, method: str, target: bytes, login, body: bytes = b"") -> int:
    """Sends one HTTP/1.1 request with `target` byte for byte; answers the status code."""
    auth = base64.b64encode(("%s:%s" % login).encode())
    head = b"%s %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
        method.encode(), target, srv.host.encode(), auth, len(body))
    with socket.create_connection((srv.host.split(":")[0], int(srv.host.split(":")[1])), timeout=10) as s:
        s.sendall(head + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = s.recv(4096)
            if not chunk:
                break
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    return int(status_line.split()[1])


def attacks(repo: str):
    r = repo.encode()
    long_segment = b"a" * 300
    return [
        b"/artifactory/%s/../../../../tmp/pwned.txt" % r,
        b"/artifactory/%s/a/../../other/pwned.txt" % r,
        b"/artifactory/%s/%%2e%%2e/%%2e%%2e/pwned.txt" % r,
        b"/artifactory/%s/%%2E%%2E%%2F%%2E%%2E%%2Fpwned.txt" % r,
        b"/artifactory/%s/dir%%2f..%%2f..%%2fpwned.txt" % r,
        b"/artifactory/%s/dir%%2Fpwned.txt" % r,
        b"/artifactory/%s/..\\..\\pwned.txt" % r,
        b"/artifactory/%s/dir%%5c..%%5c..%%5cpwned.txt" % r,
        b"/artifactory/%s/pwned%%00.txt" % r,
        b"/artifactory/%s/./pwned.txt" % r,
        b"/artifactory/%s//pwned.txt" % r,
        b"/artifactory/%s/%%c0%%ae%%c0%%ae/pwned.txt" % r,
        b"/artifactory/%s/%s/pwned.txt" % (r, long_segment),
        b"/artifactory/%s/%s" % (r, b"/".join([b"d" * 200] * 8)),
        b"/artifactory/../%s/pwned.txt" % r,
        b"/artifactory/%%2e%%2e/pwned.txt",
        b"/artifactory/%s%%2f..%%2fpwned.txt" % r,
    ]


def snapshot_files(root: Path):
    return {p for p in root.rglob("*") if p.is_file()}


def test_escapes_are_refused_and_write_nothing(srv, setup, tmp_path):
    repo, login = setup
    data_dir = Path(srv.data_dir)
    workdir = data_dir.parent
    before = snapshot_files(workdir)
    for target in attacks(repo):
        for method in ("PUT", "GET", "DELETE"):
            status = raw_request(srv, method, target, login, MARKER if method == "PUT" else b"")
            assert status in (400, 404), (method, target, status)
    after = snapshot_files(workdir)
    created = {p for p in after - before if "blobs" not in p.parts and "tmp" not in p.parts}
    # The log file grows but is not new; anything else new would be a write outside the repository.
    assert created == set(), created
    for p in after:
        if p.suffix in (".txt", "") and p.is_file() and p.stat().st_size < 1_000_000:
            assert MARKER not in p.read_bytes() or "blobs" in p.parts, p
    # No blob holds the marker either: no attack was stored under some other path.
    assert not any(MARKER == p.read_bytes() for p in data_dir.rglob("*") if p.is_file() and "blobs" in p.parts)
    assert not (Path("/tmp") / "pwned.txt").exists()


def test_a_normal_neighbour_still_works(srv, setup):
    repo, login = setup
    assert raw_request(srv, "PUT", b"/artifactory/%s/ok/file.txt" % repo.encode(), login, b"fine") == 201
    assert requests.get(srv.url("/artifactory/%s/ok/file.txt" % repo), auth=login, timeout=10).content == b"fine"
    # Encoded unreserved characters decode to ordinary names.
    assert raw_request(srv, "PUT", b"/artifactory/%s/ok/a%%20b.txt" % repo.encode(), login, b"space") == 201
    assert requests.get(srv.url("/artifactory/%s/ok/a b.txt" % repo), auth=login, timeout=10).content == b"space"
