"""Issue 14, the console's second slice, in Debian's headless Chromium against the real binary: the storage
page (totals, a chart per repository with a point per day, largest repositories and files), following a file,
access keys on "Me" (used to sign an SDK request, disabled, deleted) and the projects with their roles, editing
a repository's settings, deleting a file to the recycle bin and restoring it. A Viewer sees no Edit or Delete
buttons, and its forged requests (with its own CSRF token) are refused and change nothing. Screenshots, light
and dark, go to $ARCA_SCREENSHOTS if set, else to the test's tmp dir."""

import os
import re
from pathlib import Path

import requests

from harness import ROLE_DEVELOPER, ROLE_VIEWER, unique
from test_console import browser, http_session, pytestmark, shots_dir, sign_in_page  # noqa: F401 (fixture, marker)


def screenshots(page, tmp_path, name):
    """Light and dark screenshots; then, at a phone's width, the page must not scroll sideways."""
    for scheme in ("light", "dark"):
        page.emulate_media(color_scheme=scheme)
        page.screenshot(path=str(shots_dir(tmp_path) / ("console-%s-%s.png" % (name, scheme))), full_page=True)
    page.emulate_media(color_scheme="light")
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate("Array.from(document.querySelectorAll('*'))"
                         ".filter(e => e.getBoundingClientRect().right > 390).map(e => e.tagName).slice(0, 10)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, (name, wide)
    page.set_viewport_size(size)


def put(srv, login, repo, path, data):
    resp = requests.put(srv.url("/artifactory/%s/%s" % (repo, path)), data=data, auth=login, timeout=30)
    assert resp.status_code in (200, 201), resp.text


def repo_info(srv, repo):
    resp = srv.signed("GET", "/cloudartifact/v5/repositories/%s" % repo)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]


def attentions(srv, user):
    resp = srv.signed("GET", "/cloudartifact/v5/attention/artifacts", query={"page_size": "100"},
                      ak=user.ak, sk=user.sk)
    assert resp.status_code == 200, resp.text
    return [(a["repositoryName"], a["path"]) for a in resp.json()["result"]["data"]]


def test_storage_page_shows_totals_charts_and_the_largest(srv, project, login, browser, tmp_path):
    repo = srv.create_repo(project, "generic")
    put(srv, login, repo, "big/archive.bin", os.urandom(30_000))
    put(srv, login, repo, "small.txt", b"small\n")
    totals = srv.signed("GET", "/cloudartifact/v5/storage").json()["result"]
    listed = srv.signed("GET", "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, project),
                        query={"qname": repo}).json()["result"]["repositories"][0]

    context, page = sign_in_page(browser, srv, srv.root.name, srv.root.password,
                                 viewport={"width": 1280, "height": 900})
    page.get_by_role("link", name="Storage").click()
    page.wait_for_url("**/ui/storage")
    assert page.locator("[data-total-size]").inner_text() == totals["totalStorage"]
    assert page.locator("[data-total-files]").inner_text() == str(totals["totalCount"])

    page.goto(srv.url("/ui/storage?days=5&project=%s" % project))
    chart = page.locator("figure[data-chart='%s']" % repo)
    assert chart.count() == 1
    svg = chart.locator("svg.chart")
    assert svg.count() == 1 and svg.get_attribute("style") is None
    assert svg.locator("circle.point").count() == 5
    assert svg.locator("polyline").get_attribute("points").count(",") == 5
    # Today's point: the repository's size now, as list_all_repositories reports it.
    last = svg.locator("circle.point").last.locator("title").text_content()
    assert listed["storageSummaryInfo"]["usedSpace"] in last and "2 files" in last
    row = page.locator("#largest-repositories tr", has=page.get_by_role("link", name=repo, exact=True))
    assert listed["storageSummaryInfo"]["usedSpace"] in row.inner_text()
    first_file = page.locator("#largest-files tbody tr").first
    assert "%s/big/archive.bin" % repo in first_file.inner_text() and "29.30 KB" in first_file.inner_text()
    first_file.get_by_role("link").click()
    assert page.locator("dl.facts").inner_text().count("30000 bytes") == 1
    page.goto(srv.url("/ui/storage?days=5&project=%s" % project))
    screenshots(page, tmp_path, "storage")
    context.close()

    # Bad input is a 400 naming the parameter; a user of no project sees none of these bytes.
    s, _ = http_session(srv, srv.root.name, srv.root.password)
    resp = s.get(srv.url("/ui/storage?days=0"), timeout=30)
    assert resp.status_code == 400 and "days" in resp.text
    outsider = srv.create_user(with_key=False)
    s, _ = http_session(srv, outsider.name, outsider.password)
    page_html = s.get(srv.url("/ui/storage"), timeout=30).text
    assert repo not in page_html and 'data-total-files>0<' in page_html


def test_follow_a_file_and_find_it_in_followed(srv, project, login, browser, tmp_path):
    repo = srv.create_repo(project, "generic")
    put(srv, login, repo, "lib/app-1.0.jar", b"jar bytes")
    dev = srv.create_user()
    srv.add_member(project, dev.user_id, ROLE_DEVELOPER)
    context, page = sign_in_page(browser, srv, dev.name, dev.password)
    page.goto(srv.url("/ui/browse/%s/%s?path=lib/app-1.0.jar" % (project, repo)))
    page.get_by_role("button", name="☆ Follow").click()
    page.get_by_role("button", name="★ Following").wait_for()
    assert attentions(srv, dev) == [(repo, "/lib/app-1.0.jar")]

    page.get_by_role("link", name="Followed").click()
    link = page.get_by_role("link", name="%s/lib/app-1.0.jar" % repo)
    assert link.count() == 1
    screenshots(page, tmp_path, "followed")
    link.click()
    assert page.locator("h1.path").inner_text() == "lib/app-1.0.jar"

    # Unfollow from the Followed page: gone from the page and from the API's list.
    page.get_by_role("link", name="Followed").click()
    page.get_by_role("button", name="Unfollow %s/lib/app-1.0.jar" % repo).click()
    page.locator("#followed td.empty").wait_for()
    assert attentions(srv, dev) == []
    context.close()

    # Bad input names its parameter; nothing is followed.
    s, csrf = http_session(srv, dev.name, dev.password)
    resp = s.post(srv.url("/ui/follow"), data={"csrf": csrf, "id": "abc", "follow": "true"},
                  allow_redirects=False, timeout=30)
    assert resp.status_code == 400 and "ids[0]" in resp.text
    resp = s.post(srv.url("/ui/follow"), data={"csrf": csrf, "id": "1", "follow": "maybe"},
                  allow_redirects=False, timeout=30)
    assert resp.status_code == 400 and "attention" in resp.text
    assert attentions(srv, dev) == []


def test_me_access_keys_sign_requests_until_disabled_and_projects_show_roles(srv, project, browser, tmp_path):
    user = srv.create_user(with_key=False)
    srv.add_member(project, user.user_id, ROLE_DEVELOPER)
    listing = "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, project)
    context, page = sign_in_page(browser, srv, user.name, user.password)
    page.get_by_role("link", name="Me").click()
    row = page.locator("#projects tr", has=page.locator("a[href='/ui/repositories?project=%s']" % project))
    assert row.count() == 1 and "Developer" in row.inner_text()

    keys = page.locator("#access-keys")
    keys.get_by_label("Description").fill("laptop")
    keys.get_by_role("button", name="Create access key").click()
    ak = page.locator("[data-secret=access-key]").inner_text()
    sk = page.locator("[data-secret=secret-key]").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{20}", ak) and len(sk) == 40
    assert srv.signed("GET", listing, ak=ak, sk=sk).status_code == 200
    page.goto(srv.url("/ui/me"))
    assert page.locator("[data-secret]").count() == 0 and sk not in page.content()
    key_row = page.locator("tr[data-key='%s']" % ak)
    assert "laptop" in key_row.inner_text() and "active" in key_row.inner_text()
    screenshots(page, tmp_path, "me")

    key_row.get_by_role("button", name="Disable %s" % ak).click()
    page.wait_for_url("**done=key-disabled")
    assert "disabled" in page.locator("tr[data-key='%s']" % ak).inner_text()
    assert srv.signed("GET", listing, ak=ak, sk=sk).status_code == 401
    page.locator("tr[data-key='%s']" % ak).get_by_role("button", name="Enable %s" % ak).click()
    page.wait_for_url("**done=key-enabled")
    assert srv.signed("GET", listing, ak=ak, sk=sk).status_code == 200

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("tr[data-key='%s']" % ak).get_by_role("button", name="Delete %s" % ak).click()
    page.wait_for_url("**done=key-deleted")
    assert page.locator("tr[data-key='%s']" % ak).count() == 0
    assert srv.signed("GET", listing, ak=ak, sk=sk).status_code == 401
    keys_now = srv.signed("GET", "/v3.0/OS-CREDENTIAL/credentials", query={"user_id": user.user_id}).json()
    assert keys_now["credentials"] == []
    context.close()

    s, csrf = http_session(srv, user.name, user.password)
    resp = s.post(srv.url("/ui/me/keys"), data={"csrf": csrf, "description": "d" * 300}, timeout=30)
    assert resp.status_code == 400 and "credential.description" in resp.text
    assert srv.signed("GET", "/v3.0/OS-CREDENTIAL/credentials",
                      query={"user_id": user.user_id}).json()["credentials"] == []


def test_edit_repository_settings(srv, project, login, browser):
    repo = srv.create_repo(project, "generic")
    context, page = sign_in_page(browser, srv, srv.root.name, srv.root.password)
    page.goto(srv.url("/ui/repositories?project=%s" % project))
    page.get_by_role("link", name="Edit %s" % repo, exact=True).click()
    form = page.locator("#edit-repository")
    form.get_by_label("Description").fill("built by the console")
    form.get_by_label("Redeploy").select_option("disable_redeploy")
    form.get_by_role("button", name="Save").click()
    page.wait_for_url("**done=edited")
    info = repo_info(srv, repo)
    assert info["description"] == "built by the console"
    assert info["deploymentPolicy"] == "disable_redeploy"
    # The setting is the one uploads obey: a path is written once now.
    put(srv, login, repo, "once.txt", b"first")
    again = requests.put(srv.url("/artifactory/%s/once.txt" % repo), data=b"second", auth=login, timeout=30)
    assert again.status_code >= 400
    # The form shows the saved values.
    page.get_by_role("link", name="Edit %s" % repo, exact=True).click()
    assert page.locator("#edit-repository").get_by_label("Description").input_value() == "built by the console"
    context.close()

    s, csrf = http_session(srv, srv.root.name, srv.root.password)
    resp = s.post(srv.url("/ui/repositories/edit"), data={"csrf": csrf, "id": info["id"],
                                                           "includes_pattern": "x" * 600},
                  allow_redirects=False, timeout=30)
    assert resp.status_code == 400 and "includes_pattern" in resp.text
    assert repo_info(srv, repo)["description"] == "built by the console"
    assert s.get(srv.url("/ui/repositories/edit"), timeout=30).status_code == 400


def test_delete_a_file_to_the_bin_and_restore_it(srv, project, login, browser, tmp_path):
    repo = srv.create_repo(project, "generic")
    data = os.urandom(4096)
    put(srv, login, repo, "dist/tool.tar.gz", data)
    url = srv.url("/artifactory/%s/dist/tool.tar.gz" % repo)
    context, page = sign_in_page(browser, srv, srv.root.name, srv.root.password)
    page.goto(srv.url("/ui/browse/%s/%s?path=dist/tool.tar.gz" % (project, repo)))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete", exact=True).click()
    page.wait_for_url("**done=file-deleted")
    assert requests.get(url, auth=login, timeout=30).status_code == 404
    restore = page.get_by_role("button", name="Restore %s/dist/tool.tar.gz" % repo, exact=True)
    assert restore.count() == 1
    screenshots(page, tmp_path, "bin")
    restore.click()
    page.wait_for_url("**done=file-restored")
    assert page.get_by_role("button", name="Restore %s/dist/tool.tar.gz" % repo).count() == 0
    resp = requests.get(url, auth=login, timeout=30)
    assert resp.status_code == 200 and resp.content == data
    context.close()


def test_a_viewer_sees_no_edit_or_delete_and_its_forged_posts_change_nothing(srv, project, login, browser):
    repo = srv.create_repo(project, "generic")
    put(srv, login, repo, "keep.txt", b"keep")
    put(srv, login, repo, "binned.txt", b"binned")
    url = srv.url("/artifactory/%s/keep.txt" % repo)
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    repo_id = repo_info(srv, repo)["id"]

    context, page = sign_in_page(browser, srv, viewer.name, viewer.password)
    page.goto(srv.url("/ui/repositories?project=%s" % project))
    assert page.get_by_role("link", name=repo, exact=True).count() == 1
    assert page.get_by_role("link", name="Edit %s" % repo).count() == 0
    page.goto(srv.url("/ui/browse/%s/%s?path=keep.txt" % (project, repo)))
    assert page.get_by_role("link", name="Download").count() == 1
    assert page.get_by_role("button", name="Delete").count() == 0
    context.close()

    s, csrf = http_session(srv, viewer.name, viewer.password)

    def refused(path, data):
        resp = s.post(srv.url(path), data=dict(data, csrf=csrf), allow_redirects=False, timeout=30)
        assert resp.status_code == 403, (path, resp.status_code, resp.text)

    refused("/ui/files/delete", {"repo": repo, "path": "keep.txt"})
    assert requests.get(url, auth=login, timeout=30).content == b"keep"
    assert s.get(srv.url("/ui/repositories/edit?id=%s" % repo_id), timeout=30).status_code == 403
    refused("/ui/repositories/edit", {"id": repo_id, "description": "defaced"})
    assert repo_info(srv, repo)["description"] != "defaced"
    # A file root deleted stays in the bin however the viewer asks.
    gone = srv.signed("DELETE", "/cloudartifact/v5/file", body={"path": "/%s/binned.txt" % repo})
    assert gone.status_code == 200, gone.text
    refused("/ui/files/restore", {"repo_id": repo_id, "path": "binned.txt"})
    assert requests.get(srv.url("/artifactory/%s/binned.txt" % repo), auth=login, timeout=30).status_code == 404
    # Another user's access key is not the viewer's to disable or delete.
    refused("/ui/me/keys/status", {"access": srv.root.ak, "status": "inactive"})
    refused("/ui/me/keys/delete", {"access": srv.root.ak})
    assert srv.signed("GET", "/cloudartifact/v5/repositories/%s" % repo).status_code == 200
    # Without the session's token nothing is even tried.
    resp = s.post(srv.url("/ui/files/delete"), data={"repo": repo, "path": "keep.txt"}, allow_redirects=False,
                  timeout=30)
    assert resp.status_code == 403
    assert requests.get(url, auth=login, timeout=30).content == b"keep"


def test_edit_a_remote_repositorys_upstream_keeps_its_password(srv, project, browser):
    name = unique("remote")
    resp = srv.signed("POST", "/cloudartifact/v5/artifact/", body={
        "format": "generic", "type": "remote", "repository_name": name, "project_id": project,
        "remote_url": "http://127.0.0.1:9/a/", "user_name": "mirror", "password": "pw-upstream"})
    assert resp.status_code == 200, resp.text
    context, page = sign_in_page(browser, srv, srv.root.name, srv.root.password)
    page.goto(srv.url("/ui/repositories?project=%s" % project))
    page.get_by_role("link", name="Edit %s" % name, exact=True).click()
    form = page.locator("#edit-repository")
    assert form.get_by_label("Password", exact=True).input_value() == ""
    form.get_by_label("Remote URL").fill("http://127.0.0.1:9/b/")
    form.get_by_label("Metadata cache (seconds)").fill("120")
    form.get_by_role("button", name="Save").click()
    page.wait_for_url("**done=edited")
    info = repo_info(srv, name)
    assert info["remoteUrl"].rstrip("/") == "http://127.0.0.1:9/b"
    assert info["metadataMaxAgeSecs"] == 120 and info["userName"] == "mirror"
    assert info["passwordSet"] is True and info["password"] == ""
    # Removing the password is a choice of its own.
    page.get_by_role("link", name="Edit %s" % name, exact=True).click()
    page.locator("#edit-repository").get_by_label("Remove the password").check()
    page.locator("#edit-repository").get_by_role("button", name="Save").click()
    page.wait_for_url("**done=edited")
    assert repo_info(srv, name)["passwordSet"] is False
    context.close()
