"""Issue 11: PyPI through remote repositories. Upstreams are real servers on loopback: pypiserver (from PyPI,
serving wheels built here; its pages are PEP 503 HTML with host-relative links) and a static PEP 503 / PEP 691
tree (tests/e2e/upstream_server.py). The real pip installs through arca's simple URL, and again from the cache
with the upstream stopped; pages point at arca only; files are checked against the page's hash."""

import hashlib
import json
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import requests

from harness import free_port, unique
from test_pypi import BIN, JSON_V1, record_hash, run
from upstream_server import StaticUpstream

ARCA_ARGS = ["--remote-allow-private-networks"]


def wheel(dest: Path, name: str, version: str, body: str, requires=()) -> Path:
    """A pure-Python wheel built by hand, with its dependencies as Requires-Dist."""
    module = name.replace("-", "_").lower()
    dist_info = "%s-%s.dist-info" % (module, version)
    metadata = "Metadata-Version: 2.1\nName: %s\nVersion: %s\nRequires-Python: >=3.8\n" % (name, version)
    metadata += "".join("Requires-Dist: %s\n" % r for r in requires)
    files = {
        "%s/__init__.py" % module: body.encode(),
        "%s/METADATA" % dist_info: metadata.encode(),
        "%s/WHEEL" % dist_info: b"Wheel-Version: 1.0\nGenerator: arca-e2e\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join("%s,%s,%d\n" % (p, record_hash(d), len(d)) for p, d in files.items())
    record += "%s/RECORD,,\n" % dist_info
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / ("%s-%s-py3-none-any.whl" % (module, version))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            z.writestr(p, d)
        z.writestr("%s/RECORD" % dist_info, record)
    return path


class PypiServer:
    """pypiserver on a free loopback port serving `root`; stop() and start() again on the same port."""

    def __init__(self, root: Path, log: Path):
        self.root, self.log, self.port, self.proc = root, log, free_port(), None
        self.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        self.proc = subprocess.Popen(
            [BIN / "pypi-server", "run", "-v", "-i", "127.0.0.1", "-p", str(self.port), "-a", ".", "-P", ".",
             "--disable-fallback", "--hash-algo", "sha256", "--backend", "simple-dir", str(self.root)],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if requests.get(self.url + "/simple/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            assert self.proc.poll() is None, self.log.read_text()
            time.sleep(0.2)
        raise AssertionError("pypiserver did not start:\n" + self.log.read_text())

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)

    def requests_for(self, path: str) -> int:
        """GET requests for `path`, from pypiserver's access log (-v)."""
        return self.log.read_text().count('"GET %s HTTP' % path)


@pytest.fixture
def pypiserver(tmp_path):
    root = tmp_path / "wheels"
    wheel(root, "lib-dep", "1.0", "VALUE = 'from lib-dep'\n")
    wheel(root, "App_Pkg", "2.0", "from lib_dep import VALUE\n", requires=["lib-dep>=1.0"])
    server = PypiServer(root, tmp_path / "pypiserver.log")
    yield server
    if server.proc.poll() is None:
        server.stop()


@pytest.fixture(scope="module")
def static(tmp_path_factory):
    server = StaticUpstream(tmp_path_factory.mktemp("static-index"))
    yield server
    server.stop()


def remote_pypi(srv, project, remote_url, **settings):
    body = {"format": "pypi", "type": "remote", "repository_name": unique("pyrem"), "project_id": project,
            "remote_url": remote_url}
    body.update(settings)
    resp = srv.signed("POST", "/cloudartifact/v5/artifact/", body=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["artifactory"]["name"]


def simple_url(srv, repo, login=None):
    url = srv.url("/artifactory/api/pypi/%s/simple/" % repo)
    return url.replace("http://", "http://%s:%s@" % login) if login else url


def page(srv, login, repo, name, accept="text/html"):
    return requests.get(srv.url("/artifactory/api/pypi/%s/simple/%s/" % (repo, name)), auth=login,
                        headers={"Accept": accept}, timeout=30, allow_redirects=False)


def pip_install(srv, repo, login, target: Path, *reqs):
    return run(sys.executable, "-m", "pip", "install", "--no-cache-dir", "--index-url", simple_url(srv, repo, login),
               "--target", target, *reqs)


def imported(target: Path, expr: str):
    out = run(sys.executable, "-c", "import sys; sys.path.insert(0, %r); import app_pkg; print(%s)" % (
        str(target), expr))
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def hrefs(html: str):
    return re.findall(r'href="([^"]+)"', html)


def test_pip_installs_through_pypiserver_then_from_the_cache_with_it_stopped(srv, project, login, pypiserver,
                                                                            tmp_path):
    # metadata_max_age_secs=0: every page read asks the upstream, so the second install shows the stale copy.
    repo = remote_pypi(srv, project, pypiserver.url, metadata_max_age_secs=0)
    out = pip_install(srv, repo, login, tmp_path / "one", "app-pkg")
    assert out.returncode == 0, out.stdout + out.stderr
    assert imported(tmp_path / "one", "app_pkg.VALUE") == "from lib-dep"
    # The pages arca served point at arca only (pypiserver's links are host-relative /packages/...).
    for name in ("app-pkg", "lib-dep"):
        html = page(srv, login, repo, name).text
        links = hrefs(html)
        assert links and all(h.startswith("../../packages/%s/" % name) for h in links), html
        assert "#sha256=" in links[0]
        assert str(pypiserver.port) not in html
        listed = page(srv, login, repo, name, JSON_V1).json()["files"]
        assert listed and all(f["url"].startswith("../../packages/") and f["hashes"]["sha256"] for f in listed)
    fetched = pypiserver.requests_for("/packages/app_pkg-2.0-py3-none-any.whl")
    assert fetched == 1

    pypiserver.stop()
    out = pip_install(srv, repo, login, tmp_path / "two", "app-pkg")
    assert out.returncode == 0, out.stdout + out.stderr
    assert imported(tmp_path / "two", "app_pkg.VALUE") == "from lib-dep"
    stale = page(srv, login, repo, "app-pkg")
    assert stale.status_code == 200 and "stale" in stale.headers.get("Warning", "").lower()
    # A project never asked for while the upstream was up: 502 naming the upstream, not 404. (The PyPI
    # API answers errors as plain text, which pip prints.)
    never = page(srv, login, repo, "never-cached")
    assert never.status_code == 502 and "127.0.0.1:%d" % pypiserver.port in never.text
    # The cached files are files of the repository (file tree, checksum search).
    digest = hashlib.sha256((pypiserver.root / "app_pkg-2.0-py3-none-any.whl").read_bytes()).hexdigest()
    found = srv.signed("GET", "/cloudartifact/v5/search/checksum", query={"checksum": digest})
    assert repo in found.text


def test_names_are_normalised_and_missing_projects_are_404(srv, project, login, pypiserver):
    repo = remote_pypi(srv, project, pypiserver.url)
    moved = page(srv, login, repo, "App_Pkg")
    assert moved.status_code in (301, 308)
    assert moved.headers["Location"].endswith("/artifactory/api/pypi/%s/simple/app-pkg/" % repo)
    assert page(srv, login, repo, "no-such-project").status_code == 404
    assert page(srv, login, repo, "no-such-project", JSON_V1).status_code == 404
    assert pypiserver.requests_for("/simple/no-such-project/") == 1, "the upstream 404 is remembered"
    # The root index: the projects this repository has cached, not the upstream's list.
    assert page(srv, login, repo, "app-pkg").status_code == 200
    root = requests.get(simple_url(srv, repo), auth=login, timeout=30)
    assert root.status_code == 200 and hrefs(root.text) == ["app-pkg/"]
    assert pypiserver.requests_for("/simple/") == 1, "only the fixture's own readiness probe"
    # Anonymous reads of a repository that does not allow them: refused before the upstream is asked.
    assert requests.get(simple_url(srv, repo) + "lib-dep/", timeout=30).status_code == 401
    assert pypiserver.requests_for("/simple/lib-dep/") == 0


def static_pages(static, prefix, files, json_page: bool, other_host: str):
    """Writes a project page for `files` ({name: (bytes, extra)}) under `prefix` on the static upstream."""
    if json_page:
        entries = []
        for name, (data, extra) in files.items():
            entries.append(dict({"filename": name, "url": "../../files/" + name,
                                 "hashes": {"sha256": hashlib.sha256(data).hexdigest()}}, **extra))
        body = json.dumps({"meta": {"api-version": "1.1"}, "name": "demo", "files": entries}).encode()
        static.put(prefix + "/simple/demo/index.html", body, content_type=JSON_V1)
    else:
        links = []
        for name, (data, extra) in files.items():
            # One file on "another host" (localhost rather than 127.0.0.1), as files.pythonhosted.org is.
            base = other_host + "/" + prefix + "/files/" if extra.get("elsewhere") else "../../files/"
            attrs = "".join(' %s="%s"' % (k, v) for k, v in extra.items() if k.startswith("data-"))
            links.append('<a href="%s%s#sha256=%s"%s>%s</a><br/>' % (
                base, name, hashlib.sha256(data).hexdigest(), attrs, name))
        body = ("<!DOCTYPE html><html><body><h1>Links for demo</h1>\n%s\n</body></html>" % "\n".join(links))
        static.put(prefix + "/simple/demo/index.html", body.encode())
    for name, (data, _) in files.items():
        static.put(prefix + "/files/" + name, data)


@pytest.mark.parametrize("json_page", [False, True], ids=["pep503-html", "pep691-json"])
def test_static_html_and_json_pages_resolve_relative_links_and_rewrite_them(srv, project, login, static,
                                                                            json_page, tmp_path):
    prefix = unique("idx")
    dist = tmp_path / "dist"
    whl = wheel(dist, "demo", "1.0", "VALUE = 'demo 1.0'\n").read_bytes()
    old = wheel(dist, "demo", "0.9", "VALUE = 'demo 0.9'\n").read_bytes()
    with zipfile.ZipFile(dist / "demo-1.0-py3-none-any.whl") as z:
        metadata = z.read("demo-1.0.dist-info/METADATA")
    extra_new = ({"core-metadata": {"sha256": hashlib.sha256(metadata).hexdigest()}, "requires-python": ">=3.8"}
                 if json_page else {"data-requires-python": "&gt;=3.8"})
    extra_old = {"yanked": "broken"} if json_page else {"data-yanked": "broken", "elsewhere": True}
    other_host = "http://localhost:%d" % static.port
    static_pages(static, prefix, {"demo-1.0-py3-none-any.whl": (whl, extra_new),
                                  "demo-0.9-py3-none-any.whl": (old, extra_old)}, json_page, other_host)
    static.put(prefix + "/files/demo-1.0-py3-none-any.whl.metadata", metadata)
    repo = remote_pypi(srv, project, static.url + "/" + prefix, user_name="up-user", password="up-secret")

    html = page(srv, login, repo, "demo")
    assert html.status_code == 200 and html.headers["Content-Type"].startswith("text/html")
    assert "127.0.0.1" not in html.text and "localhost" not in html.text
    assert 'data-requires-python="&gt;=3.8"' in html.text and 'data-yanked="broken"' in html.text
    listed = {f["filename"]: f for f in page(srv, login, repo, "demo", JSON_V1).json()["files"]}
    assert listed["demo-1.0-py3-none-any.whl"]["hashes"]["sha256"] == hashlib.sha256(whl).hexdigest()
    assert listed["demo-1.0-py3-none-any.whl"]["requires-python"] == ">=3.8"
    assert listed["demo-0.9-py3-none-any.whl"]["yanked"] == "broken"
    # arca asked for PEP 691 JSON first; it read the page whichever form came back.
    asked = static.headers_of("/%s/simple/demo/" % prefix)
    assert asked and JSON_V1 in {k.lower(): v for k, v in asked[0].items()}["accept"]

    # The files through the rewritten links: fetched once from the upstream, then from the cache.
    base = srv.url("/artifactory/api/pypi/%s/simple/demo/" % repo)
    for name, data in (("demo-1.0-py3-none-any.whl", whl), ("demo-0.9-py3-none-any.whl", old)):
        link = requests.compat.urljoin(base, listed[name]["url"])
        for _ in range(2):
            got = requests.get(link, auth=login, timeout=30)
            assert got.status_code == 200 and got.content == data
        assert static.count("/%s/files/%s" % (prefix, name)) == 1
    # The upstream's credentials went to the index's origin, never to the file host on another origin.
    auth = lambda path: ["authorization" in {k.lower() for k in h} for h in static.headers_of(path)]
    assert auth("/%s/simple/demo/" % prefix) == [True]
    if not json_page:
        assert auth("/%s/files/demo-0.9-py3-none-any.whl" % prefix) == [False]

    # pip installs the version that is not yanked; with a JSON page it reads the PEP 658 metadata first.
    out = pip_install(srv, repo, login, tmp_path / "site", "demo")
    assert out.returncode == 0, out.stdout + out.stderr
    assert (tmp_path / "site" / "demo-1.0.dist-info").is_dir()
    if json_page:
        assert listed["demo-1.0-py3-none-any.whl"]["core-metadata"] == {"sha256": hashlib.sha256(metadata).hexdigest()}
        meta = requests.get(requests.compat.urljoin(base, listed["demo-1.0-py3-none-any.whl"]["url"]) + ".metadata",
                            auth=login, timeout=30)
        assert meta.status_code == 200 and meta.content == metadata
        assert static.count("/%s/files/demo-1.0-py3-none-any.whl.metadata" % prefix) == 1
    else:
        assert listed["demo-1.0-py3-none-any.whl"]["core-metadata"] is False


def test_a_file_whose_hash_differs_from_the_page_is_502_and_not_kept(srv, project, login, static, tmp_path):
    prefix = unique("bad")
    good = wheel(tmp_path / "good", "demo", "1.0", "VALUE = 1\n").read_bytes()
    static_pages(static, prefix, {"demo-1.0-py3-none-any.whl": (good, {})}, False, "")
    # The upstream's file changed under its page: the bytes no longer have the hash the page gives.
    static.put(prefix + "/files/demo-1.0-py3-none-any.whl", good + b"tampered")
    repo = remote_pypi(srv, project, static.url + "/" + prefix)
    rel = "packages/demo/1.0/demo-1.0-py3-none-any.whl"
    for _ in range(2):
        resp = requests.get(srv.url("/artifactory/api/pypi/%s/%s" % (repo, rel)), auth=login, timeout=30)
        assert resp.status_code == 502 and "checksum" in resp.text
    assert static.count("/%s/files/demo-1.0-py3-none-any.whl" % prefix) == 2, "nothing was kept"
    out = pip_install(srv, repo, login, tmp_path / "site", "demo")
    assert out.returncode != 0
    # Nothing in the repository under that path either.
    assert requests.get(srv.url("/artifactory/%s/%s" % (repo, rel)), auth=login, timeout=30).status_code == 404


def test_only_files_the_page_lists_are_fetched(srv, project, login, static, tmp_path):
    prefix = unique("only")
    whl = wheel(tmp_path / "w", "demo", "1.0", "VALUE = 1\n").read_bytes()
    static_pages(static, prefix, {"demo-1.0-py3-none-any.whl": (whl, {})}, False, "")
    static.put(prefix + "/files/demo-6.6-py3-none-any.whl", b"not listed")
    repo = remote_pypi(srv, project, static.url + "/" + prefix)
    get = lambda rel: requests.get(srv.url("/artifactory/api/pypi/%s/%s" % (repo, rel)), auth=login, timeout=30)
    assert get("packages/demo/6.6/demo-6.6-py3-none-any.whl").status_code == 404
    # A listed name under another version's directory is not that file either.
    assert get("packages/demo/2.0/demo-1.0-py3-none-any.whl").status_code == 404
    assert get("packages/nope/1.0/nope-1.0-py3-none-any.whl").status_code == 404
    assert static.count("/%s/files/demo-6.6-py3-none-any.whl" % prefix) == 0
    # The plain artifact path of a PyPI remote never reaches the upstream: only the PyPI API knows which
    # URL and hash a package path stands for.
    plain = requests.get(srv.url("/artifactory/%s/files/demo-6.6-py3-none-any.whl" % repo), auth=login, timeout=30)
    assert plain.status_code == 404
    plain = requests.get(srv.url("/artifactory/%s/packages/demo/1.0/demo-1.0-py3-none-any.whl" % repo),
                         auth=login, timeout=30)
    assert plain.status_code == 404
    assert static.count("/%s/files/demo-6.6-py3-none-any.whl" % prefix) == 0
    assert static.count("/%s/packages/demo/1.0/demo-1.0-py3-none-any.whl" % prefix) == 0
    # Once fetched through the PyPI API, the copy is a file of the repository on the plain path too.
    assert get("packages/demo/1.0/demo-1.0-py3-none-any.whl").content == whl
    plain = requests.get(srv.url("/artifactory/%s/packages/demo/1.0/demo-1.0-py3-none-any.whl" % repo),
                         auth=login, timeout=30)
    assert plain.status_code == 200 and plain.content == whl
    # Uploads to a remote repository are refused.
    twine = run(BIN / "twine", "upload", "--non-interactive", "--disable-progress-bar", "--repository-url",
                srv.url("/artifactory/api/pypi/%s/" % repo), "-u", login[0], "-p", login[1],
                wheel(tmp_path / "up", "demo", "3.0", "x = 1\n"))
    assert twine.returncode != 0
