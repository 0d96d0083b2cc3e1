"""SPEC §1, §2 and §10: the IAM subset, driven by huaweicloudsdkiam (v3)."""

import stat
from datetime import datetime, timedelta, timezone

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkiam.v3 import (
    CreateCredentialOption, CreatePermanentAccessKeyRequest, CreatePermanentAccessKeyRequestBody,
    CreateUserOption, CreateUserRequest, CreateUserRequestBody, DeletePermanentAccessKeyRequest,
    KeystoneAddUserToGroupRequest, KeystoneAssociateGroupWithDomainPermissionRequest, KeystoneCreateUserOption, KeystoneCreateUserRequest, KeystoneCreateUserRequestBody, KeystoneDeleteUserRequest,
    KeystoneListAuthDomainsRequest, KeystoneListGroupsRequest, KeystoneListProjectsRequest, KeystoneListUsersRequest,
    KeystoneShowUserRequest, ListPermanentAccessKeysRequest, ShowUserRequest,
)

from harness import (
    AK_RE, HEX32, REGION, SK_RE, assert_auth_error, assert_error, assert_sdk_error, new_password, unique,
)


def keystone_user_body(arca, name, password):
    return KeystoneCreateUserRequestBody(user=KeystoneCreateUserOption(
        name=name, domain_id=arca.domain_id, password=password, enabled=True))


def password_auth_body(user_name, password, domain_name, scope=None):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user_name, "password": password, "domain": {"name": domain_name}}}}}}
    if scope:
        body["auth"]["scope"] = scope
    return body


# -- the server itself ------------------------------------------------------------------------------------

def test_health_needs_no_authentication(arca):
    resp = arca.get("/health")
    assert resp.status_code == 200
    assert resp.headers.get("X-Request-Id")


def test_bootstrap_file_holds_the_root_identity(arca):
    b = arca.bootstrap
    assert HEX32.match(b["domain_id"]) and HEX32.match(b["user_id"]) and HEX32.match(b["iam_project_id"])
    assert AK_RE.match(b["access_key"]) and SK_RE.match(b["secret_key"])
    assert b["region"] == REGION
    assert b["domain_name"] and b["user_name"] and b["password"]


def test_bootstrap_file_is_private(arca):
    mode = stat.S_IMODE((arca.data_dir / "bootstrap.json").stat().st_mode)
    assert mode == 0o600, oct(mode)


def test_log_does_not_contain_secrets(arca):
    log = arca.log_path.read_text(errors="replace")
    assert arca.root.sk not in log
    assert arca.root.password not in log


# -- projects and domains ---------------------------------------------------------------------------------

def test_list_projects_by_region_name_finds_the_iam_project(arca):
    resp = arca.iam_client().keystone_list_projects(KeystoneListProjectsRequest(name=REGION))
    assert len(resp.projects) == 1
    project = resp.projects[0]
    assert project.id == arca.iam_project_id
    assert project.name == REGION
    assert project.domain_id == arca.domain_id


def test_list_projects_by_unknown_name_is_empty(arca):
    resp = arca.iam_client().keystone_list_projects(KeystoneListProjectsRequest(name="no-such-region"))
    assert resp.projects == []


def test_auth_domains_answers_the_callers_domain(arca):
    resp = arca.iam_client().keystone_list_auth_domains(KeystoneListAuthDomainsRequest())
    assert [(d.id, d.name) for d in resp.domains] == [(arca.domain_id, arca.domain_name)]


def test_iam_user_may_look_up_its_project_and_domain(arca):
    # The SDK does this on its own before every first call, so no policy may be needed for it.
    user = arca.create_user()
    iam = arca.iam_client(user.ak, user.sk)
    assert [p.id for p in iam.keystone_list_projects(KeystoneListProjectsRequest(name=REGION)).projects] == \
        [arca.iam_project_id]
    assert [d.id for d in iam.keystone_list_auth_domains(KeystoneListAuthDomainsRequest()).domains] == \
        [arca.domain_id]


# -- users ------------------------------------------------------------------------------------------------

def test_keystone_create_user(arca):
    name, password = unique("ks"), new_password()
    resp = arca.iam_client().keystone_create_user(KeystoneCreateUserRequest(body=keystone_user_body(
        arca, name, password)))
    assert resp.status_code == 201
    assert HEX32.match(resp.user.id)
    assert resp.user.name == name
    assert resp.user.domain_id == arca.domain_id
    assert resp.user.enabled is True
    assert password not in resp.raw_content.decode()


def test_keystone_show_user(arca):
    user = arca.create_user(with_key=False)
    resp = arca.iam_client().keystone_show_user(KeystoneShowUserRequest(user_id=user.user_id))
    assert (resp.user.id, resp.user.name, resp.user.domain_id) == (user.user_id, user.name, arca.domain_id)


def test_keystone_list_users_includes_root_and_new_users(arca):
    user = arca.create_user(with_key=False)
    ids = {u.id for u in arca.iam_client().keystone_list_users(KeystoneListUsersRequest()).users}
    assert {arca.root.user_id, user.user_id} <= ids


def test_keystone_list_users_filters_by_name(arca):
    user = arca.create_user(with_key=False)
    resp = arca.iam_client().keystone_list_users(KeystoneListUsersRequest(name=user.name))
    assert [(u.id, u.name) for u in resp.users] == [(user.user_id, user.name)]


def test_duplicate_user_name_is_a_conflict(arca):
    user = arca.create_user(with_key=False)
    with pytest.raises(ClientRequestException) as e:
        arca.iam_client().keystone_create_user(KeystoneCreateUserRequest(body=keystone_user_body(
            arca, user.name, new_password())))
    assert_sdk_error(e.value, 409)


def test_keystone_delete_user(arca):
    user = arca.create_user(with_key=False)
    iam = arca.iam_client()
    resp = iam.keystone_delete_user(KeystoneDeleteUserRequest(user_id=user.user_id))
    assert resp.status_code == 204
    with pytest.raises(ClientRequestException) as e:
        iam.keystone_show_user(KeystoneShowUserRequest(user_id=user.user_id))
    assert_sdk_error(e.value, 404)


def test_deleted_users_key_stops_working(arca):
    user = arca.create_user()
    assert arca.signed("GET", "/v3/auth/domains", ak=user.ak, sk=user.sk).status_code == 200
    arca.iam_client().keystone_delete_user(KeystoneDeleteUserRequest(user_id=user.user_id))
    assert_auth_error(arca.signed("GET", "/v3/auth/domains", ak=user.ak, sk=user.sk))


def test_os_user_create_user(arca):
    name, password = unique("osu"), new_password()
    resp = arca.iam_client().create_user(CreateUserRequest(body=CreateUserRequestBody(user=CreateUserOption(
        name=name, domain_id=arca.domain_id, password=password, enabled=True, description="made via OS-USER"))))
    assert resp.status_code == 201
    assert HEX32.match(resp.user.id)
    assert (resp.user.name, resp.user.domain_id, resp.user.enabled) == (name, arca.domain_id, True)
    assert resp.user.is_domain_owner is False


def test_os_user_show_user(arca):
    user = arca.create_user(with_key=False)
    resp = arca.iam_client().show_user(ShowUserRequest(user_id=user.user_id))
    assert (resp.user.id, resp.user.name, resp.user.domain_id) == (user.user_id, user.name, arca.domain_id)
    assert resp.user.enabled is True
    assert resp.user.is_domain_owner is False


def test_os_user_show_root_is_domain_owner(arca):
    resp = arca.iam_client().show_user(ShowUserRequest(user_id=arca.root.user_id))
    assert resp.user.name == arca.root.name
    assert resp.user.is_domain_owner is True


def test_unknown_user_is_not_found(arca):
    with pytest.raises(ClientRequestException) as e:
        arca.iam_client().keystone_show_user(KeystoneShowUserRequest(user_id="0" * 32))
    assert_sdk_error(e.value, 404)


def test_new_user_can_get_a_token_with_its_password(arca):
    user = arca.create_user(with_key=False)
    resp = arca.token_response(user.name, user.password)
    assert resp.x_subject_token
    assert resp.token.user.id == user.user_id


# -- groups -----------------------------------------------------------------------------------------------

def test_create_and_list_groups(arca):
    name = unique("grp")
    group_id = arca.create_group(name)
    assert HEX32.match(group_id)
    groups = arca.iam_client().keystone_list_groups(KeystoneListGroupsRequest()).groups
    assert (group_id, name, arca.domain_id) in [(g.id, g.name, g.domain_id) for g in groups]


def test_list_groups_filters_by_name(arca):
    name = unique("grp")
    group_id = arca.create_group(name)
    groups = arca.iam_client().keystone_list_groups(KeystoneListGroupsRequest(name=name)).groups
    assert [g.id for g in groups] == [group_id]


def test_add_user_to_group(arca):
    user = arca.create_user(with_key=False)
    group_id = arca.create_group()
    resp = arca.iam_client().keystone_add_user_to_group(KeystoneAddUserToGroupRequest(
        group_id=group_id, user_id=user.user_id))
    assert resp.status_code == 204


def test_add_user_to_unknown_group_is_not_found(arca):
    user = arca.create_user(with_key=False)
    with pytest.raises(ClientRequestException) as e:
        arca.iam_client().keystone_add_user_to_group(KeystoneAddUserToGroupRequest(
            group_id="0" * 32, user_id=user.user_id))
    assert_sdk_error(e.value, 404)


# -- permanent access keys --------------------------------------------------------------------------------

def test_create_permanent_access_key(arca):
    user = arca.create_user(with_key=False)
    resp = arca.iam_client().create_permanent_access_key(CreatePermanentAccessKeyRequest(
        body=CreatePermanentAccessKeyRequestBody(credential=CreateCredentialOption(
            user_id=user.user_id, description="ci key"))))
    assert resp.status_code == 201
    cred = resp.credential
    assert AK_RE.match(cred.access) and SK_RE.match(cred.secret)
    assert (cred.user_id, cred.status, cred.description) == (user.user_id, "active", "ci key")


def test_new_access_key_signs_requests(arca):
    user = arca.create_user()
    assert arca.signed("GET", "/v3/projects", query=[("name", REGION)], ak=user.ak, sk=user.sk).status_code == 200


def test_list_permanent_access_keys_hides_secrets(arca):
    user = arca.create_user()
    resp = arca.iam_client().list_permanent_access_keys(ListPermanentAccessKeysRequest(user_id=user.user_id))
    assert [(c.access, c.user_id, c.status) for c in resp.credentials] == [(user.ak, user.user_id, "active")]
    raw = resp.raw_content.decode()
    assert user.sk not in raw and "secret" not in raw


def test_delete_permanent_access_key(arca):
    user = arca.create_user()
    iam = arca.iam_client()
    resp = iam.delete_permanent_access_key(DeletePermanentAccessKeyRequest(access_key=user.ak))
    assert resp.status_code == 204
    remaining = iam.list_permanent_access_keys(ListPermanentAccessKeysRequest(user_id=user.user_id)).credentials
    assert remaining == []


def test_deleted_access_key_is_rejected(arca):
    user = arca.create_user()
    arca.iam_client().delete_permanent_access_key(DeletePermanentAccessKeyRequest(access_key=user.ak))
    assert_auth_error(arca.signed("GET", "/v3/projects", query=[("name", REGION)], ak=user.ak, sk=user.sk))


def test_at_most_two_access_keys_per_user(arca):
    user = arca.create_user()            # first key
    arca.create_access_key(user.user_id)  # second key
    with pytest.raises(ClientRequestException) as e:
        arca.create_access_key(user.user_id)
    assert e.value.status_code in (400, 409), e.value
    assert_sdk_error(e.value, e.value.status_code)


# -- custom policies --------------------------------------------------------------------------------------

def test_create_cloud_service_custom_policy(arca):
    name = unique("pol")
    resp = arca.create_policy(["codeartsartifact:repository:listUsers", "codeartsartifact:ticket:list"], name)
    role = resp.role
    assert HEX32.match(role.id)
    assert role.display_name == name
    assert role.domain_id == arca.domain_id
    assert role.policy.statement[0].action == ["codeartsartifact:repository:listUsers",
                                               "codeartsartifact:ticket:list"]
    assert role.policy.statement[0].effect == "Allow"


def test_attach_policy_to_group(arca):
    group_id = arca.create_group()
    role_id = arca.create_policy(["codeartsartifact:repository:listUsers"]).role.id
    resp = arca.iam_client().keystone_associate_group_with_domain_permission(
        KeystoneAssociateGroupWithDomainPermissionRequest(domain_id=arca.domain_id, group_id=group_id,
                                                          role_id=role_id))
    assert resp.status_code == 204


def test_attach_unknown_policy_is_not_found(arca):
    group_id = arca.create_group()
    with pytest.raises(ClientRequestException) as e:
        arca.iam_client().keystone_associate_group_with_domain_permission(
            KeystoneAssociateGroupWithDomainPermissionRequest(domain_id=arca.domain_id, group_id=group_id,
                                                              role_id="0" * 32))
    assert_sdk_error(e.value, 404)


# -- who may manage IAM -----------------------------------------------------------------------------------

def test_user_without_iam_policy_cannot_create_users(arca):
    user = arca.create_user()
    with pytest.raises(ClientRequestException) as e:
        arca.iam_client(user.ak, user.sk).keystone_create_user(KeystoneCreateUserRequest(
            body=keystone_user_body(arca, unique("nope"), new_password())))
    assert_sdk_error(e.value, 403)


def test_user_without_iam_policy_cannot_create_access_keys(arca):
    user = arca.create_user()
    with pytest.raises(ClientRequestException) as e:
        arca.create_access_key(arca.root.user_id, ak=user.ak, sk=user.sk)
    assert_sdk_error(e.value, 403)


def test_user_with_iam_policy_can_create_users(arca):
    admin = arca.create_user()
    arca.grant(admin, ["iam:*:*"])
    resp = arca.iam_client(admin.ak, admin.sk).keystone_create_user(KeystoneCreateUserRequest(
        body=keystone_user_body(arca, unique("byadmin"), new_password())))
    assert resp.status_code == 201


# -- tokens -----------------------------------------------------------------------------------------------

def test_project_scoped_token(arca):
    resp = arca.token_response(arca.root.name, arca.root.password, project_scope=REGION)
    assert resp.status_code == 201
    assert resp.x_subject_token
    assert (resp.token.user.id, resp.token.user.name) == (arca.root.user_id, arca.root.name)
    assert (resp.token.project.id, resp.token.project.name) == (arca.iam_project_id, REGION)
    assert "password" in resp.token.methods


def test_project_scoped_token_by_project_id(arca):
    resp = arca.token_response(arca.root.name, arca.root.password, project_scope=arca.iam_project_id)
    assert resp.token.project.id == arca.iam_project_id


def test_domain_scoped_token(arca):
    resp = arca.token_response(arca.root.name, arca.root.password, project_scope=None)
    assert resp.x_subject_token
    assert (resp.token.domain.id, resp.token.domain.name) == (arca.domain_id, arca.domain_name)


def test_token_is_valid_for_24_hours(arca):
    resp = arca.token_response(arca.root.name, arca.root.password)
    expires = datetime.fromisoformat(resp.token.expires_at.replace("Z", "+00:00"))
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=timezone.utc)
    delta = expires - datetime.now(timezone.utc)
    assert timedelta(hours=23, minutes=55) < delta <= timedelta(hours=24, minutes=5), delta


def test_token_request_needs_no_signature(arca):
    resp = arca.request("POST", "/v3/auth/tokens", json=password_auth_body(
        arca.root.name, arca.root.password, arca.domain_name, {"project": {"name": REGION}}))
    assert resp.status_code == 201, resp.text
    assert resp.headers.get("X-Subject-Token")
    assert resp.headers.get("X-Request-Id")
    assert resp.json()["token"]["user"]["id"] == arca.root.user_id


def test_token_with_wrong_password_is_401(arca):
    resp = arca.request("POST", "/v3/auth/tokens", json=password_auth_body(
        arca.root.name, arca.root.password + "x", arca.domain_name))
    assert_auth_error(resp)
    assert "X-Subject-Token" not in resp.headers


def test_token_with_wrong_password_through_sdk(arca):
    with pytest.raises(ClientRequestException) as e:
        arca.token_response(arca.root.name, "Wrong-password-1")
    assert_sdk_error(e.value, 401, r"APIGW\.0301")


def test_token_for_unknown_user_is_401(arca):
    resp = arca.request("POST", "/v3/auth/tokens", json=password_auth_body(
        unique("ghost"), new_password(), arca.domain_name))
    assert_auth_error(resp)


def test_token_authenticates_management_requests(arca):
    token = arca.root_token()
    resp = arca.get("/v3/auth/domains", headers={"X-Auth-Token": token})
    assert resp.status_code == 200, resp.text
    assert [d["id"] for d in resp.json()["domains"]] == [arca.domain_id]


def test_garbage_token_is_401(arca):
    assert_auth_error(arca.get("/v3/auth/domains", headers={"X-Auth-Token": "not-a-token"}))


def test_iam_user_token_names_the_user(arca):
    user = arca.create_user(with_key=False)
    resp = arca.token_response(user.name, user.password)
    assert (resp.token.user.id, resp.token.user.name) == (user.user_id, user.name)
    assert resp.token.project.id == arca.iam_project_id


def test_malformed_token_body_is_400(arca):
    assert_error(arca.request("POST", "/v3/auth/tokens", json={"auth": {"identity": {"methods": ["password"]}}}),
                 400)
