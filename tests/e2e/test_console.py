"""Issue 14: the web console, driven in Debian's headless Chromium through Playwright against the real binary.
Sign in, list and create repositories, browse a file published with a real client, delete a repository to
the bin and restore it; a Viewer sees no buttons it may not use; forged state-changing requests (no CSRF
token, another session's token, another origin) are refused; sign-out kills the cookie; the failure limiter
and the IP allow-list apply; "Me" resets the repo password (used with a real client) and issues and revokes
tickets. Screenshots, light and dark, go to the test's tmp dir."""

import hashlib
import os
import re
import shutil
from pathlib import Path

import pytest
import requests

from harness import ROLE_DEVELOPER, ROLE_VIEWER, unique

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="Debian's chromium is not installed (scripts/test.sh installs it)")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        # As root in a container Chromium's sandbox cannot start; the pages are the test's own server's.
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def shots_dir(tmp_path) -> Path:
    """Where screenshots go: $ARCA_SCREENSHOTS (the test command sets target/screenshots), else tmp_path."""
    path = Path(os.environ.get("ARCA_SCREENSHOTS") or tmp_path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def sign_in_page(browser, srv, user_name, password, **context_args):
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.goto(srv.url("/"))
    page.get_by_label("Account (domain) name").fill(srv.domain_name)
    page.get_by_label("User name").fill(user_name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/ui/repositories")
    return context, page


def http_session(srv, user_name, password):
    """A console session held by `requests` (no Origin header: not a browser), and its CSRF token."""
    s = requests.Session()
    resp = s.post(srv.url("/ui/sign-in"), data={"domain": srv.domain_name, "user": user_name,
                                                 "password": password}, allow_redirects=False, timeout=30)
    assert resp.status_code == 303, resp.text
    page = s.get(srv.url("/ui/repositories"), timeout=30)
    assert page.status_code == 200
    return s, CSRF.search(page.text).group(1)


def repo_status(srv, project, name):
    resp = srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, project),
                      query={"is_need_paging": "false", "qname": name})
    live = [r["name"] for r in resp.json()["result"]["repositories"]]
    resp = srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, project),
                      query={"is_need_paging": "false", "qname": name, "is_recycle_bin": "true"})
    binned = [r["name"] for r in resp.json()["result"]["repositories"]]
    return "active" if name in live else "bin" if name in binned else "absent"


def test_sign_in_create_browse_delete_restore(srv, project, login, browser, tmp_path):
    context, page = sign_in_page(browser, srv, srv.root.name, srv.root.password,
                                 viewport={"width": 1280, "height": 800})
    cookie = [c for c in context.cookies() if c["name"] == "arca_session"][0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert "arca_session" not in page.evaluate("document.cookie")

    name = unique("console")
    create = page.locator("#create")
    create.get_by_label("Project").select_option(project)
    create.get_by_label("Format").select_option("generic")
    create.get_by_label("Name").fill(name)
    create.get_by_role("button", name="Create").click()
    page.wait_for_url("**done=created")
    row = page.locator("tr", has=page.get_by_role("link", name=name, exact=True))
    assert row.count() == 1
    assert "generic" in row.inner_text() and "hosted" in row.inner_text()
    assert repo_status(srv, project, name) == "active"

    # A file published with a real HTTP client shows in the tree with its facts.
    data = b"hello from the console test\n"
    resp = requests.put(srv.url("/artifactory/%s/docs/hello.txt" % name), data=data, auth=login, timeout=30)
    assert resp.status_code in (200, 201), resp.text
    page.reload()
    row = page.locator("tr", has=page.get_by_role("link", name=name, exact=True))
    assert "1" in row.locator("td[data-label=Files]").inner_text()
    page.get_by_role("link", name=name, exact=True).click()
    page.get_by_role("link", name="docs/").click()
    page.get_by_role("link", name="hello.txt").click()
    assert page.locator("[data-checksum=sha256]").inner_text() == hashlib.sha256(data).hexdigest()
    facts = page.locator("dl.facts").inner_text()
    assert "%d bytes" % len(data) in facts and srv.root.name in facts
    href = page.get_by_role("link", name="Download").get_attribute("href")
    assert href.endswith("/artifactory/%s/docs/hello.txt" % name)
    assert requests.get(href, auth=login, timeout=30).content == data
    page.screenshot(path=str(shots_dir(tmp_path) / "console-file-light.png"), full_page=True)

    page.goto(srv.url("/ui/repositories?project=%s" % project))
    page.screenshot(path=str(shots_dir(tmp_path) / "console-repositories-light.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(shots_dir(tmp_path) / "console-repositories-dark.png"), full_page=True)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(247, 247, 248)"
    page.emulate_media(color_scheme="light")

    # Delete to the bin (confirmed in the dialog), then restore from it.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete %s" % name, exact=True).click()
    page.wait_for_url("**done=deleted")
    assert page.get_by_role("link", name=name, exact=True).count() == 0
    assert repo_status(srv, project, name) == "bin"
    page.get_by_role("link", name="Recycle bin").click()
    page.get_by_role("button", name="Restore %s" % name, exact=True).click()
    page.wait_for_url("**done=restored")
    assert page.get_by_role("link", name=name, exact=True).count() == 1
    assert repo_status(srv, project, name) == "active"

    # A phone's width: still one page, the table laid out as cards, no horizontal scrolling.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(shots_dir(tmp_path) / "console-phone-light.png"), full_page=True)
    context.close()

    # The console's changes are in the audit log as the API operations they are, by the signed-in user.
    resp = srv.signed("GET", "/cloudartifact/v5/%s/all/all/all/audit" % srv.domain_id,
                      query={"page_size": "100"})
    assert resp.status_code == 200, resp.text
    ops = {(e["operation"], e["operator"]) for e in resp.json()["result"]["auditInfoList"]
           if name in (e["info"] or "") + (e["data"] or "")}
    assert {("createRepository", srv.root.name), ("deleteRepository", srv.root.name),
            ("restore", srv.root.name)} <= ops, ops


def test_the_create_form_makes_hosted_remote_and_virtual_go_repositories(srv, project, browser):
    context, page = sign_in_page(browser, srv, srv.root.name, srv.root.password)
    names = {kind: unique("go" + kind) for kind in ("hosted", "remote", "virtual")}
    # A loopback upstream, which this server's address policy refuses: reads through it fail the same way
    # offline and online.
    fields = {"hosted": {}, "remote": {"Remote URL": "http://127.0.0.1:9"},
              "virtual": {"Members": "%s, %s" % (names["hosted"], names["remote"])}}
    for kind, name in names.items():
        create = page.locator("#create")
        create.get_by_label("Project").select_option(project)
        create.get_by_label("Format").select_option("go")
        create.get_by_label("Kind").select_option(kind)
        create.get_by_label("Name").fill(name)
        for label, value in fields[kind].items():
            create.get_by_label(label).fill(value)
        create.get_by_role("button", name="Create").click()
        page.wait_for_url("**done=created")
        row = page.locator("tr", has=page.get_by_role("link", name=name, exact=True))
        assert row.count() == 1
        assert "go" in row.inner_text() and kind in row.inner_text(), row.inner_text()
    shown = srv.signed("GET", "/cloudartifact/v5/repositories/%s" % names["virtual"]).json()["result"]
    assert shown["url"].endswith("/artifactory/api/go/%s" % names["virtual"])
    listed = requests.get(srv.url("/artifactory/api/go/%s/example.com/none/@v/list" % names["virtual"]),
                          auth=srv.repo_login(), timeout=30)
    assert listed.status_code == 502 and "127.0.0.1" in listed.text, "the remote member is consulted"
    # A field that does not fit the kind is refused by its name.
    create = page.locator("#create")
    create.get_by_label("Format").select_option("go")
    create.get_by_label("Kind").select_option("hosted")
    create.get_by_label("Name").fill(unique("gostray"))
    create.get_by_label("Remote URL").fill("https://proxy.golang.org")
    create.get_by_role("button", name="Create").click()
    assert "remote_url" in page.content()
    context.close()


def test_a_viewer_sees_no_buttons_and_forged_posts_are_refused(srv, project, browser):
    repo = srv.create_repo(project, "generic")
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)

    context, page = sign_in_page(browser, srv, viewer.name, viewer.password)
    page.goto(srv.url("/ui/repositories?project=%s" % project))
    assert page.get_by_role("link", name=repo, exact=True).count() == 1
    assert page.get_by_role("button", name="Delete %s" % repo).count() == 0
    assert page.locator("#create").count() == 0
    context.close()

    root, root_csrf = http_session(srv, srv.root.name, srv.root.password)
    other, viewer_csrf = http_session(srv, viewer.name, viewer.password)
    repo_id = srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, project),
                         query={"qname": repo}).json()["result"]["repositories"][0]["id"]
    delete = srv.url("/ui/repositories/delete")
    # Root may delete, but not without its session's token, nor with another session's, nor from a page of
    # another origin even with the right token.
    for data, headers in (({"id": repo_id}, {}),
                          ({"id": repo_id, "csrf": viewer_csrf}, {}),
                          ({"id": repo_id, "csrf": "x" * 43}, {}),
                          ({"id": repo_id, "csrf": root_csrf}, {"Origin": "http://evil.example"}),
                          ({"id": repo_id, "csrf": root_csrf}, {"Sec-Fetch-Site": "cross-site"})):
        resp = root.post(delete, data=data, headers=headers, allow_redirects=False, timeout=30)
        assert resp.status_code == 403, (data.keys(), headers, resp.status_code)
        assert repo_status(srv, project, repo) == "active"
    # The viewer's own well-formed request is refused by the privilege engine, as the API would.
    resp = other.post(delete, data={"id": repo_id, "csrf": viewer_csrf}, allow_redirects=False, timeout=30)
    assert resp.status_code == 403
    resp = other.post(srv.url("/ui/repositories"), data={"csrf": viewer_csrf, "project_id": project,
                                                          "format": "generic", "name": unique("nope")},
                      allow_redirects=False, timeout=30)
    assert resp.status_code == 403
    assert repo_status(srv, project, repo) == "active"
    # With the token and this server's origin, the same request goes through.
    resp = root.post(delete, data={"id": repo_id, "csrf": root_csrf}, headers={"Origin": srv.base_url},
                     allow_redirects=False, timeout=30)
    assert resp.status_code == 303
    assert repo_status(srv, project, repo) == "bin"


def test_sign_out_invalidates_the_cookie_and_bad_passwords_get_no_session(srv):
    s, csrf = http_session(srv, srv.root.name, srv.root.password)
    value = s.cookies["arca_session"]
    resp = s.post(srv.url("/ui/sign-out"), data={"csrf": csrf}, allow_redirects=False, timeout=30)
    assert resp.status_code == 303 and "Max-Age=0" in resp.headers["Set-Cookie"]
    # The old cookie, presented again, opens nothing: pages send the browser to the sign-in form.
    resp = requests.get(srv.url("/ui/repositories"), cookies={"arca_session": value}, allow_redirects=False,
                        timeout=30)
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    resp = requests.post(srv.url("/ui/sign-out"), cookies={"arca_session": value}, data={"csrf": csrf},
                         allow_redirects=False, timeout=30)
    assert resp.status_code == 401

    resp = requests.post(srv.url("/ui/sign-in"), data={"domain": srv.domain_name, "user": srv.root.name,
                                                        "password": "wrong-" + srv.root.password},
                         allow_redirects=False, timeout=30)
    assert resp.status_code == 401 and "Set-Cookie" not in resp.headers
    assert "Sign-in failed" in resp.text
    resp = requests.post(srv.url("/ui/sign-in"), data={"user": srv.root.name}, allow_redirects=False, timeout=30)
    assert resp.status_code == 400 and "body" in resp.text and "Set-Cookie" not in resp.headers


class FromAddress(requests.adapters.HTTPAdapter):
    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


def test_sign_in_failures_are_limited_and_the_allow_list_applies_to_sessions(start_arca):
    srv = start_arca(["--auth-failure-limit", "3", "--auth-failure-window-secs", "60"])
    form = {"domain": srv.domain_name, "user": srv.root.name, "password": srv.root.password}
    far = requests.Session()
    far.mount("http://", FromAddress("127.0.0.2"))
    resp = far.post(srv.url("/ui/sign-in"), data=form, allow_redirects=False, timeout=30)
    assert resp.status_code == 303
    assert far.get(srv.url("/ui/repositories"), allow_redirects=False, timeout=30).status_code == 200

    rule = srv.signed("POST", "/cloudartifact/v5/domain/ipconfig", body={"value": "127.0.0.1"})
    assert rule.status_code == 200, rule.text
    try:
        # A session made from an address the allow-list now leaves out opens nothing from there.
        assert far.get(srv.url("/ui/repositories"), allow_redirects=False, timeout=30).status_code == 403
        again = far.post(srv.url("/ui/sign-in"), data=form, allow_redirects=False, timeout=30)
        assert again.status_code == 403 and "Set-Cookie" not in again.headers
        # From an address on the list, signing in still works.
        assert requests.post(srv.url("/ui/sign-in"), data=form, allow_redirects=False,
                             timeout=30).status_code == 303
    finally:
        deleted = srv.signed("DELETE", "/cloudartifact/v5/domain/ipconfig/%s" % rule.json()["result"]["id"])
        assert deleted.status_code == 200

    # The same failure limiter as the IAM password flow: after 3 failures the right password is refused too.
    wrong = dict(form, password="wrong-" + srv.root.password)
    for _ in range(3):
        resp = requests.post(srv.url("/ui/sign-in"), data=wrong, allow_redirects=False, timeout=30)
        assert resp.status_code == 401
    resp = requests.post(srv.url("/ui/sign-in"), data=form, allow_redirects=False, timeout=30)
    assert resp.status_code == 429 and "Retry-After" in resp.headers and "Set-Cookie" not in resp.headers


def test_me_resets_the_repo_password_and_issues_and_revokes_tickets(srv, project, browser, tmp_path):
    repo = srv.create_repo(project, "generic")
    dev = srv.create_user()
    srv.add_member(project, dev.user_id, ROLE_DEVELOPER)
    context, page = sign_in_page(browser, srv, dev.name, dev.password)
    page.get_by_role("link", name="Me").click()
    repo_user = page.locator("[data-repo-user]").inner_text()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset repo password").click()
    password = page.locator("[data-secret=repo-password]").inner_text()
    url = srv.url("/artifactory/%s/me/one.txt" % repo)
    resp = requests.put(url, data=b"one", auth=(repo_user, password), timeout=30)
    assert resp.status_code in (200, 201), resp.text
    # Reset again: the first password stops working, the new one works.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Reset repo password").click()
    second = page.locator("[data-secret=repo-password]").inner_text()
    assert second != password
    assert requests.get(url, auth=(repo_user, password), timeout=30).status_code == 401
    assert requests.get(url, auth=(repo_user, second), timeout=30).content == b"one"
    # A reload shows the password no more.
    page.goto(srv.url("/ui/me"))
    assert page.locator("[data-secret]").count() == 0

    tickets = page.locator("#tickets")
    tickets.get_by_label("Scope (optional)").fill("/%s" % repo)
    tickets.get_by_label("Uses").fill("5")
    tickets.get_by_role("button", name="Issue ticket").click()
    ticket = page.locator("[data-secret=ticket]").inner_text()
    bearer = {"Authorization": "Bearer " + ticket}
    assert requests.get(url, headers=bearer, timeout=30).content == b"one"
    row = page.locator("#tickets tbody tr")
    # Listed with its scope, one of its 5 uses spent (the page was rendered before the download: reload).
    page.goto(srv.url("/ui/me"))
    row = page.locator("#tickets tbody tr")
    assert row.count() == 1 and "/%s" % repo in row.inner_text()
    assert row.locator("td.num").inner_text().strip() == "4"
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(shots_dir(tmp_path) / "console-me-dark.png"), full_page=True)
    row.get_by_role("button", name=re.compile("^Revoke ")).click()
    page.wait_for_url("**done=revoked")
    assert page.locator("#tickets tbody tr td.empty").count() == 1
    assert requests.get(url, headers=bearer, timeout=30).status_code == 401
    context.close()
