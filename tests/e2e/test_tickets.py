"""SPEC §4, seeds 000 (GET /cloudartifact/v5/ticket) and 001 (GET /v1/{project_id}/tickets).

These tests run on a server of their own (`module_arca`); tests that count rows scope their listing with
an `embed_id` of their own, so they do not see one another's tickets.
"""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from huaweicloudsdkcodeartsartifact.v2 import ShowUserTicketRequest

from harness import (
    INSIGHT_CODE, ROLE_DEVELOPER, SHA256_HEX, assert_auth_error, assert_error, decode_ticket, parse_expire_time,
    sha256_hex, unique,
)

ROW_KEYS = {"ticket", "embed_id", "expire_time", "left_num", "user_id", "user_name", "user_type", "group_ids"}
DEFAULT_LEFT_NUM = 1000
DEFAULT_LIFETIME = timedelta(hours=24)


@pytest.fixture(scope="module")
def root_token(srv):
    return srv.root_token()


def tickets_path(srv, project_id=None):
    return "/v1/%s/tickets" % (project_id or srv.iam_project_id)


def list_tickets(srv, token, **params):
    headers = {"X-Auth-Token": token} if token else {}
    return srv.get(tickets_path(srv), headers=headers, params=params)


def tickets(srv, token, **params) -> dict:
    resp = list_tickets(srv, token, **params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def create_ticket(srv, token, **body) -> dict:
    resp = srv.request("POST", tickets_path(srv), headers={"X-Auth-Token": token}, json=body)
    assert resp.status_code in (200, 201), resp.text
    return resp.json()


def revoke(srv, token, public_id):
    return srv.request("DELETE", tickets_path(srv) + "/" + public_id, headers={"X-Auth-Token": token})


@pytest.fixture(scope="module")
def probe_project(srv):
    return srv.create_project()


@pytest.fixture(scope="module")
def use_ticket(srv, probe_project):
    """Authenticate a side-effect-free management GET (the caller's privileges in a project) with a
    ticket as `Authorization: Bearer <ticket>`; each call consumes one use."""
    def use(ticket):
        return srv.get("/cloudartifact/v3/user/%s/privileges" % probe_project,
                       headers={"Authorization": "Bearer " + ticket})
    return use


def row_for(listing: dict, ticket_value: str):
    public = sha256_hex(ticket_value)
    rows = [r for r in listing["page_data"] if r["ticket"] == public]
    return rows[0] if rows else None


def now_utc():
    return datetime.now(timezone.utc)


# -- seed 000: GET /cloudartifact/v5/ticket ----------------------------------------------------------------

def test_show_user_ticket_decodes_to_ticket_format(srv):
    before_ms = int(time.time() * 1000)
    resp = srv.artifact_client().show_user_ticket(ShowUserTicketRequest())
    after_ms = int(time.time() * 1000)
    assert resp.status == "success"
    assert resp.trace_id
    issued_ms, secret, user_id = decode_ticket(resp.result).groups()
    assert user_id == srv.root.user_id
    assert before_ms - 5000 <= int(issued_ms) <= after_ms + 5000
    assert len(secret) == 32


def test_show_user_ticket_envelope(srv):
    resp = srv.signed("GET", "/cloudartifact/v5/ticket")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert set(body) == {"status", "trace_id", "result"}
    assert body["status"] == "success"
    assert body["trace_id"] == resp.headers["X-Request-Id"]


def test_each_call_issues_a_new_ticket(srv):
    assert srv.issue_ticket() != srv.issue_ticket()


def test_iam_user_ticket_carries_its_user_id(srv):
    user = srv.create_user()
    assert decode_ticket(srv.issue_ticket(user)).group(3) == user.user_id


# -- seed 001: the list ------------------------------------------------------------------------------------

def test_issued_ticket_is_listed_under_its_public_id(srv, root_token):
    value = srv.issue_ticket()
    row = row_for(tickets(srv, root_token, user_id=srv.root.user_id, limit=1000), value)
    assert row is not None, "the issued ticket is not in the list (public id = sha256 of the ticket text)"
    assert SHA256_HEX.match(row["ticket"])
    assert value not in str(row), "the list must not reveal the ticket itself"


def test_listed_row_shape_and_types(srv, root_token):
    value = srv.issue_ticket()
    row = row_for(tickets(srv, root_token, user_id=srv.root.user_id, limit=1000), value)
    assert set(row) == ROW_KEYS
    assert row["user_id"] == srv.root.user_id
    assert row["user_name"] == srv.root.name
    assert row["user_type"] == "root"
    assert row["embed_id"] == ""
    assert row["group_ids"] == []
    assert type(row["left_num"]) is int and row["left_num"] == DEFAULT_LEFT_NUM


def test_default_lifetime_is_24_hours(srv, root_token):
    value = srv.issue_ticket()
    row = row_for(tickets(srv, root_token, user_id=srv.root.user_id, limit=1000), value)
    expires = parse_expire_time(row["expire_time"])
    assert abs(expires - (now_utc() + DEFAULT_LIFETIME)) < timedelta(minutes=2), row["expire_time"]


def test_list_carries_the_users_groups(srv, root_token):
    user = srv.create_user()
    group_id = srv.create_group()
    srv.add_to_group(group_id, user.user_id)
    value = srv.issue_ticket(user)
    row = row_for(tickets(srv, root_token, user_id=user.user_id), value)
    assert row["group_ids"] == [group_id]
    assert row["user_type"] == "IAM"


def test_list_requires_a_token(srv):
    assert_auth_error(list_tickets(srv, None))


def test_list_rejects_a_garbage_token(srv):
    assert_auth_error(list_tickets(srv, "garbage-token"))


def test_list_of_unknown_project_is_refused(srv, root_token):
    resp = srv.get(tickets_path(srv, "0" * 32), headers={"X-Auth-Token": root_token})
    assert resp.status_code in (403, 404), resp.text
    assert_error(resp, resp.status_code, INSIGHT_CODE)


def test_count_is_before_paging(srv, root_token):
    embed = unique("count")
    for _ in range(5):
        create_ticket(srv, root_token, embed_id=embed)
    page = tickets(srv, root_token, embed_id=embed, limit=2)
    assert page["count"] == 5
    assert len(page["page_data"]) == 2


def test_offset_and_limit(srv, root_token):
    embed = unique("page")
    for _ in range(5):
        create_ticket(srv, root_token, embed_id=embed)
    full = [r["ticket"] for r in tickets(srv, root_token, embed_id=embed, limit=10)["page_data"]]
    assert len(full) == 5
    assert [r["ticket"] for r in tickets(srv, root_token, embed_id=embed, offset=2, limit=2)["page_data"]] == full[2:4]
    assert [r["ticket"] for r in tickets(srv, root_token, embed_id=embed, offset=4)["page_data"]] == full[4:]
    beyond = tickets(srv, root_token, embed_id=embed, offset=5)
    assert (beyond["count"], beyond["page_data"]) == (5, [])


def test_limit_zero_answers_only_the_count(srv, root_token):
    embed = unique("zero")
    create_ticket(srv, root_token, embed_id=embed)
    assert tickets(srv, root_token, embed_id=embed, limit=0) == {"count": 1, "page_data": []}


def test_default_limit_is_10(srv, root_token):
    embed = unique("deflimit")
    for _ in range(12):
        create_ticket(srv, root_token, embed_id=embed)
    page = tickets(srv, root_token, embed_id=embed)
    assert (page["count"], len(page["page_data"])) == (12, 10)


def test_default_order_is_expire_time_descending(srv, root_token):
    embed = unique("order")
    for seconds in (100, 300, 200):
        create_ticket(srv, root_token, embed_id=embed, expire_seconds=seconds)
    rows = tickets(srv, root_token, embed_id=embed)["page_data"]
    times = [parse_expire_time(r["expire_time"]) for r in rows]
    assert times == sorted(times, reverse=True) and len(set(times)) == 3


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sort_by_left_num(srv, root_token, direction):
    embed = unique("left")
    for n in (3, 1, 2):
        create_ticket(srv, root_token, embed_id=embed, left_num=n)
    rows = tickets(srv, root_token, embed_id=embed, sort_key="left_num", sort_dir=direction)["page_data"]
    assert [r["left_num"] for r in rows] == ([1, 2, 3] if direction == "asc" else [3, 2, 1])


def test_sort_by_expire_time_ascending(srv, root_token):
    embed = unique("asc")
    for seconds in (300, 100, 200):
        create_ticket(srv, root_token, embed_id=embed, expire_seconds=seconds)
    rows = tickets(srv, root_token, embed_id=embed, sort_key="expire_time", sort_dir="asc")["page_data"]
    times = [parse_expire_time(r["expire_time"]) for r in rows]
    assert times == sorted(times) and len(set(times)) == 3


@pytest.mark.parametrize("key", ["user_name", "user_id", "embed_id"])
def test_sort_by_other_keys_is_accepted(srv, root_token, key):
    rows = tickets(srv, root_token, sort_key=key, sort_dir="asc", limit=1000)["page_data"]
    values = [r[key] for r in rows]
    assert values == sorted(values)


def test_filter_by_user_id(srv, root_token):
    user = srv.create_user()
    values = {srv.issue_ticket(user) for _ in range(2)}
    listing = tickets(srv, root_token, user_id=user.user_id)
    assert listing["count"] == 2
    assert {r["ticket"] for r in listing["page_data"]} == {sha256_hex(v) for v in values}


def test_filter_by_user_name(srv, root_token):
    user = srv.create_user(name=unique("tkname"))
    srv.issue_ticket(user)
    listing = tickets(srv, root_token, user_name=user.name)
    assert listing["count"] == 1
    assert listing["page_data"][0]["user_name"] == user.name


def test_filter_by_user_type(srv, root_token):
    user = srv.create_user()
    value = srv.issue_ticket(user)
    srv.issue_ticket()
    iam_rows = tickets(srv, root_token, user_type="IAM", limit=1000)["page_data"]
    assert iam_rows and all(r["user_type"] == "IAM" for r in iam_rows)
    assert row_for({"page_data": iam_rows}, value) is not None
    root_rows = tickets(srv, root_token, user_type="root", limit=1000)["page_data"]
    assert root_rows and all(r["user_type"] == "root" for r in root_rows)


def test_filter_by_embed_id(srv, root_token):
    embed = unique("embed")
    created = create_ticket(srv, root_token, embed_id=embed)
    listing = tickets(srv, root_token, embed_id=embed)
    assert listing["count"] == 1
    assert listing["page_data"][0]["ticket"] == created["ticket"]


BAD_PARAMS = [
    ("limit", "-1"), ("limit", "1001"), ("limit", "abc"), ("limit", "1.5"),
    ("offset", "-1"), ("offset", "1001"), ("offset", "abc"),
    ("sort_key", "password"), ("sort_key", "x" * 129),
    ("sort_dir", "up"), ("sort_dir", "x" * 129),
    ("user_id", "u" * 101), ("user_name", "n" * 101), ("user_type", "t" * 101), ("embed_id", "e" * 101),
]


@pytest.mark.parametrize("name,value", BAD_PARAMS, ids=["%s=%s" % (n, v[:8]) for n, v in BAD_PARAMS])
def test_out_of_range_parameter_is_400(srv, root_token, name, value):
    body = assert_error(list_tickets(srv, root_token, **{name: value}), 400, INSIGHT_CODE)
    assert name in body["error_msg"], "the message should name the parameter: %r" % body["error_msg"]


GOOD_PARAMS = [("limit", "0"), ("limit", "1000"), ("offset", "0"), ("offset", "1000"),
               ("user_id", "u" * 100), ("embed_id", "e" * 100), ("sort_dir", "asc"), ("sort_dir", "desc")]


@pytest.mark.parametrize("name,value", GOOD_PARAMS, ids=["%s=%s" % (n, v[:8]) for n, v in GOOD_PARAMS])
def test_boundary_values_are_accepted(srv, root_token, name, value):
    assert list_tickets(srv, root_token, **{name: value}).status_code == 200


def test_project_id_over_128_chars_is_400(srv, root_token):
    resp = srv.get(tickets_path(srv, "p" * 129), headers={"X-Auth-Token": root_token})
    assert_error(resp, 400, INSIGHT_CODE)


# -- who sees what -----------------------------------------------------------------------------------------

def test_iam_user_sees_only_own_tickets(srv):
    user = srv.create_user()
    own = srv.issue_ticket(user)
    srv.issue_ticket()  # root's
    listing = tickets(srv, srv.token_for(user.name, user.password), limit=1000)
    assert listing["count"] == len(listing["page_data"]) >= 1
    assert {r["user_id"] for r in listing["page_data"]} == {user.user_id}
    assert row_for(listing, own) is not None


def test_iam_user_with_ticket_list_policy_sees_all(srv):
    user = srv.create_user()
    srv.grant(user, ["codeartsartifact:ticket:list"])
    root_value = srv.issue_ticket()
    listing = tickets(srv, srv.token_for(user.name, user.password), user_id=srv.root.user_id, limit=1000)
    assert row_for(listing, root_value) is not None


def test_root_sees_iam_users_tickets(srv, root_token):
    user = srv.create_user()
    value = srv.issue_ticket(user)
    assert row_for(tickets(srv, root_token, user_id=user.user_id), value) is not None


# -- beyond the seeds: create and revoke -------------------------------------------------------------------

def test_create_ticket_answers_row_and_value(srv, root_token):
    embed = unique("made")
    before = now_utc()
    row = create_ticket(srv, root_token, embed_id=embed, expire_seconds=600, left_num=7)
    assert set(row) == ROW_KEYS | {"value"}
    assert decode_ticket(row["value"]).group(3) == srv.root.user_id
    assert row["ticket"] == sha256_hex(row["value"])
    assert (row["embed_id"], row["left_num"], row["user_id"], row["user_type"]) == (
        embed, 7, srv.root.user_id, "root")
    expires = parse_expire_time(row["expire_time"])
    assert before + timedelta(seconds=590) <= expires <= now_utc() + timedelta(seconds=610), row["expire_time"]


def test_created_ticket_is_listed_without_value(srv, root_token):
    embed = unique("listed")
    row = create_ticket(srv, root_token, embed_id=embed)
    listed = tickets(srv, root_token, embed_id=embed)["page_data"]
    assert listed == [{k: v for k, v in row.items() if k != "value"}]


def test_create_ticket_with_aksk_signature(srv):
    resp = srv.signed("POST", tickets_path(srv), body={"left_num": 2})
    assert resp.status_code in (200, 201), resp.text
    assert resp.json()["left_num"] == 2


def test_create_ticket_requires_authentication(srv):
    assert_auth_error(srv.request("POST", tickets_path(srv), json={"left_num": 2}))


def test_root_creates_ticket_for_another_user(srv, root_token):
    user = srv.create_user()
    row = create_ticket(srv, root_token, user_id=user.user_id)
    assert row["user_id"] == user.user_id
    assert decode_ticket(row["value"]).group(3) == user.user_id


def test_iam_user_cannot_create_ticket_for_another_user(srv):
    user = srv.create_user()
    resp = srv.request("POST", tickets_path(srv), headers={"X-Auth-Token": srv.token_for(user.name, user.password)},
                       json={"user_id": srv.root.user_id})
    assert resp.status_code == 403, resp.text


def test_revoke_ticket(srv, root_token, use_ticket):
    embed = unique("revoke")
    row = create_ticket(srv, root_token, embed_id=embed)
    resp = revoke(srv, root_token, row["ticket"])
    assert resp.status_code in (200, 204), resp.text
    assert tickets(srv, root_token, embed_id=embed)["count"] == 0
    assert_auth_error(use_ticket(row["value"]))


def test_revoke_unknown_ticket_is_404(srv, root_token):
    assert_error(revoke(srv, root_token, "0" * 64), 404, INSIGHT_CODE)


def test_iam_user_cannot_revoke_roots_ticket(srv, root_token, use_ticket):
    user = srv.create_user()
    row = create_ticket(srv, root_token)
    resp = revoke(srv, srv.token_for(user.name, user.password), row["ticket"])
    assert resp.status_code in (403, 404), resp.text
    assert use_ticket(row["value"]).status_code == 200


# -- using tickets -----------------------------------------------------------------------------------------

def test_bearer_ticket_authenticates_as_its_user(srv, root_token, probe_project, use_ticket):
    user = srv.create_user(with_key=False)
    srv.add_member(probe_project, user.user_id, ROLE_DEVELOPER)
    row = create_ticket(srv, root_token, user_id=user.user_id)
    resp = use_ticket(row["value"])
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["role_name"].startswith("Developer,")


def test_basic_ticket_with_user_or_repo_user_name(srv, root_token, probe_project):
    user = srv.create_user(with_key=False)
    srv.add_member(probe_project, user.user_id, ROLE_DEVELOPER)
    row = create_ticket(srv, root_token, user_id=user.user_id, left_num=3)
    path = "/cloudartifact/v3/user/%s/privileges" % probe_project
    repo_user = "%s_%s" % (srv.bootstrap["domain_id"], user.user_id)
    for name in (user.name, repo_user):
        resp = srv.get(path, auth=(name, row["value"]))
        assert resp.status_code == 200, resp.text
    assert_auth_error(srv.get(path, auth=("someone-else", row["value"])))


def test_ticket_cannot_issue_tickets(srv, root_token):
    row = create_ticket(srv, root_token)
    assert_auth_error(srv.get("/cloudartifact/v5/ticket", headers={"Authorization": "Bearer " + row["value"]}))


def test_ticket_cannot_list_tickets(srv, root_token):
    row = create_ticket(srv, root_token)
    assert_auth_error(srv.get(tickets_path(srv), headers={"Authorization": "Bearer " + row["value"]}))


def test_each_use_consumes_one(srv, root_token, use_ticket):
    embed = unique("use")
    row = create_ticket(srv, root_token, embed_id=embed, left_num=3)
    assert use_ticket(row["value"]).status_code == 200
    assert tickets(srv, root_token, embed_id=embed)["page_data"][0]["left_num"] == 2


def test_exhausted_ticket_is_401_and_unlisted(srv, root_token, use_ticket):
    embed = unique("exhaust")
    row = create_ticket(srv, root_token, embed_id=embed, left_num=2)
    assert [use_ticket(row["value"]).status_code for _ in range(2)] == [200, 200]
    assert_auth_error(use_ticket(row["value"]))
    assert tickets(srv, root_token, embed_id=embed)["count"] == 0


def test_expired_ticket_is_401_and_unlisted(srv, root_token, use_ticket):
    embed = unique("expire")
    row = create_ticket(srv, root_token, embed_id=embed, expire_seconds=1)
    time.sleep(2.2)
    assert tickets(srv, root_token, embed_id=embed)["count"] == 0
    assert_auth_error(use_ticket(row["value"]))


def test_unknown_bearer_ticket_is_401(srv, use_ticket):
    fake = "dGlja2V0XzE3NTIyMjA3MzY3OTc6V2Z1UVNFZVJiaDJZejFiRGZJSE12QnlicXh5VGpSTk46MDlkMmNhMmZmZDAwZDNjMjFmZjhjMDBhNGRkMWUwODA="
    assert_auth_error(use_ticket(fake))


def test_concurrent_uses_succeed_exactly_left_num_times(srv, root_token, use_ticket):
    row = create_ticket(srv, root_token, embed_id=unique("race"), left_num=50)
    with ThreadPoolExecutor(max_workers=40) as pool:
        codes = list(pool.map(lambda _: use_ticket(row["value"]).status_code, range(200)))
    assert codes.count(200) == 50, codes
    assert codes.count(401) == 150, codes


def test_uses_taken_ahead_keep_the_count_exact_and_listed(srv, root_token, use_ticket):
    """A ticket with plenty left under concurrent use: the node takes uses ahead (SQLite) and hands them
    out from memory. Every use is granted, the list shows exactly what is left after each round, and a
    revocation refuses the next use although uses were held."""
    embed = unique("ahead")
    row = create_ticket(srv, root_token, embed_id=embed, left_num=2000)
    used = 0
    for _ in range(3):
        with ThreadPoolExecutor(max_workers=32) as pool:
            codes = list(pool.map(lambda _: use_ticket(row["value"]).status_code, range(300)))
        assert codes.count(200) == 300, codes
        used += 300
        assert row_for(tickets(srv, root_token, embed_id=embed), row["value"])["left_num"] == 2000 - used
    assert revoke(srv, root_token, row["ticket"]).status_code in (200, 204)
    assert_auth_error(use_ticket(row["value"]))
