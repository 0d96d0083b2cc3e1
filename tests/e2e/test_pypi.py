"""Issue 4 §2: PyPI repositories with the real twine and pip (pinned in requirements.txt) — upload, the
simple index as PEP 503 HTML and PEP 691 JSON, PEP 658 metadata, installs of wheels and sdists, name
normalisation, yanking, and authentication failures with the clients' own exit status."""

import base64
import hashlib
import io
import os
import re
import subprocess
import sys
import tarfile
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import requests

from harness import ROLE_VIEWER, unique

BIN = Path(sys.executable).parent
JSON_V1 = "application/vnd.pypi.simple.v1+json"


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(dest: Path, name: str, version: str, body: str, requires_python=">=3.8") -> Path:
    """A pure-Python wheel built by hand: a module, METADATA, WHEEL and RECORD."""
    module = name.replace("-", "_").lower()
    dist_info = "%s-%s.dist-info" % (module, version)
    files = {
        "%s/__init__.py" % module: body.encode(),
        "%s/METADATA" % dist_info: textwrap.dedent("""\
            Metadata-Version: 2.1
            Name: %s
            Version: %s
            Summary: arca test package
            Requires-Python: %s
            """ % (name, version, requires_python)).encode(),
        "%s/WHEEL" % dist_info: b"Wheel-Version: 1.0\nGenerator: arca-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join("%s,%s,%d\n" % (p, record_hash(d), len(d)) for p, d in files.items())
    record += "%s/RECORD,,\n" % dist_info
    path = dest / ("%s-%s-py3-none-any.whl" % (module, version))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            z.writestr(p, d)
        z.writestr("%s/RECORD" % dist_info, record)
    return path


def make_sdist(dest: Path, name: str, version: str, body: str) -> Path:
    """An sdist that setuptools builds (pip installs it with --no-build-isolation)."""
    module = name.replace("-", "_").lower()
    base = "%s-%s" % (module, version)
    files = {
        "PKG-INFO": "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: arca sdist\n" % (name, version),
        "pyproject.toml": textwrap.dedent("""\
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"
            [project]
            name = "%s"
            version = "%s"
            [tool.setuptools]
            packages = ["%s"]
            """ % (name, version, module)),
        "%s/__init__.py" % module: body,
    }
    path = dest / ("%s.tar.gz" % base)
    with tarfile.open(path, "w:gz") as tar:
        for rel, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo("%s/%s" % (base, rel))
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return path


def run(*cmd, env=None, cwd=None):
    full_env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", TWINE_NON_INTERACTIVE="1",
                    PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    full_env.update(env or {})
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, env=full_env, cwd=cwd)


def twine_upload(srv, repo, login, *files):
    return run(BIN / "twine", "upload", "--non-interactive", "--disable-progress-bar", "--repository-url",
               srv.url("/artifactory/api/pypi/%s/" % repo), "-u", login[0], "-p", login[1], *files)


def index_url(srv, repo, login=None):
    url = srv.url("/artifactory/api/pypi/%s/simple/" % repo)
    if login:
        url = url.replace("http://", "http://%s:%s@" % login)
    return url


def pip_install(srv, repo, login, target: Path, *reqs, extra=()):
    return run(sys.executable, "-m", "pip", "install", "--no-cache-dir", "--index-url", index_url(srv, repo, login),
               "--target", target, "--no-build-isolation", *extra, *reqs)


def imported(target: Path, module: str, expr: str):
    out = run(sys.executable, "-c", "import sys; sys.path.insert(0, %r); import %s; print(%s)" % (
        str(target), module, expr))
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.fixture(scope="module")
def repo(srv, project):
    return srv.create_repo(project, "pypi")


@pytest.fixture(scope="module")
def published(srv, repo, login, tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    wheel = make_wheel(dist, "Demo_Pkg", "1.0", "VERSION = '1.0'\n")
    sdist = make_sdist(dist, "demo-sdist", "2.0", "VERSION = 'sdist 2.0'\n")
    out = twine_upload(srv, repo, login, wheel, sdist)
    assert out.returncode == 0, out.stdout + out.stderr
    return {"wheel": wheel, "sdist": sdist}


def test_pip_installs_wheel_and_sdist(srv, repo, login, published, tmp_path):
    target = tmp_path / "site"
    out = pip_install(srv, repo, login, target, "demo-pkg", "Demo.SDist==2.0")
    assert out.returncode == 0, out.stdout + out.stderr
    assert imported(target, "demo_pkg", "demo_pkg.VERSION") == "1.0"
    assert imported(target, "demo_sdist", "demo_sdist.VERSION") == "sdist 2.0"


def test_simple_index_html_and_json(srv, repo, login, published):
    wheel_bytes = published["wheel"].read_bytes()
    base = srv.url("/artifactory/api/pypi/%s/simple/" % repo)
    root = requests.get(base, auth=login, headers={"Accept": JSON_V1}, timeout=10).json()
    assert sorted(p["name"] for p in root["projects"]) == ["demo-pkg", "demo-sdist"]
    page = requests.get(base + "demo-pkg/", auth=login, headers={"Accept": JSON_V1}, timeout=10)
    assert page.headers["Content-Type"] == JSON_V1
    body = page.json()
    assert body["meta"]["api-version"] == "1.1"
    assert re.sub(r"[-_.]+", "-", body["name"]).lower() == "demo-pkg"
    [f] = body["files"]
    assert f["filename"] == published["wheel"].name
    assert f["hashes"]["sha256"] == hashlib.sha256(wheel_bytes).hexdigest()
    assert f["requires-python"] == ">=3.8" and f["yanked"] is False
    with zipfile.ZipFile(published["wheel"]) as z:
        metadata = z.read("demo_pkg-1.0.dist-info/METADATA")
    assert f["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
    file_url = requests.compat.urljoin(base + "demo-pkg/", f["url"])
    assert requests.get(file_url, auth=login, timeout=10).content == wheel_bytes
    assert requests.get(file_url + ".metadata", auth=login, timeout=10).content == metadata
    html = requests.get(base + "demo-pkg/", auth=login, headers={"Accept": "text/html"}, timeout=10)
    assert html.headers["Content-Type"].startswith("text/html")
    assert 'data-requires-python="&gt;=3.8"' in html.text
    assert "data-dist-info-metadata=\"sha256=%s\"" % hashlib.sha256(metadata).hexdigest() in html.text
    assert "#sha256=%s" % hashlib.sha256(wheel_bytes).hexdigest() in html.text
    refused = requests.get(base + "demo-pkg/", auth=login, headers={"Accept": "image/png"}, timeout=10)
    assert refused.status_code == 406


def test_names_are_normalised(srv, repo, login, published):
    base = srv.url("/artifactory/api/pypi/%s/simple/" % repo)
    moved = requests.get(base + "Demo_Pkg/", auth=login, allow_redirects=False, timeout=10)
    assert moved.status_code in (301, 308) and moved.headers["Location"].endswith("/simple/demo-pkg/")
    assert requests.get(base + "DEMO.pkg/", auth=login, timeout=10).status_code == 200
    assert requests.get(base + "no-such-thing/", auth=login, timeout=10).status_code == 404


def test_reupload_is_refused_like_pypi(srv, repo, login, published):
    out = twine_upload(srv, repo, login, published["wheel"])
    assert out.returncode != 0
    assert "File already exists" in out.stdout + out.stderr
    assert "400" in out.stdout + out.stderr


def test_digests_are_verified(srv, repo, login, tmp_path):
    wheel = make_wheel(tmp_path, "digest-check", "1.0", "")
    data = wheel.read_bytes()
    fields = {":action": "file_upload", "protocol_version": "1", "name": "digest-check", "version": "1.0",
              "filetype": "bdist_wheel", "pyversion": "py3", "metadata_version": "2.1",
              "sha256_digest": "0" * 64}
    resp = requests.post(srv.url("/artifactory/api/pypi/%s/" % repo), data=fields,
                         files={"content": (wheel.name, data)}, auth=login, timeout=10)
    assert resp.status_code == 400 and "sha256_digest" in resp.reason
    fields["sha256_digest"] = hashlib.sha256(data).hexdigest()
    fields["md5_digest"] = "0" * 32
    resp = requests.post(srv.url("/artifactory/api/pypi/%s/" % repo), data=fields,
                         files={"content": (wheel.name, data)}, auth=login, timeout=10)
    assert resp.status_code == 400 and "md5_digest" in resp.reason
    fields["md5_digest"] = hashlib.md5(data).hexdigest()
    fields["name"] = "other-name"
    resp = requests.post(srv.url("/artifactory/api/pypi/%s/" % repo), data=fields,
                         files={"content": (wheel.name, data)}, auth=login, timeout=10)
    assert resp.status_code == 400 and "name" in resp.reason
    assert requests.get(index_url(srv, repo) + "digest-check/", auth=login, timeout=10).status_code == 404


def test_yanked_versions_are_skipped_unless_pinned(srv, repo, login, tmp_path):
    for v in ("1.0", "1.1"):
        out = twine_upload(srv, repo, login, make_wheel(tmp_path, "yanky", v, "VERSION = %r\n" % v))
        assert out.returncode == 0, out.stdout + out.stderr
    resp = requests.post(srv.url("/artifactory/api/pypi/%s/yank" % repo), auth=login, timeout=10,
                         data={"project": "Yanky", "version": "1.1", "reason": "broken build"})
    assert resp.status_code == 200, resp.text
    page = requests.get(index_url(srv, repo) + "yanky/", auth=login, headers={"Accept": JSON_V1}, timeout=10).json()
    assert {f["filename"]: f["yanked"] for f in page["files"]} == {
        "yanky-1.0-py3-none-any.whl": False, "yanky-1.1-py3-none-any.whl": "broken build"}
    latest = pip_install(srv, repo, login, tmp_path / "a", "yanky")
    assert latest.returncode == 0, latest.stderr
    assert imported(tmp_path / "a", "yanky", "yanky.VERSION") == "1.0"
    pinned = pip_install(srv, repo, login, tmp_path / "b", "yanky==1.1")
    assert pinned.returncode == 0, pinned.stderr
    assert imported(tmp_path / "b", "yanky", "yanky.VERSION") == "1.1"
    assert "yanked" in (pinned.stdout + pinned.stderr).lower()
    requests.post(srv.url("/artifactory/api/pypi/%s/unyank" % repo), auth=login, timeout=10,
                  json={"project": "yanky", "version": "1.1"})
    again = pip_install(srv, repo, login, tmp_path / "c", "yanky")
    assert imported(tmp_path / "c", "yanky", "yanky.VERSION") == "1.1", again.stderr


def test_authentication_and_authorization_failures(srv, project, repo, login, published, tmp_path):
    wheel = make_wheel(tmp_path, "authz-pkg", "1.0", "")
    wrong = twine_upload(srv, repo, (login[0], "wrong-password"), wheel)
    assert wrong.returncode != 0 and "401" in wrong.stdout + wrong.stderr
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    vlogin = srv.repo_login(viewer)
    denied = twine_upload(srv, repo, vlogin, wheel)
    assert denied.returncode != 0 and "403" in denied.stdout + denied.stderr
    # The viewer reads; nobody without credentials does.
    ok = pip_install(srv, repo, vlogin, tmp_path / "v", "demo-pkg")
    assert ok.returncode == 0, ok.stderr
    anon = pip_install(srv, repo, None, tmp_path / "anon", "demo-pkg")
    assert anon.returncode != 0
    # An exhausted ticket stops working.
    token = srv.root_token()
    ticket = srv.request("POST", "/v1/%s/tickets" % srv.iam_project_id, headers={"X-Auth-Token": token},
                         json={"left_num": 1}).json()["value"]
    page = srv.url("/artifactory/api/pypi/%s/simple/demo-pkg/" % repo)
    assert requests.get(page, auth=(srv.root.name, ticket), timeout=10).status_code == 200
    assert requests.get(page, auth=(srv.root.name, ticket), timeout=10).status_code == 401
    spent = pip_install(srv, repo, (srv.root.name, ticket), tmp_path / "spent", "demo-pkg")
    assert spent.returncode != 0 and "401" in spent.stdout + spent.stderr


def test_two_thousand_versions_index(srv, project, login):
    repo = srv.create_repo(project, "pypi")
    session = requests.Session()
    session.auth = login
    url = srv.url("/artifactory/api/pypi/%s/" % repo)
    for i in range(2000):
        data = b"sdist %d" % i
        name = "many-1.0.%d.tar.gz" % i
        resp = session.post(url, data={":action": "file_upload", "name": "many", "version": "1.0.%d" % i,
                                       "filetype": "sdist", "sha256_digest": hashlib.sha256(data).hexdigest()},
                            files={"content": (name, data)}, timeout=10)
        assert resp.status_code == 200, resp.text
    body = session.get(index_url(srv, repo) + "many/", headers={"Accept": JSON_V1}, timeout=30).json()
    assert len(body["files"]) == 2000 and len(body["versions"]) == 2000
    assert body["files"][1999]["hashes"]["sha256"] == hashlib.sha256(b"sdist 1999").hexdigest()
    html = session.get(index_url(srv, repo) + "many/", timeout=30).text
    assert len(re.findall(r"<a href=", html)) == 2000


def test_wheel_metadata_must_match_the_form(srv, repo, login, tmp_path):
    wheel = make_wheel(tmp_path, "meta-mismatch", "1.0", "")
    renamed = wheel.with_name("meta_mismatch-2.0-py3-none-any.whl")
    wheel.rename(renamed)
    data = renamed.read_bytes()
    resp = requests.post(srv.url("/artifactory/api/pypi/%s/" % repo), auth=login, timeout=10,
                         data={"name": "meta-mismatch", "version": "2.0", "filetype": "bdist_wheel",
                               "sha256_digest": hashlib.sha256(data).hexdigest()},
                         files={"content": (renamed.name, data)})
    assert resp.status_code == 400 and "METADATA" in resp.reason
    assert requests.get(index_url(srv, repo) + "meta-mismatch/", auth=login, timeout=10).status_code == 404
