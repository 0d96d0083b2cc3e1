"""Issue 14: the console's package pages, Markdown READMEs and search, in Debian's headless Chromium against
the real binary. Packages are published with the real clients (npm, twine, cargo) and, for Maven, with the
PUTs of a deploy (pom, jar, SNAPSHOT builds); the pages show versions, tags, dependencies, features, files
and install snippets whose Copy button fills the clipboard; a hostile README runs nothing and keeps only
harmless markup; search by name and by checksum leads to the package pages; a user who may not download
from a repository sees neither its package pages nor its files in search. Screenshots, light and dark, go
to $ARCA_SCREENSHOTS if set, else to the test's tmp dir."""

import hashlib
import json
import re
import shutil
import textwrap
import zipfile
from pathlib import Path

import pytest
import requests

from harness import ROLE_VIEWER, unique
from test_cargo import basic_token, cargo, cargo_home, library
from test_console import browser, http_session, shots_dir, sign_in_page  # noqa: F401  (browser is a fixture)
from test_npm import npm, npmrc, package, ticket_for
from test_pypi import make_sdist, record_hash, twine_upload

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="Debian's chromium is not installed (scripts/test.sh installs it)")

HOSTILE_README = textwrap.dedent("""\
    # Hostile package

    Some *text* with a list:

    - first item
    - second item

    ```
    const answer = 42;
    ```

    <script>window.__pwned = 1; alert('script')</script>

    <img src=x onerror="window.__pwned = 2; alert('img')">

    [click me](javascript:alert(1)) and [data](data:text/html,<script>alert(2)</script>)

    <iframe src="https://example.org/"></iframe>

    <a href="https://example.org/" onclick="alert(3)">a plain link</a>

    <style>body { display: none }</style>

    <form action="https://example.org/"><input name="q"><button>go</button></form>

    <svg onload="alert(4)"><circle r="1"></circle></svg>

    <details open ontoggle="alert(5)"><summary>more</summary>hidden</details>
    """)

PYPI_DESCRIPTION = textwrap.dedent("""\
    ## Described in Markdown

    A paragraph with `inline code`.

    1. one
    2. two
    """)


def shot(page, name, tmp_path):
    """A full-page screenshot, light and dark, where the run keeps them."""
    where = shots_dir(tmp_path)
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(where / ("%s-%s.png" % (name, scheme))), full_page=True)
    page.emulate_media(color_scheme="light")


def described_wheel(dest: Path, name: str, version: str, description: str, content_type="text/markdown") -> Path:
    """A wheel whose METADATA carries a long description in its body (metadata 2.1)."""
    module = name.replace("-", "_").lower()
    dist_info = "%s-%s.dist-info" % (module, version)
    metadata = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: described\nRequires-Python: >=3.9\n"
                "Description-Content-Type: %s\n\n%s" % (name, version, content_type, description))
    files = {
        "%s/__init__.py" % module: b"VERSION = %r\n" % version.encode(),
        "%s/METADATA" % dist_info: metadata.encode(),
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


@pytest.fixture(scope="module")
def world(srv, project, login, tmp_path_factory):
    root = tmp_path_factory.mktemp("packages")
    w = {"project": project}

    # npm: a package with a hostile README and dependencies, 1.0.0 as latest and 1.1.0 under `beta`.
    w["npm_repo"] = srv.create_repo(project, "npm")
    rc = npmrc(root / ".npmrc", srv, w["npm_repo"], ticket_for(srv))
    w["npm"] = unique("pkgpage").replace("_", "-")
    for version, extra in (("1.0.0", ()), ("1.1.0", ("--tag", "beta"))):
        pkg = package(root / "npm", w["npm"], version, "module.exports = %r;\n" % version,
                      dependencies={"left-pad": "^1.3.0"}, peerDependencies={"react": ">=18"})
        (pkg / "README.md").write_text(HOSTILE_README)
        out = npm(rc, pkg, "publish", *extra)
        assert out.returncode == 0, out.stderr

    # PyPI: two versions of a wheel with a Markdown description, an sdist, the older version yanked.
    w["pypi_repo"] = srv.create_repo(project, "pypi")
    w["pypi"] = unique("Described_Pkg")
    w["pypi_norm"] = re.sub(r"[-_.]+", "-", w["pypi"]).lower()
    files = [described_wheel(root, w["pypi"], v, PYPI_DESCRIPTION) for v in ("1.0", "2.0")]
    files.append(make_sdist(root, w["pypi"], "2.0", "VERSION = '2.0'\n"))
    out = twine_upload(srv, w["pypi_repo"], login, *files)
    assert out.returncode == 0, out.stdout + out.stderr
    w["wheel_sha256"] = hashlib.sha256(files[1].read_bytes()).hexdigest()
    w["wheel_md5"] = hashlib.md5(files[1].read_bytes()).hexdigest()
    w["wheel_name"] = files[1].name
    resp = requests.post(srv.url("/artifactory/api/pypi/%s/yank" % w["pypi_repo"]), auth=login, timeout=10,
                         data={"project": w["pypi"], "version": "1.0", "reason": "broken build"})
    assert resp.status_code == 200, resp.text

    # Cargo: a base crate, then one with features that depends on it, 0.1.0 yanked.
    w["cargo_repo"] = srv.create_repo(project, "cargo")
    env = cargo_home(root / "cargo", srv, w["cargo_repo"], basic_token(login))
    w["crate_base"] = unique("base").replace("_", "-")
    w["crate"] = unique("featured").replace("_", "-")
    crate = library(root / "crates", w["crate_base"], "1.0.0", "pub fn one() -> u32 { 1 }\n")
    out = cargo(env, crate, "publish", "--registry", "arca", "--allow-dirty", "--no-verify")
    assert out.returncode == 0, out.stderr
    for version in ("0.1.0", "0.2.0"):
        crate = library(root / "crates", w["crate"], version, "pub fn two() -> u32 { 2 }\n")
        with open(crate / "Cargo.toml", "a") as manifest:
            manifest.write(textwrap.dedent("""\

                [dependencies]
                %s = { version = "1.0", registry = "arca", optional = true }

                [features]
                default = ["fast"]
                fast = []
                extra = ["dep:%s"]
                """ % (w["crate_base"], w["crate_base"])))
        out = cargo(env, crate, "publish", "--registry", "arca", "--allow-dirty", "--no-verify")
        assert out.returncode == 0, out.stderr
    out = cargo(env, root, "yank", "--registry", "arca", "--version", "0.1.0", w["crate"])
    assert out.returncode == 0, out.stderr

    # Maven: what a deploy PUTs — a release and two timestamped SNAPSHOT builds.
    pair = srv.create_maven_repo(project)
    w["mvn_release"], w["mvn_snapshot"] = pair["release"], pair["snapshot"]
    w["artifact"] = unique("lib").replace("_", "-")
    group_path = "com/acme/console"
    release = srv.url("/artifactory/%s/%s/%s/1.0/" % (pair["release"], group_path, w["artifact"]))
    for ext in ("pom", "jar"):
        resp = requests.put(release + "%s-1.0.%s" % (w["artifact"], ext), data=b"release " + ext.encode(),
                            auth=login, timeout=10)
        assert resp.status_code in (200, 201), resp.text
    snapshot = srv.url("/artifactory/%s/%s/%s/1.1-SNAPSHOT/" % (pair["snapshot"], group_path, w["artifact"]))
    for build in (1, 2):
        for ext in ("pom", "jar"):
            name = "%s-1.1-20261124.12000%d-%d.%s" % (w["artifact"], build, build, ext)
            resp = requests.put(snapshot + name, data=b"build %d" % build, auth=login, timeout=10)
            assert resp.status_code in (200, 201), resp.text
    return w


@pytest.fixture
def root_page(srv, browser):  # noqa: F811
    context, page = sign_in_page(browser, srv, srv.root.name, srv.root.password,
                                 viewport={"width": 1280, "height": 900},
                                 permissions=["clipboard-read", "clipboard-write"])
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.dialogs, page.errors = dialogs, errors
    yield page
    context.close()


def search(page, query):
    box = page.get_by_role("textbox", name="Search files by name or checksum")
    box.fill(query)
    box.press("Enter")
    page.wait_for_url("**/ui/search?q=*")


def test_npm_page_from_a_name_search_with_a_hostile_readme(srv, world, root_page, tmp_path):
    page = root_page
    search(page, world["npm"])
    results = page.locator("#results")
    assert "%s-1.0.0.tgz" % world["npm"] in results.inner_text()
    page.locator("#results a[data-package]").first.click()
    page.wait_for_url("**/ui/packages/%s/%s" % (world["npm_repo"], world["npm"]))
    assert page.locator("[data-selected-version]").inner_text() == "1.0.0"
    versions = page.locator("#versions").inner_text()
    assert "1.0.0" in versions and "1.1.0" in versions
    tags = page.locator("#tags").inner_text()
    assert re.search(r"latest\s+1\.0\.0", tags) and re.search(r"beta\s+1\.1\.0", tags), tags
    deps = page.locator("#dependencies").inner_text()
    assert "left-pad" in deps and "^1.3.0" in deps and "react" in deps and "peer" in deps
    registry = srv.url("/artifactory/api/npm/%s/" % world["npm_repo"])
    assert page.locator("#snippet-install").inner_text() == "npm install %s@1.0.0" % world["npm"]
    assert page.locator("#snippet-npmrc").inner_text() == "registry=%s" % registry

    # Copy puts the snippet on the clipboard (the permission is granted to this context).
    page.get_by_role("button", name="Copy Install").click()
    page.wait_for_function("document.querySelector('[data-copy-status]').textContent.length > 0")
    assert page.evaluate("navigator.clipboard.readText()") == "npm install %s@1.0.0" % world["npm"]
    # The button is reachable from the keyboard: focus it and press Enter.
    page.get_by_role("button", name="Copy .npmrc").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("navigator.clipboard.readText().then(t => t.startsWith('registry='))")

    # The hostile README: the harmless markup rendered, nothing that runs survived.
    readme = page.locator("#readme")
    assert readme.locator("h1").inner_text() == "Hostile package"
    assert readme.locator("ul li").count() == 2
    assert "const answer = 42;" in readme.locator("pre code").inner_text()
    for selector in ("script", "iframe", "style", "form", "input", "svg", "[style]"):
        assert readme.locator(selector).count() == 0, selector
    handlers = page.evaluate("""() => [...document.querySelectorAll('#readme *')]
        .flatMap(e => [...e.attributes].map(a => a.name)).filter(n => n.startsWith('on'))""")
    assert handlers == []
    hrefs = page.evaluate("() => [...document.querySelectorAll('#readme [href], #readme [src]')]"
                          ".map(e => e.getAttribute('href') || e.getAttribute('src'))")
    assert not [h for h in hrefs if re.match(r"\s*(javascript|data|vbscript):", h, re.I)], hrefs
    link = readme.get_by_role("link", name="a plain link")
    assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert page.evaluate("window.__pwned") is None
    assert page.dialogs == []
    shot(page, "console-package-npm", tmp_path)

    # Another version through its link; its snippet follows.
    page.locator("#versions").get_by_role("link", name="1.1.0").click()
    assert page.locator("[data-selected-version]").inner_text() == "1.1.0"
    assert page.locator("#snippet-install").inner_text() == "npm install %s@1.1.0" % world["npm"]

    # A phone's width: one column, no horizontal scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.dialogs == [] and not [e for e in page.errors if "Content Security Policy" not in e]


def test_pypi_page_and_a_checksum_search(srv, world, root_page, tmp_path):
    page = root_page
    search(page, world["wheel_sha256"])
    assert page.locator("[data-search-by]").get_attribute("data-search-by") == "checksum"
    rows = page.locator("#results tbody tr")
    assert rows.count() == 1 and world["wheel_name"] in rows.inner_text()
    rows.get_by_role("link", name=world["wheel_name"], exact=True).click()
    page.wait_for_url("**/ui/packages/%s/%s" % (world["pypi_repo"], world["pypi_norm"]))
    # The newest version that is not yanked is shown; 1.0 carries its yank mark.
    assert page.locator("[data-selected-version]").inner_text() == "2.0"
    versions = page.locator("#versions").inner_text()
    assert "yanked: broken build" in versions
    readme = page.locator("#readme")
    assert readme.locator("h2").inner_text() == "Described in Markdown"
    assert readme.locator("ol li").count() == 2 and readme.locator("code").inner_text() == "inline code"
    assert "requires-python" in page.locator("#facts").inner_text()
    assert ">=3.9" in page.locator("#facts").inner_text()
    files = page.locator("#files").inner_text()
    assert world["wheel_name"] in files and world["wheel_sha256"] in files and ".tar.gz" in files
    index = srv.url("/artifactory/api/pypi/%s/simple/" % world["pypi_repo"])
    pip = page.locator("#snippet-pip").inner_text()
    prefix = "pip install --index-url %s " % index
    assert pip.startswith(prefix) and pip.endswith("==2.0"), pip
    assert re.sub(r"[-_.]+", "-", pip[len(prefix):-len("==2.0")]).lower() == world["pypi_norm"]
    shot(page, "console-package-pypi", tmp_path)
    page.locator("#versions").get_by_role("link", name="1.0").click()
    assert "yanked: broken build" in page.locator("#files").inner_text()

    # An MD5 (any case) finds the same file; a digest no file has finds nothing.
    page.goto(srv.url("/ui/search?q=%s" % world["wheel_md5"].upper()))
    assert world["wheel_name"] in page.locator("#results tbody").inner_text()
    page.goto(srv.url("/ui/search?q=%s" % ("0" * 64)))
    assert page.locator("#results tbody").inner_text().strip() == "Nothing found."
    page.goto(srv.url("/ui/search?q=%s" % world["npm"][:12]))
    shot(page, "console-search", tmp_path)


def test_a_description_that_is_not_markdown_is_shown_as_text(srv, project, login, tmp_path):
    repo = srv.create_repo(project, "pypi")
    name = unique("plain")
    rst = "Title\n=====\n\n<b>not bold</b> and `a link <javascript:alert(1)>`_\n"
    out = twine_upload(srv, repo, login, described_wheel(tmp_path, name, "1.0", rst, "text/x-rst"))
    assert out.returncode == 0, out.stdout + out.stderr
    s, _ = http_session(srv, srv.root.name, srv.root.password)
    resp = s.get(srv.url("/ui/packages/%s/%s" % (repo, name)), timeout=30)
    assert resp.status_code == 200, resp.text
    readme = re.search(r'<section class="card readme" id="readme"[^>]*>(.*?)</section>', resp.text, re.S).group(1)
    assert readme.startswith('<pre class="plain">Title\n=====')
    assert "&#60;b&#62;not bold&#60;/b&#62;" in readme and "<b>" not in readme and "href" not in readme


def test_cargo_page_versions_features_and_dependencies(srv, world, root_page):
    page = root_page
    page.goto(srv.url("/ui/packages/%s/%s" % (world["cargo_repo"], world["crate"])))
    assert page.locator("[data-selected-version]").inner_text() == "0.2.0"
    versions = page.locator("#versions").inner_text()
    assert "0.1.0" in versions and "yanked" in versions
    features = page.locator("#features").inner_text()
    assert "default" in features and "fast" in features and "dep:%s" % world["crate_base"] in features
    deps = page.locator("#dependencies").inner_text()
    assert world["crate_base"] in deps and "^1.0" in deps and "optional" in deps
    assert page.locator("#snippet-cargo-toml").inner_text() == (
        '[dependencies]\n%s = { version = "0.2.0", registry = "%s" }' % (world["crate"], world["cargo_repo"]))
    assert page.locator("#snippet-cargo-config").inner_text() == '[registries.%s]\nindex = "sparse+%s"' % (
        world["cargo_repo"], srv.url("/artifactory/api/cargo/%s/index/" % world["cargo_repo"]))
    # The repository's page lists its crates, linking to their pages.
    page.goto(srv.url("/ui/browse/%s/%s" % (world["project"], world["cargo_repo"])))
    packages = page.locator("#packages")
    assert packages.get_by_role("link", name=world["crate_base"]).count() == 1
    packages.get_by_role("link", name=world["crate"]).click()
    assert page.locator("[data-selected-version]").inner_text() == "0.2.0"


def test_maven_page_with_snapshot_builds(srv, world, root_page, tmp_path):
    page = root_page
    coordinate = "com.acme.console:%s" % world["artifact"]
    page.goto(srv.url("/ui/browse/%s/%s" % (world["project"], world["mvn_release"])))
    page.locator("#packages").get_by_role("link", name=coordinate).click()
    page.wait_for_url("**/ui/packages/%s/%s" % (world["mvn_release"], coordinate))
    assert page.locator("[data-selected-version]").inner_text() == "1.0"
    assert page.locator("#snippet-maven").inner_text() == textwrap.dedent("""\
        <dependency>
          <groupId>com.acme.console</groupId>
          <artifactId>%s</artifactId>
          <version>1.0</version>
        </dependency>""") % world["artifact"]
    assert 'implementation("%s:1.0")' % coordinate in page.locator("#snippet-gradle").inner_text()

    page.goto(srv.url("/ui/packages/%s/%s" % (world["mvn_snapshot"], coordinate)))
    assert page.locator("[data-selected-version]").inner_text() == "1.1-SNAPSHOT"
    assert "SNAPSHOT" in page.locator("#versions").inner_text()
    files = page.locator("#files").inner_text()
    assert "build 1 · 20261124.120001" in files and "build 2 · 20261124.120002" in files
    # A file's page in Browse links back to its package.
    page.locator("#files").get_by_role("link", name="%s-1.1-20261124.120002-2.jar" % world["artifact"]).click()
    page.locator("[data-package-link]").click()
    assert page.locator("[data-selected-version]").inner_text() == "1.1-SNAPSHOT"
    shot(page, "console-package-maven", tmp_path)


def test_no_download_no_package_page_and_no_search_hits(srv, world):
    outsider = srv.create_user()
    other_project = srv.create_project()
    srv.add_member(other_project, outsider.user_id, ROLE_VIEWER)
    s, _ = http_session(srv, outsider.name, outsider.password)
    for repo, name in ((world["npm_repo"], world["npm"]), (world["pypi_repo"], world["pypi"]),
                       (world["cargo_repo"], world["crate"]),
                       (world["mvn_release"], "com.acme.console:%s" % world["artifact"])):
        resp = s.get(srv.url("/ui/packages/%s/%s" % (repo, name)), timeout=30)
        assert resp.status_code in (403, 404), (repo, resp.status_code)
        # The refusal names what was asked for, and shows nothing of the package.
        assert "<h2>Versions</h2>" not in resp.text and "Install" not in resp.text
    resp = s.get(srv.url("/ui/search"), params={"q": world["npm"]}, timeout=30)
    assert resp.status_code == 200 and "Nothing found." in resp.text and world["npm_repo"] not in resp.text
    resp = s.get(srv.url("/ui/search"), params={"q": world["wheel_sha256"]}, timeout=30)
    assert resp.status_code == 200 and "Nothing found." in resp.text

    # A viewer of the project may download, so the same pages open for them.
    viewer = srv.create_user()
    srv.add_member(world["project"], viewer.user_id, ROLE_VIEWER)
    v, _ = http_session(srv, viewer.name, viewer.password)
    resp = v.get(srv.url("/ui/packages/%s/%s" % (world["npm_repo"], world["npm"])), timeout=30)
    assert resp.status_code == 200 and "npm install %s@1.0.0" % world["npm"] in resp.text


def test_bad_input_names_the_parameter(srv, world):
    s, _ = http_session(srv, srv.root.name, srv.root.password)
    base = "/ui/packages/%s/" % world["npm_repo"]
    cases = ((base + "Not..Valid", 400, "package"),
             (base + "%s?version=9.9.9" % world["npm"], 400, "version"),
             (base + "absent-package", 404, "absent-package"),
             ("/ui/packages/%s/nocolon" % world["mvn_release"], 400, "groupId:artifactId"),
             ("/ui/packages/no-such-repo/x", 404, "no-such-repo"),
             ("/ui/search?q=" + "x" * 129, 400, "q"),
             ("/ui/search?q=abc&page=0", 400, "page"))
    for path, status, word in cases:
        resp = s.get(srv.url(path), timeout=30)
        assert resp.status_code == status, (path, resp.status_code)
        assert word in resp.text, (path, resp.text[:300])
    # Every page keeps the console's CSP.
    resp = s.get(srv.url(base + world["npm"]), timeout=30)
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "<script>window.__pwned" not in resp.text and "onerror" not in resp.text
    assert json.dumps("javascript:") not in resp.text and "javascript:alert" not in resp.text
