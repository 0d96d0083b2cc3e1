"""Issue 15: generated metadata documents (npm packuments, PyPI simple pages, Cargo index files,
maven-metadata.xml) are kept once built and served with strong entity tags, 304 on If-None-Match, and gzip
or brotli as the client accepts; a change by any path (a publish, a yank, a file trashed or restored through
the CodeArts API) is visible to the very next read, never a kept document from before it."""

import gzip
import hashlib
import threading

import brotli
import requests
from huaweicloudsdkcodeartsartifact.v2 import BatchRestoreRepoRequest, IDETrashArtifactModel

from harness import unique
from uploads import cargo_index_path, cargo_publish, npm_publish, pypi_upload, put_file, wheel, wheel_name

ABBREVIATED = "application/vnd.npm.install-v1+json"
PEP691 = "application/vnd.pypi.simple.v1+json"


def raw_get(url, auth, **headers):
    """A GET whose body is left as sent (requests would undo gzip itself)."""
    resp = requests.get(url, auth=auth, headers=headers, stream=True, timeout=30)
    body = resp.raw.read(decode_content=False)
    return resp, body


def check_document(url, auth, accept=None):
    """The document's tag and plain bytes, after checking every coding and the 304 answers."""
    extra = {"Accept": accept} if accept else {}
    plain_resp, plain = raw_get(url, auth, **{"Accept-Encoding": "identity"}, **extra)
    assert plain_resp.status_code == 200, plain
    assert "Content-Encoding" not in plain_resp.headers
    tag = plain_resp.headers["ETag"]
    assert tag == '"%s"' % hashlib.sha256(plain).hexdigest()
    assert "Accept-Encoding" in plain_resp.headers["Vary"]
    assert int(plain_resp.headers["Content-Length"]) == len(plain)

    gz_resp, gz = raw_get(url, auth, **{"Accept-Encoding": "gzip"}, **extra)
    br_resp, br = raw_get(url, auth, **{"Accept-Encoding": "gzip, deflate, br"}, **extra)
    if len(plain) >= 512:
        assert gz_resp.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz) == plain
        assert br_resp.headers["Content-Encoding"] == "br" and brotli.decompress(br) == plain
        assert len(br) < len(plain) and len(gz) < len(plain)
        assert len({tag, gz_resp.headers["ETag"], br_resp.headers["ETag"]}) == 3
    # Any coding's tag revalidates: the content is the same.
    for known in (tag, gz_resp.headers["ETag"], br_resp.headers["ETag"]):
        again = requests.get(url, auth=auth, headers={"If-None-Match": known, **extra}, timeout=30)
        assert again.status_code == 304 and again.content == b""
    assert requests.get(url, auth=auth, headers={"If-None-Match": '"stale"', **extra},
                        timeout=30).status_code == 200
    head = requests.head(url, auth=auth, headers={"Accept-Encoding": "identity", **extra}, timeout=30)
    assert head.status_code == 200 and head.headers["ETag"] == tag
    return tag, plain


def test_npm_packuments(srv, project, login):
    repo = srv.create_repo(project, "npm")
    name = unique("docs").replace("_", "-")
    url = srv.url("/artifactory/api/npm/%s/%s" % (repo, name))
    assert npm_publish(srv.base_url, repo, name, "1.0.0", b"one" * 400, login).status_code == 201
    full_tag, full = check_document(url, login)
    short_tag, short = check_document(url, login, accept=ABBREVIATED)
    assert full_tag != short_tag and len(short) < len(full)

    assert npm_publish(srv.base_url, repo, name, "1.0.1", b"two" * 400, login).status_code == 201
    # The kept documents are not served once the package has changed, in either form.
    for accept, old in ((None, full_tag), (ABBREVIATED, short_tag)):
        resp = requests.get(url, auth=login, headers={"If-None-Match": old, "Accept": accept or "*/*"},
                            timeout=30)
        assert resp.status_code == 200 and "1.0.1" in resp.json()["versions"]

    # A tarball trashed through the CodeArts API takes its version out; restoring brings it back.
    resp = srv.signed("DELETE", "/cloudartifact/v5/file",
                      body={"path": "/%s/%s/-/%s-1.0.1.tgz" % (repo, name, name)})
    assert resp.status_code == 200, resp.text
    assert list(requests.get(url, auth=login, timeout=30).json()["versions"]) == ["1.0.0"]
    srv.artifact_client().batch_restore_repo(BatchRestoreRepoRequest(body=[IDETrashArtifactModel(
        id=repo, uri="/%s/-/%s-1.0.1.tgz" % (name, name))]))
    assert sorted(requests.get(url, auth=login, timeout=30).json()["versions"]) == ["1.0.0", "1.0.1"]


def test_pypi_pages(srv, project, login):
    repo = srv.create_repo(project, "pypi")
    name = unique("docs").replace("_", "-")
    page = srv.url("/artifactory/api/pypi/%s/simple/%s/" % (repo, name))
    root = srv.url("/artifactory/api/pypi/%s/simple/" % repo)
    assert pypi_upload(srv.base_url, repo, name, "1.0", wheel(name, "1.0", "first"), login).status_code == 200
    html_tag, html = check_document(page, login)
    json_tag, _ = check_document(page, login, accept=PEP691)
    root_tag, _ = check_document(root, login)
    assert html_tag != json_tag and wheel_name(name, "1.0").encode() in html

    assert pypi_upload(srv.base_url, repo, name, "2.0", wheel(name, "2.0", "second"), login).status_code == 200
    resp = requests.get(page, auth=login, headers={"If-None-Match": html_tag}, timeout=30)
    assert resp.status_code == 200 and wheel_name(name, "2.0") in resp.text
    other = unique("other").replace("_", "-")
    assert pypi_upload(srv.base_url, repo, other, "1.0", wheel(other, "1.0", "x"), login).status_code == 200
    resp = requests.get(root, auth=login, headers={"If-None-Match": root_tag}, timeout=30)
    assert resp.status_code == 200 and other in resp.text

    # A yank is a change of the page.
    yank = requests.post(srv.url("/artifactory/api/pypi/%s/yank" % repo), auth=login, timeout=30,
                         data={"project": name, "version": "2.0", "reason": "bad"})
    assert yank.status_code == 200, yank.text
    files = requests.get(page, auth=login, headers={"Accept": PEP691}, timeout=30).json()["files"]
    assert [f.get("yanked") for f in files if "2.0" in f["filename"]] == ["bad"]


def test_cargo_index_files(srv, project, login):
    repo = srv.create_repo(project, "cargo")
    name = unique("docs").replace("-", "_")
    url = srv.url("/artifactory/api/cargo/%s/index/%s" % (repo, cargo_index_path(name)))
    assert cargo_publish(srv.base_url, repo, name, "1.0.0", b"crate one", login).status_code == 200
    tag, body = check_document(url, login)
    assert b'"vers":"1.0.0"' in body
    assert cargo_publish(srv.base_url, repo, name, "1.0.1", b"crate two", login).status_code == 200
    resp = requests.get(url, auth=login, headers={"If-None-Match": tag}, timeout=30)
    assert resp.status_code == 200 and '"vers":"1.0.1"' in resp.text

    yank = requests.delete(srv.url("/artifactory/api/cargo/%s/api/v1/crates/%s/1.0.1/yank" % (repo, name)),
                           auth=login, timeout=30)
    assert yank.status_code == 200, yank.text
    lines = requests.get(url, auth=login, timeout=30).text.splitlines()
    assert '"yanked":true' in lines[-1]


def test_maven_metadata_and_its_checksums(srv, project, login):
    release = srv.create_maven_repo(project)["release"]
    group = "org/%s" % unique("docs").replace("-", "")
    meta_url = srv.url("/artifactory/%s/%s/lib/maven-metadata.xml" % (release, group))
    for version in ("1.0", "1.1"):
        path = "%s/lib/%s/lib-%s.jar" % (group, version, version)
        assert put_file(srv.base_url, release, path, b"jar " * 300, login).status_code in (200, 201)
        if version == "1.0":
            tag, xml = check_document(meta_url, login)
            assert b"<version>1.0</version>" in xml and b"1.1" not in xml
            sha1 = requests.get(meta_url + ".sha1", auth=login, timeout=30).text
            assert sha1 == hashlib.sha1(xml).hexdigest()
    resp = requests.get(meta_url, auth=login, headers={"If-None-Match": tag}, timeout=30)
    assert resp.status_code == 200 and "<version>1.1</version>" in resp.text
    assert requests.get(meta_url + ".sha1", auth=login, timeout=30).text == hashlib.sha1(resp.content).hexdigest()


def test_a_read_after_an_acknowledged_publish_sees_it_under_concurrent_reads(srv, project, login):
    """Readers keep the packument hot while versions are published; each read after a publish was
    acknowledged must list it."""
    repo = srv.create_repo(project, "npm")
    name = unique("hot").replace("_", "-")
    url = srv.url("/artifactory/api/npm/%s/%s" % (repo, name))
    assert npm_publish(srv.base_url, repo, name, "0.0.0", b"zero", login).status_code == 201
    stop = threading.Event()
    failures = []

    def reader():
        session = requests.Session()
        while not stop.is_set():
            resp = session.get(url, auth=login, headers={"Accept": ABBREVIATED}, timeout=30)
            if resp.status_code != 200:
                failures.append(resp.status_code)

    readers = [threading.Thread(target=reader) for _ in range(4)]
    for t in readers:
        t.start()
    try:
        for i in range(1, 25):
            version = "0.0.%d" % i
            assert npm_publish(srv.base_url, repo, name, version, b"v%d" % i, login).status_code == 201
            for accept in (ABBREVIATED, "application/json"):
                seen = requests.get(url, auth=login, headers={"Accept": accept}, timeout=30).json()
                assert version in seen["versions"], (accept, version)
                assert seen["dist-tags"]["latest"] == version
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert failures == []
