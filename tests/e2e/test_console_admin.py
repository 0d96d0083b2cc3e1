"""Issue 14: the console's Administration pages (users, groups, projects and members, role grants), driven
in Debian's headless Chromium against the real binary; every change is checked through the signed API.
A Viewer sees no Administration link, gets 403 for each page, and its forged posts (with its own valid CSRF
token) are refused by the API handlers and change nothing; posts without the token or from another origin
are refused even for root. Screenshots, light and dark, go to $ARCA_SCREENSHOTS or the test's tmp dir."""

import shutil

import pytest
import requests

from harness import ROLE_DEVELOPER, ROLE_VIEWER, new_password, unique
from test_console import CHROMIUM, browser, http_session, shots_dir, sign_in_page  # noqa: F401 (browser: a fixture)

pytestmark = pytest.mark.skipif(shutil.which(CHROMIUM) is None,
                                reason="Debian's chromium is not installed (scripts/test.sh installs it)")

DEVELOPER = "b87f4425770344beb186878820e3cbc2"  # the built-in Developer role's id (authz/roles.rs)


def iam_user(srv, name):
    resp = srv.signed("GET", "/v3/users", query={"name": name})
    assert resp.status_code == 200, resp.text
    users = resp.json()["users"]
    return users[0] if users else None


def iam_group(srv, name):
    resp = srv.signed("GET", "/v3/groups", query={"name": name})
    assert resp.status_code == 200, resp.text
    groups = resp.json()["groups"]
    return groups[0] if groups else None


def group_member_names(srv, group_id):
    resp = srv.signed("GET", "/v3/groups/%s/users" % group_id)
    assert resp.status_code == 200, resp.text
    return {u["name"] for u in resp.json()["users"]}


def member_roles(srv, project):
    resp = srv.signed("GET", "/v4/projects/%s/members" % project, query={"limit": "100"})
    assert resp.status_code == 200, resp.text
    return {m["user_name"]: m["role_id"] for m in resp.json()["members"]}


def project_exists(srv, project):
    return srv.signed("GET", "/v4/projects/%s" % project).status_code == 200


def signs_in(srv, name, password):
    resp = requests.post(srv.url("/ui/sign-in"), data={"domain": srv.domain_name, "user": name,
                                                       "password": password}, allow_redirects=False, timeout=30)
    assert resp.status_code in (303, 401), resp.text
    return resp.status_code == 303


def phone_fits(page, shot=None):
    page.set_viewport_size({"width": 390, "height": 844})
    fits = page.evaluate("document.documentElement.scrollWidth") <= 390
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    return fits


def test_root_administers_users_groups_projects_members_and_grants(srv, browser, tmp_path):
    shots = shots_dir(tmp_path)
    context, page = sign_in_page(browser, srv, srv.root.name, srv.root.password,
                                 viewport={"width": 1280, "height": 800})
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url("**/ui/admin/users")

    # Users: create (with an e-mail), disable, enable, set a password.
    name, first_password = unique("adm"), new_password()
    form = page.locator("#create-user")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Password").fill(first_password)
    form.get_by_label("E-mail (optional)").fill("%s@example.com" % name)
    form.get_by_role("button", name="Create user").click()
    page.wait_for_url("**done=created")
    row = page.locator("tr[data-user='%s']" % name)
    assert row.count() == 1 and "yes" in row.inner_text() and "%s@example.com" % name in row.inner_text()
    user = iam_user(srv, name)
    assert user is not None and user["enabled"] is True and user["id"] in row.inner_text()

    page.get_by_role("button", name="Disable %s" % name, exact=True).click()
    page.wait_for_url("**done=disabled")
    assert iam_user(srv, name)["enabled"] is False
    page.get_by_role("button", name="Enable %s" % name, exact=True).click()
    page.wait_for_url("**done=enabled")
    assert iam_user(srv, name)["enabled"] is True

    password = new_password()
    page.locator("tr[data-user='%s'] summary" % name).click()
    page.get_by_label("New password for %s" % name).fill(password)
    page.get_by_role("button", name="Set password").click()
    page.wait_for_url("**done=password")
    assert not signs_in(srv, name, first_password) and signs_in(srv, name, password)

    page.screenshot(path=str(shots / "admin-users-light.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(shots / "admin-users-dark.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    assert phone_fits(page, shots / "admin-users-phone.png")

    # Groups: create one, add the user.
    page.locator("nav.subnav").get_by_role("link", name="Groups").click()
    group = unique("grp")
    form = page.locator("#create-group")
    form.get_by_label("Name").fill(group)
    form.get_by_label("Description").fill("made in the console")
    form.get_by_role("button", name="Create group").click()
    page.wait_for_url("**done=created")
    group_id = iam_group(srv, group)["id"]
    page.get_by_label("User to add to %s" % group, exact=True).select_option(label=name)
    page.get_by_role("button", name="Add to %s" % group, exact=True).click()
    page.wait_for_url("**done=added")
    assert group_member_names(srv, group_id) == {name}
    assert name in page.locator("tr[data-group='%s']" % group).inner_text()
    assert phone_fits(page)

    # Projects: create one, open it, add the user as Developer, change the role to Viewer.
    page.locator("nav.subnav").get_by_role("link", name="Projects").click()
    project_name = unique("proj")
    form = page.locator("#create-project")
    form.get_by_label("Name").fill(project_name)
    form.get_by_role("button", name="Create project").click()
    page.wait_for_url("**done=created")
    assert phone_fits(page)
    page.get_by_role("link", name=project_name, exact=True).click()
    page.wait_for_url("**/ui/admin/projects/*")
    project = page.url.rsplit("/", 1)[1]
    assert project_exists(srv, project) and len(project) == 32

    form = page.locator("#add-member")
    form.get_by_label("User").select_option(label=name)
    form.get_by_label("Role").select_option(label="Developer")
    form.get_by_role("button", name="Add member").click()
    page.wait_for_url("**done=added")
    assert member_roles(srv, project)[name] == ROLE_DEVELOPER
    page.get_by_label("Role of %s" % name, exact=True).select_option(label="Viewer")
    page.get_by_role("button", name="Change the role of %s" % name).click()
    page.wait_for_url("**done=role")
    assert member_roles(srv, project)[name] == ROLE_VIEWER

    # Role grants: take `delete` away from Developer in this project; a Developer's privileges show it.
    dev = srv.create_user()
    srv.add_member(project, dev.user_id, ROLE_DEVELOPER)
    assert srv.privileges(dev, project)["operations"] == "download,upload,delete,restore"
    grants = page.locator("#grants-%s" % DEVELOPER)
    assert "/*: download upload delete restore" in " ".join(grants.locator("summary").inner_text().split())
    grants.locator("summary").click()
    first = grants.locator("fieldset.grant").first
    assert first.get_by_label("Path").input_value() == "/*"
    first.get_by_label("delete", exact=True).uncheck()
    grants.get_by_role("button", name="Save the grants of Developer").click()
    page.wait_for_url("**done=grants")
    assert srv.privileges(dev, project)["operations"] == "download,upload,restore"
    grants = page.locator("#grants-%s" % DEVELOPER)
    assert "/*: download upload restore" in " ".join(grants.locator("summary").inner_text().split())
    grants.locator("summary").click()
    first = grants.locator("fieldset.grant").first
    assert not first.get_by_label("delete", exact=True).is_checked()
    assert first.get_by_label("upload", exact=True).is_checked()

    page.screenshot(path=str(shots / "admin-project-members-light.png"), full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=str(shots / "admin-project-members-dark.png"), full_page=True)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != "rgb(247, 247, 248)"
    page.emulate_media(color_scheme="light")
    assert phone_fits(page)

    # The new user signs in with the password root set; holding no IAM rights, they see no Administration.
    user_context, user_page = sign_in_page(browser, srv, name, password)
    assert user_page.get_by_role("link", name="Administration").count() == 0
    user_context.close()

    # Deletes, each confirmed in the dialog: the member, the group, the user, the (empty) project.
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove %s" % name, exact=True).click()
    page.wait_for_url("**done=removed")
    assert name not in member_roles(srv, project)
    page.goto(srv.url("/ui/admin/groups"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete %s" % group, exact=True).click()
    page.wait_for_url("**done=deleted")
    assert iam_group(srv, group) is None
    page.goto(srv.url("/ui/admin/users"))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete %s" % name, exact=True).click()
    assert iam_user(srv, name) is not None  # dismissed: nothing sent
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete %s" % name, exact=True).click()
    page.wait_for_url("**done=deleted")
    assert iam_user(srv, name) is None
    srv.signed("DELETE", "/v4/projects/%s/members" % project, body={"user_ids": [dev.user_id]})
    page.goto(srv.url("/ui/admin/projects"))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete %s" % project_name, exact=True).click()
    page.wait_for_url("**done=deleted")
    assert not project_exists(srv, project)
    context.close()


def test_bad_input_is_a_400_naming_the_parameter(srv, project):
    root, csrf = http_session(srv, srv.root.name, srv.root.password)
    cases = (
        ("/ui/admin/users", {"name": "1starts-with-digit", "password": new_password()}, "user.name"),
        ("/ui/admin/users", {"name": unique("u"), "password": "short"}, "user.password"),
        ("/ui/admin/users/enabled", {"id": "x", "enabled": "maybe"}, "enabled"),
        ("/ui/admin/users/delete", {"id": "not-hex"}, "user_id"),
        ("/ui/admin/groups/members", {"group_id": "g", "user_id": "u"}, "group_id"),
        ("/ui/admin/projects/%s/members" % project, {"user_id": "a" * 32, "role_id": "boss"}, "role_id"),
        ("/ui/admin/projects/%s/members" % project, {"user_id": "a" * 32, "role_id": "-1"}, "role_id"),
        ("/ui/admin/projects/%s/grants" % project,
         {"role_id": DEVELOPER, "g0_path": "/a/../b", "g0_download": "on"}, "granted_object_path"),
        ("/ui/admin/projects/%s/grants" % project, {"role_id": DEVELOPER, "g0_path": ""}, "privileges"),
        ("/ui/admin/projects/%s/grants" % project, {"role_id": "f" * 32, "g0_path": "/*"}, "role_id"),
    )
    for path, data, param in cases:
        resp = root.post(srv.url(path), data=dict(data, csrf=csrf), allow_redirects=False, timeout=30)
        assert resp.status_code == 400 and param in resp.text, (path, param, resp.status_code)
    resp = root.get(srv.url("/ui/admin/projects/short"), timeout=30)
    assert resp.status_code == 400 and "project_id" in resp.text


def test_a_viewer_sees_no_administration_and_its_forged_posts_change_nothing(srv, project, browser):
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    victim = srv.create_user()
    srv.add_member(project, victim.user_id, ROLE_DEVELOPER)
    group = unique("grp")
    group_id = srv.create_group(group)
    srv.add_to_group(group_id, victim.user_id)
    stranger = srv.create_user()
    project_count = len(srv.signed("GET", "/v4/projects", query={"limit": "1000"}).json()["projects"])
    before = srv.privileges(victim, project)

    context, page = sign_in_page(browser, srv, viewer.name, viewer.password)
    assert page.get_by_role("link", name="Administration").count() == 0
    context.close()

    session, csrf = http_session(srv, viewer.name, viewer.password)
    for path in ("/ui/admin", "/ui/admin/users", "/ui/admin/groups", "/ui/admin/projects",
                 "/ui/admin/projects/%s" % project):
        resp = session.get(srv.url(path), allow_redirects=False, timeout=30)
        assert resp.status_code == 403 and "Error 403" in resp.text, (path, resp.status_code)

    forged = (
        ("/ui/admin/users", {"name": unique("forged"), "password": new_password()}),
        ("/ui/admin/users/enabled", {"id": victim.user_id, "enabled": "false"}),
        ("/ui/admin/users/password", {"id": victim.user_id, "password": new_password()}),
        ("/ui/admin/users/delete", {"id": victim.user_id}),
        ("/ui/admin/groups", {"name": unique("forged")}),
        ("/ui/admin/groups/delete", {"id": group_id}),
        ("/ui/admin/groups/members", {"group_id": group_id, "user_id": stranger.user_id}),
        ("/ui/admin/groups/members/remove", {"group_id": group_id, "user_id": victim.user_id}),
        ("/ui/admin/projects", {"name": unique("forged")}),
        ("/ui/admin/projects/delete", {"id": project}),
        ("/ui/admin/projects/%s/members" % project, {"user_id": stranger.user_id, "role_id": "3"}),
        ("/ui/admin/projects/%s/members/role" % project, {"user_id": victim.user_id, "role_id": "3"}),
        ("/ui/admin/projects/%s/members/remove" % project, {"user_id": victim.user_id}),
        ("/ui/admin/projects/%s/grants" % project, {"role_id": DEVELOPER, "g0_path": "/*",
                                                    "g0_download": "on", "g0_managePrivileges": "on"}),
    )
    for path, data in forged:
        resp = session.post(srv.url(path), data=dict(data, csrf=csrf), headers={"Origin": srv.base_url},
                            allow_redirects=False, timeout=30)
        assert resp.status_code == 403, (path, resp.status_code)

    # Root's session, but without its token, with another session's, or from another origin: refused too.
    root, root_csrf = http_session(srv, srv.root.name, srv.root.password)
    for path, data in forged:
        for extra, headers in (({}, {}), ({"csrf": csrf}, {}),
                               ({"csrf": root_csrf}, {"Origin": "http://evil.example"}),
                               ({"csrf": root_csrf}, {"Sec-Fetch-Site": "cross-site"})):
            # A request refused before its body is read ends its connection: ask for a fresh one each time.
            resp = root.post(srv.url(path), data=dict(data, **extra), headers=dict(headers, Connection="close"),
                             allow_redirects=False, timeout=30)
            assert resp.status_code == 403, (path, extra.keys(), headers, resp.status_code)

    # Nothing changed, as the API sees it.
    for path, data in forged:
        if "name" in data:
            assert iam_user(srv, data["name"]) is None and iam_group(srv, data["name"]) is None
    assert iam_user(srv, victim.name)["enabled"] is True
    assert signs_in(srv, victim.name, victim.password)
    assert group_member_names(srv, group_id) == {victim.name}
    assert project_exists(srv, project)
    assert len(srv.signed("GET", "/v4/projects", query={"limit": "1000"}).json()["projects"]) == project_count
    roles = member_roles(srv, project)
    assert roles[victim.name] == ROLE_DEVELOPER and stranger.name not in roles
    assert srv.privileges(victim, project) == before

    # The same well-formed request from root's own page goes through.
    resp = root.post(srv.url("/ui/admin/groups/members"), headers={"Origin": srv.base_url}, timeout=30,
                     data={"csrf": root_csrf, "group_id": group_id, "user_id": stranger.user_id},
                     allow_redirects=False)
    assert resp.status_code == 303
    assert group_member_names(srv, group_id) == {victim.name, stranger.name}


def test_a_user_granted_iam_actions_sees_just_what_they_allow(srv, browser):
    """Administration follows the IAM decision: listUsers and getUser open the Users page (without the
    buttons of actions not granted); Groups and Projects stay closed."""
    admin = srv.create_user()
    srv.grant(admin, ["iam:users:listUsers", "iam:users:getUser"])
    context, page = sign_in_page(browser, srv, admin.name, admin.password)
    page.get_by_role("link", name="Administration").click()
    page.wait_for_url("**/ui/admin/users")
    assert page.locator("tr[data-user='%s']" % admin.name).count() == 1
    assert page.locator("#create-user").count() == 0
    assert page.get_by_role("button", name="Delete %s" % admin.name).count() == 0
    assert page.get_by_role("button", name="Disable %s" % admin.name).count() == 0
    sub = page.locator("nav.subnav")
    assert sub.get_by_role("link", name="Groups").count() == 0
    assert sub.get_by_role("link", name="Projects").count() == 0
    context.close()

    session, csrf = http_session(srv, admin.name, admin.password)
    for path in ("/ui/admin/groups", "/ui/admin/projects"):
        assert session.get(srv.url(path), timeout=30).status_code == 403
    name = unique("nope")
    resp = session.post(srv.url("/ui/admin/users"), data={"csrf": csrf, "name": name, "password": new_password()},
                        allow_redirects=False, timeout=30)
    assert resp.status_code == 403 and "iam:users:createUser" in resp.text
    assert iam_user(srv, name) is None
