"""Issue 11: PyPI through a virtual repository over a hosted member (filled by the real twine) and a remote
member whose upstream is a real pypiserver on loopback. The real pip resolves a package from each member
through the one virtual URL; a file name both hold comes from the first member (the bytes say which); the
dependency-confusion switch; twine publishing through the virtual URL into the default deploy repository (400
naming it when unset); a member the caller may not read is never seen; an upstream that is down does not hide
the hosted member."""

import hashlib
import re
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
import requests

from harness import ROLE_DEVELOPER, unique
from test_pypi import JSON_V1, run, twine_upload
from test_remote_pypi import PypiServer, remote_pypi, wheel

ARCA_ARGS = ["--remote-allow-private-networks"]
ARTIFACT = "/cloudartifact/v5/artifact/"
SHARED = "shared_pkg-1.0-py3-none-any.whl"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    root = tmp_path_factory.mktemp("wheels")
    wheel(root, "lib-dep", "1.0", "VALUE = 'from upstream lib-dep'\n")
    wheel(root, "shared-pkg", "1.0", "WHO = 'upstream'\n")
    wheel(root, "internal-lib", "99.0", "WHO = 'attacker'\n")
    server = PypiServer(root, tmp_path_factory.mktemp("log") / "pypiserver.log")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def hosted(srv, project, login, tmp_path_factory):
    """A hosted member holding shared-pkg 1.0 (other bytes than the upstream's) and internal-lib 1.0."""
    dist = tmp_path_factory.mktemp("hosted-dist")
    name = srv.create_repo(project, "pypi")
    files = [wheel(dist, "shared-pkg", "1.0", "WHO = 'hosted'\n"), wheel(dist, "internal-lib", "1.0", "WHO = 'hosted'\n")]
    out = twine_upload(srv, name, login, *files)
    assert out.returncode == 0, out.stdout + out.stderr
    return {"name": name, "dist": dist}


@pytest.fixture(scope="module")
def remote(srv, project, upstream):
    return remote_pypi(srv, project, upstream.url)


def virtual(srv, project, members, **settings):
    body = {"format": "pypi", "type": "virtual", "repository_name": unique("pyvirt"), "project_id": project,
            "repository_ids": members}
    body.update(settings)
    resp = srv.signed("POST", ARTIFACT, body=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["artifactory"]["name"]


def index(srv, repo, login):
    return srv.url("/artifactory/api/pypi/%s/simple/" % repo).replace("http://", "http://%s:%s@" % login)


def page(srv, login, repo, name, accept="text/html"):
    return requests.get(srv.url("/artifactory/api/pypi/%s/simple/%s/" % (repo, name)), auth=login,
                        headers={"Accept": accept}, timeout=30)


def package(srv, login, repo, project, version, filename):
    return requests.get(srv.url("/artifactory/api/pypi/%s/packages/%s/%s/%s" % (repo, project, version, filename)),
                        auth=login, timeout=30)


def hrefs(html):
    """The page's links, percent-decoded (arca encodes every character of a file link but letters and digits)."""
    return [unquote(h) for h in re.findall(r'href="([^"]+)"', html)]


def pip(srv, repo, login, *args):
    out = run(sys.executable, "-m", "pip", *args[:1], "--no-cache-dir", "--index-url", index(srv, repo, login),
              *args[1:])
    return out


def installed(target: Path, module: str, expr: str):
    out = run(sys.executable, "-c", "import sys; sys.path.insert(0, %r); import %s; print(%s)" % (
        str(target), module, expr))
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pip_installs_from_both_members_and_twine_publishes_through_the_virtual(srv, project, login, hosted, remote,
                                                                              upstream, tmp_path):
    front = virtual(srv, project, [hosted["name"], remote], default_deploy_repository=hosted["name"])
    # corp-app is published through the virtual URL and needs lib-dep, which only the upstream has.
    app = wheel(tmp_path / "dist", "corp-app", "1.0", "from lib_dep import VALUE\n", requires=["lib-dep>=1.0"])
    out = twine_upload(srv, front, login, app)
    assert out.returncode == 0, out.stdout + out.stderr
    assert hrefs(page(srv, login, hosted["name"], "corp-app").text), "the upload landed in the deploy repository"
    assert page(srv, login, remote, "corp-app").status_code == 404

    out = pip(srv, front, login, "install", "--target", tmp_path / "site", "corp-app")
    assert out.returncode == 0, out.stdout + out.stderr
    assert installed(tmp_path / "site", "corp_app", "corp_app.VALUE") == "from upstream lib-dep"

    # Every link is on the virtual repository, with the winning entry's hash, requires-python and metadata.
    html = page(srv, login, front, "corp-app").text
    links = hrefs(html)
    assert len(links) == 1 and links[0].startswith("../../packages/corp-app/1.0/corp_app-1.0-py3-none-any.whl")
    assert "#sha256=%s" % sha256(app) in links[0]
    assert 'data-requires-python="&gt;=3.8"' in html and "data-core-metadata=" in html
    listed = page(srv, login, front, "corp-app", JSON_V1).json()["files"]
    metadata = package(srv, login, front, "corp-app", "1.0", app.name + ".metadata")
    assert metadata.status_code == 200 and b"Requires-Dist: lib-dep" in metadata.content
    assert listed[0]["core-metadata"]["sha256"] == hashlib.sha256(metadata.content).hexdigest()
    dep = page(srv, login, front, "lib-dep").text
    assert hrefs(dep) and all(h.startswith("../../packages/lib-dep/1.0/") for h in hrefs(dep)), dep
    assert str(upstream.port) not in dep
    assert all(f["url"].startswith("../../packages/lib-dep/")
               for f in page(srv, login, front, "lib-dep", JSON_V1).json()["files"])

    # The root index: the hosted member's projects and the remote member's cached pages.
    root = requests.get(srv.url("/artifactory/api/pypi/%s/simple/" % front), auth=login, timeout=30)
    assert root.status_code == 200
    assert {"corp-app/", "lib-dep/", "shared-pkg/", "internal-lib/"} <= set(hrefs(root.text))
    names = [p["name"] for p in requests.get(root.url, auth=login, headers={"Accept": JSON_V1}, timeout=30)
             .json()["projects"]]
    assert names == sorted(set(names)) and "lib-dep" in names


def test_a_file_name_both_members_hold_comes_from_the_first(srv, project, login, hosted, remote, upstream, tmp_path):
    ours, theirs = sha256(hosted["dist"] / SHARED), sha256(upstream.root / SHARED)
    assert ours != theirs
    for members, expected in (([hosted["name"], remote], ours), ([remote, hosted["name"]], theirs)):
        front = virtual(srv, project, members)
        links = [h for h in hrefs(page(srv, login, front, "shared-pkg").text) if SHARED in h]
        assert len(links) == 1 and links[0].endswith("#sha256=" + expected), links
        dest = tmp_path / expected[:8]
        out = pip(srv, front, login, "download", "--no-deps", "-d", dest, "shared-pkg==1.0")
        assert out.returncode == 0, out.stdout + out.stderr
        assert sha256(dest / SHARED) == expected
        assert hashlib.sha256(package(srv, login, front, "shared-pkg", "1.0", SHARED).content).hexdigest() == expected


def test_hosted_names_hide_the_same_name_upstream(srv, project, login, hosted, remote, tmp_path):
    exposed = virtual(srv, project, [hosted["name"], remote])
    assert len(hrefs(page(srv, login, exposed, "internal-lib").text)) == 2
    out = pip(srv, exposed, login, "install", "--target", tmp_path / "exposed", "internal-lib")
    assert out.returncode == 0, out.stdout + out.stderr
    assert installed(tmp_path / "exposed", "internal_lib", "internal_lib.WHO") == "attacker", "the confusion the switch defends"

    guarded = virtual(srv, project, [hosted["name"], remote], hosted_names_hide_remote=True)
    links = hrefs(page(srv, login, guarded, "internal-lib").text)
    assert len(links) == 1 and "/1.0/" in links[0], links
    attacker = "internal_lib-99.0-py3-none-any.whl"
    assert package(srv, login, exposed, "internal-lib", "99.0", attacker).status_code == 200
    assert package(srv, login, guarded, "internal-lib", "99.0", attacker).status_code == 404
    # Nor through the plain file path, where the remote member's cached copy (fetched through `exposed`) lies.
    plain = requests.get(srv.url("/artifactory/%s/packages/internal-lib/99.0/%s" % (guarded, attacker)),
                         auth=login, timeout=30)
    assert plain.status_code == 404, plain.status_code
    through_exposed = requests.get(srv.url("/artifactory/%s/packages/internal-lib/99.0/%s" % (exposed, attacker)),
                                   auth=login, timeout=30)
    assert through_exposed.status_code == 200
    out = pip(srv, guarded, login, "install", "--target", tmp_path / "guarded", "internal-lib")
    assert out.returncode == 0, out.stdout + out.stderr
    assert installed(tmp_path / "guarded", "internal_lib", "internal_lib.WHO") == "hosted"
    # Names no hosted member holds still come from the upstream.
    assert page(srv, login, guarded, "lib-dep").status_code == 200


def test_changes_without_a_deploy_repository_are_400_naming_it(srv, project, login, hosted, remote, tmp_path):
    front = virtual(srv, project, [hosted["name"], remote])
    out = twine_upload(srv, front, login, wheel(tmp_path, "lonely", "1.0", "X = 1\n"))
    assert out.returncode != 0 and "default_deploy_repository" in out.stdout + out.stderr, out.stdout + out.stderr
    yank = srv.url("/artifactory/api/pypi/%s/yank" % front)
    resp = requests.post(yank, data={"project": "internal-lib", "version": "1.0"}, auth=login, timeout=30)
    assert resp.status_code == 400 and "default_deploy_repository" in resp.text
    assert page(srv, login, hosted["name"], "lonely").status_code == 404

    resp = srv.signed("PUT", ARTIFACT, body={"repo_name": front, "default_deploy_repository": hosted["name"]})
    assert resp.status_code == 200, resp.text
    resp = requests.post(yank, data={"project": "internal-lib", "version": "1.0", "reason": "r"}, auth=login,
                         timeout=30)
    assert resp.status_code == 200, resp.text
    try:
        assert 'data-yanked="r"' in page(srv, login, hosted["name"], "internal-lib").text
        yanked = [h for h in page(srv, login, front, "internal-lib").text.splitlines() if "internal_lib-1.0" in h]
        assert yanked and 'data-yanked="r"' in yanked[0], "the hosted entry's yank mark is kept"
    finally:
        resp = requests.post(srv.url("/artifactory/api/pypi/%s/unyank" % front),
                             data={"project": "internal-lib", "version": "1.0"}, auth=login, timeout=30)
        assert resp.status_code == 200, resp.text


def test_a_member_the_caller_cannot_read_is_never_seen(srv, login, hosted, upstream, tmp_path):
    # The hosted member lies in a project the user is no member of; the virtual and the remote in one they are.
    front_project = srv.create_project()
    theirs = remote_pypi(srv, front_project, upstream.url)
    front = virtual(srv, front_project, [hosted["name"], theirs])
    user = srv.create_user()
    srv.add_member(front_project, user.user_id, ROLE_DEVELOPER)
    user_login = srv.repo_login(user)

    assert page(srv, user_login, front, "internal-lib").text.count("internal_lib-1.0") == 0
    assert page(srv, user_login, front, "internal-lib").status_code == 200, "the upstream's 99.0 only"
    resp = package(srv, user_login, front, "internal-lib", "1.0", "internal_lib-1.0-py3-none-any.whl")
    assert resp.status_code == 404 and b"hosted" not in resp.content
    # The name both hold: the user gets the upstream's bytes, the administrator the hosted member's.
    mine = package(srv, user_login, front, "shared-pkg", "1.0", SHARED)
    assert hashlib.sha256(mine.content).hexdigest() == sha256(upstream.root / SHARED)
    admins = package(srv, login, front, "shared-pkg", "1.0", SHARED)
    assert hashlib.sha256(admins.content).hexdigest() == sha256(hosted["dist"] / SHARED)
    out = pip(srv, front, user_login, "download", "--no-deps", "-d", tmp_path / "user", "shared-pkg==1.0")
    assert out.returncode == 0, out.stdout + out.stderr
    assert sha256(tmp_path / "user" / SHARED) == sha256(upstream.root / SHARED)
    # The root index lists only what the user may read (the remote member's cached pages).
    root = requests.get(srv.url("/artifactory/api/pypi/%s/simple/" % front), auth=user_login, timeout=30)
    assert root.status_code == 200 and "internal-lib/" in hrefs(root.text)
    assert "shared-pkg/" in hrefs(root.text) and "corp-app/" not in hrefs(root.text)


def test_an_upstream_that_is_down_does_not_hide_the_hosted_member(srv, project, login, hosted, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    down = PypiServer(empty, tmp_path / "down.log")
    gone = remote_pypi(srv, project, down.url)
    down.stop()
    front = virtual(srv, project, [gone, hosted["name"]])
    links = hrefs(page(srv, login, front, "shared-pkg").text)
    assert len(links) == 1 and links[0].endswith("#sha256=" + sha256(hosted["dist"] / SHARED))
    resp = package(srv, login, front, "shared-pkg", "1.0", SHARED)
    assert resp.status_code == 200 and hashlib.sha256(resp.content).hexdigest() == sha256(hosted["dist"] / SHARED)
    out = pip(srv, front, login, "install", "--target", tmp_path / "site", "internal-lib")
    assert out.returncode == 0, out.stdout + out.stderr
    assert installed(tmp_path / "site", "internal_lib", "internal_lib.WHO") == "hosted"
    # What only the upstream could answer: its failure, naming it — not a 404.
    missing = page(srv, login, front, "lib-dep")
    assert missing.status_code == 502 and "127.0.0.1:%d" % down.port in missing.text
    assert package(srv, login, front, "lib-dep", "1.0", "lib_dep-1.0-py3-none-any.whl").status_code == 502
