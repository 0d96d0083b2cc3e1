"""SPEC §2, §3 and §9: authentication failures, the error envelope and bad input."""

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import ShowUserPrivilegesRequest, ShowUserTicketRequest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException, SdkException
from huaweicloudsdkiam.v3 import KeystoneListAuthDomainsRequest

from harness import (
    AUTH_CODE, AUTH_MSG_PREFIX, REGION, assert_auth_error, assert_error, assert_sdk_error, new_password, sdk_date,
    unique,
)

TICKET = "/cloudartifact/v5/ticket"


def new_user_body(arca, **overrides):
    user = {"name": unique("err"), "password": new_password(), "domain_id": arca.domain_id, "enabled": True}
    user.update(overrides)
    return {"user": user}


# -- no or bad credentials ---------------------------------------------------------------------------------

def test_missing_authorization_is_401(arca):
    body = assert_auth_error(arca.get(TICKET))
    assert set(body) == {"status", "trace_id", "error_code", "error_msg"}


def test_missing_authorization_on_iam_is_401(arca):
    assert_auth_error(arca.get("/v3/projects", params={"name": REGION}))


def test_forged_signature_is_401(arca):
    def forge(req):
        auth = req.header_params["Authorization"]
        req.header_params["Authorization"] = auth[:-1] + ("0" if auth[-1] != "0" else "1")
    assert_auth_error(arca.signed("GET", TICKET, tamper=forge))


def test_wrong_secret_is_401(arca):
    assert_auth_error(arca.signed("GET", TICKET, sk=arca.root.sk[::-1]))


def test_unknown_access_key_is_401(arca):
    assert_auth_error(arca.signed("GET", TICKET, ak="A" * 20))


@pytest.mark.parametrize("minutes", [-20, 20])
def test_date_20_minutes_off_is_401(arca, minutes):
    assert_auth_error(arca.signed("GET", TICKET, date=sdk_date(timedelta(minutes=minutes))))


@pytest.mark.parametrize("minutes", [-5, 5])
def test_date_5_minutes_off_is_accepted(arca, minutes):
    assert arca.signed("GET", TICKET, date=sdk_date(timedelta(minutes=minutes))).status_code == 200


def test_malformed_date_is_401(arca):
    def reformat(req):
        req.header_params["X-Sdk-Date"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_auth_error(arca.signed("GET", TICKET, tamper=reformat))


def test_host_must_be_signed(arca):
    assert_auth_error(arca.signed("GET", TICKET, drop_signed=["host"]))


def test_signed_header_changed_after_signing_is_401(arca):
    def change(req):
        req.header_params["X-Project-Id"] = "f" * 32
    assert_auth_error(arca.signed("GET", TICKET, tamper=change))


def test_query_changed_after_signing_is_401(arca):
    def change(req):
        req.query_params = [("name", "other-region")]
    assert_auth_error(arca.signed("GET", "/v3/projects", query=[("name", REGION)], tamper=change))


def test_body_changed_after_signing_is_401(arca):
    def change(req):
        req.body = json.dumps(new_user_body(arca)).encode()
    assert_auth_error(arca.signed("POST", "/v3/users", body=new_user_body(arca), tamper=change))


@pytest.mark.parametrize("value", [
    "SDK-HMAC-SHA256 garbage",
    "SDK-HMAC-SHA256 Access=, SignedHeaders=host;x-sdk-date, Signature=00",
    "Basic dXNlcjpwYXNz",
    "Bearer not-a-ticket",
    "",
])
def test_malformed_authorization_header_is_401(arca, value):
    assert_auth_error(arca.get(TICKET, headers={"Authorization": value, "X-Sdk-Date": sdk_date()}))


def test_garbage_token_is_401(arca):
    assert_auth_error(arca.get(TICKET, headers={"X-Auth-Token": "x" * 64}))


def test_signature_with_query_variants_is_accepted(arca):
    resp = arca.signed("GET", "/cloudartifact/v5/repositories/users",
                       query=[("user_name", "a b/é~"), ("page_size", 5), ("page_no", 1)])
    assert resp.status_code == 200, resp.text


# -- the SDK's view of an error ----------------------------------------------------------------------------

def test_sdk_exception_fields_for_authentication_failure(arca):
    client = arca.artifact_client(arca.root.ak, arca.root.sk[::-1], project_id=arca.iam_project_id)
    with pytest.raises(ClientRequestException) as e:
        client.show_user_ticket(ShowUserTicketRequest())
    exc = e.value
    assert_sdk_error(exc, 401, AUTH_CODE)
    assert exc.error_msg.startswith(AUTH_MSG_PREFIX)


def test_sdk_exception_fields_for_bad_input(arca):
    client = arca.artifact_client()
    with pytest.raises(ClientRequestException) as e:
        client.show_user_privileges(ShowUserPrivilegesRequest(project_id="bad"))
    assert_sdk_error(e.value, 400)
    raw = arca.signed("GET", "/cloudartifact/v3/user/bad/privileges")
    body = assert_error(raw, 400)
    assert body["error_code"] == e.value.error_code


def test_sdk_cannot_find_project_with_unknown_key(arca):
    with pytest.raises(SdkException):
        arca.artifact_client("B" * 20, "c" * 40)


def test_sdk_global_client_with_bad_key(arca):
    with pytest.raises(ClientRequestException) as e:
        arca.iam_client("B" * 20, "c" * 40).keystone_list_auth_domains(KeystoneListAuthDomainsRequest())
    assert_sdk_error(e.value, 401, AUTH_CODE)


# -- envelope and headers ----------------------------------------------------------------------------------

def test_every_answer_carries_x_request_id(arca):
    for resp in (arca.get("/health"), arca.signed("GET", TICKET), arca.get(TICKET),
                 arca.signed("GET", "/v3/projects", query=[("name", REGION)])):
        assert resp.headers.get("X-Request-Id"), (resp.status_code, resp.request.url)


def test_request_ids_are_unique(arca):
    ids = {arca.get("/health").headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


def test_unknown_route_is_404_envelope(arca):
    assert_error(arca.signed("GET", "/cloudartifact/v5/no-such-endpoint"), 404)


# -- bad input ---------------------------------------------------------------------------------------------

def test_oversize_json_body_is_413(arca):
    big = new_user_body(arca, description="x" * (2 * 1024 * 1024))
    try:
        resp = arca.signed("POST", "/v3/users", body=big)
    except requests.ConnectionError as e:
        pytest.fail("arca dropped the connection instead of answering 413: %s" % e)
    assert_error(resp, 413)


def test_malformed_json_is_400(arca):
    assert_error(arca.signed("POST", "/v3/users", body='{"user": {"name": '), 400)


def test_json_of_the_wrong_shape_is_400(arca):
    assert_error(arca.signed("POST", "/v3/users", body={"user": 5}), 400)


def test_missing_required_field_is_400(arca):
    body = new_user_body(arca)
    del body["user"]["name"]
    assert_error(arca.signed("POST", "/v3/users", body=body), 400)


def test_overlong_user_name_is_400(arca):
    assert_error(arca.signed("POST", "/v3/users", body=new_user_body(arca, name="n" * 101)), 400)


def test_server_survives_bad_input(arca):
    arca.signed("POST", "/v3/users", body=b"\xff\xfe\x00garbage")
    arca.get("/cloudartifact/v3/user/%00/privileges")
    assert arca.get("/health").status_code == 200


# -- another domain ----------------------------------------------------------------------------------------

def test_token_of_another_domain_is_rejected(arca, start_arca):
    other = start_arca()
    assert other.domain_id != arca.domain_id
    token = other.root_token()
    assert other.get("/v3/auth/domains", headers={"X-Auth-Token": token}).status_code == 200
    assert_auth_error(arca.get("/v3/auth/domains", headers={"X-Auth-Token": token}))
    assert_auth_error(arca.get("/v1/%s/tickets" % arca.iam_project_id, headers={"X-Auth-Token": token}))


def test_access_key_of_another_domain_is_rejected(arca, start_arca):
    other = start_arca()
    assert_auth_error(arca.signed("GET", TICKET, ak=other.root.ak, sk=other.root.sk))


def test_ticket_of_another_domain_is_rejected(arca, start_arca):
    other = start_arca()
    ticket = other.issue_ticket()
    assert_auth_error(arca.get(TICKET, headers={"Authorization": "Bearer " + ticket}))


def test_other_domains_project_is_not_visible(arca, start_arca):
    other = start_arca()
    token = arca.root_token()
    resp = arca.get("/v1/%s/tickets" % other.iam_project_id, headers={"X-Auth-Token": token})
    assert resp.status_code in (403, 404), resp.text
