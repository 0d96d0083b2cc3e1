"""Issue 15: the PyPI JSON API of hosted repositories (`/pypi/{project}/json`, `/pypi/{project}/{version}/json`,
warehouse's shape) after uploads with the real twine: files, digests, sizes, requires-python, yanking, a
version's document, the documents cache's ETag/304 and compression, JSON errors, and the simple page's read
rules (Viewer, anonymous, another account's caller)."""

import hashlib

import requests
from huaweicloudsdkcodeartsartifact.v2 import UpdateArtifactoryRequest, UpdateNotMavenRepoDO

from harness import ROLE_VIEWER
from test_pypi import make_sdist, make_wheel, twine_upload


def api(srv, repo, *parts):
    return srv.url("/artifactory/api/pypi/%s/pypi/%s/json" % (repo, "/".join(parts)))


def test_json_api_describes_the_uploaded_files(srv, project, login, tmp_path):
    repo = srv.create_repo(project, "pypi")
    wheel = make_wheel(tmp_path, "Json_Demo", "1.0", "VERSION = '1.0'\n", requires_python=">=3.8")
    sdist = make_sdist(tmp_path, "json-demo", "2.0", "VERSION = '2.0'\n")
    out = twine_upload(srv, repo, login, wheel, sdist)
    assert out.returncode == 0, out.stdout + out.stderr

    resp = requests.get(api(srv, repo, "Json.Demo"), auth=login, timeout=10)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    doc = resp.json()
    assert doc["info"]["version"] == "2.0"
    assert doc["info"]["name"] in ("Json_Demo", "json-demo")
    assert doc["info"]["release_url"].endswith("/pypi/json-demo/2.0/")
    assert isinstance(doc["last_serial"], int)
    assert sorted(doc["releases"]) == ["1.0", "2.0"]
    for version, path, kind in (("1.0", wheel, "bdist_wheel"), ("2.0", sdist, "sdist")):
        [entry] = doc["releases"][version]
        data = path.read_bytes()
        assert entry["filename"] == path.name
        assert entry["packagetype"] == kind
        assert entry["size"] == len(data)
        assert entry["digests"] == {"md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}
        assert entry["yanked"] is False and entry["yanked_reason"] is None
        assert entry["upload_time_iso_8601"].endswith("Z")
        # The URL downloads the very file.
        assert requests.get(entry["url"], auth=login, timeout=10).content == data
    assert doc["releases"]["1.0"][0]["requires_python"] == ">=3.8"
    assert [u["filename"] for u in doc["urls"]] == [sdist.name]

    # A version's document: that version's files, no releases.
    one = requests.get(api(srv, repo, "json-demo", "1.0"), auth=login, timeout=10).json()
    assert one["info"]["version"] == "1.0" and one["info"]["requires_python"] == ">=3.8"
    assert [u["filename"] for u in one["urls"]] == [wheel.name] and "releases" not in one

    # Unknown projects and versions: 404 in JSON.
    for url in (api(srv, repo, "no-such-project"), api(srv, repo, "json-demo", "9.9")):
        missing = requests.get(url, auth=login, timeout=10)
        assert missing.status_code == 404 and "message" in missing.json()

    # Yanking shows, in the project's and the version's documents (the kept documents are rebuilt).
    resp = requests.post(srv.url("/artifactory/api/pypi/%s/yank" % repo), auth=login, timeout=10,
                         data={"project": "json-demo", "version": "1.0", "reason": "broken build"})
    assert resp.status_code == 200, resp.text
    doc = requests.get(api(srv, repo, "json-demo"), auth=login, timeout=10).json()
    assert doc["releases"]["1.0"][0]["yanked"] is True
    assert doc["releases"]["1.0"][0]["yanked_reason"] == "broken build"
    one = requests.get(api(srv, repo, "json-demo", "1.0"), auth=login, timeout=10).json()
    assert one["info"]["yanked"] is True and one["info"]["yanked_reason"] == "broken build"

    # A new upload is in the next answer.
    out = twine_upload(srv, repo, login, make_wheel(tmp_path, "json-demo", "3.0", ""))
    assert out.returncode == 0, out.stdout + out.stderr
    doc = requests.get(api(srv, repo, "json-demo"), auth=login, timeout=10).json()
    assert doc["info"]["version"] == "3.0" and "3.0" in doc["releases"]


def test_json_api_is_a_kept_document(srv, project, login, tmp_path):
    repo = srv.create_repo(project, "pypi")
    out = twine_upload(srv, repo, login, make_wheel(tmp_path, "kept-doc", "1.0", "X = 1\n" * 400))
    assert out.returncode == 0, out.stdout + out.stderr
    url = api(srv, repo, "kept-doc")
    first = requests.get(url, auth=login, headers={"Accept-Encoding": "identity"}, timeout=10)
    etag = first.headers["ETag"]
    assert first.headers.get("Last-Modified")
    again = requests.get(url, auth=login, headers={"If-None-Match": etag, "Accept-Encoding": "identity"},
                         timeout=10)
    assert again.status_code == 304 and again.content == b""
    gz = requests.get(url, auth=login, headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True)
    assert gz.status_code == 200
    if gz.headers.get("Content-Encoding") == "gzip":
        assert gz.headers["ETag"] != etag
    assert requests.get(url, auth=login, headers={"Accept-Encoding": "gzip"}, timeout=10).json() == first.json()


def test_json_api_reads_like_the_simple_page(srv, project, login, tmp_path):
    repo = srv.create_repo(project, "pypi")
    out = twine_upload(srv, repo, login, make_wheel(tmp_path, "guarded", "1.0", ""))
    assert out.returncode == 0, out.stdout + out.stderr
    url = api(srv, repo, "guarded")
    page = srv.url("/artifactory/api/pypi/%s/simple/guarded/" % repo)

    anonymous = requests.get(url, timeout=10)
    assert anonymous.status_code == 401 == requests.get(page, timeout=10).status_code
    assert "Basic" in anonymous.headers.get("WWW-Authenticate", "")
    assert "message" in anonymous.json()

    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    vlogin = srv.repo_login(viewer)
    assert requests.get(url, auth=vlogin, timeout=10).status_code == 200

    # A user of the account who is no member of the project: refused exactly as on the simple page.
    outsider = srv.repo_login(srv.create_user())
    refused = requests.get(url, auth=outsider, timeout=10)
    assert refused.status_code == requests.get(page, auth=outsider, timeout=10).status_code
    # The refusal names the path asked for (as the simple page's does) and nothing of what is there.
    assert refused.status_code in (403, 404)
    assert "1.0" not in refused.text and "releases" not in refused.text and ".whl" not in refused.text

    # Opened to anonymous reads, the document is anyone's; closed again, it is not.
    client = srv.artifact_client()
    client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=repo, allow_anonymous=True)))
    assert requests.get(url, timeout=10).status_code == 200
    client.update_artifactory(UpdateArtifactoryRequest(body=UpdateNotMavenRepoDO(
        repo_name=repo, allow_anonymous=False)))
    assert requests.get(url, timeout=10).status_code == 401
