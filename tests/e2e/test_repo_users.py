"""SPEC §6, seed 003: GET /cloudartifact/v5/repositories/users (ListMavenUser).

Counting tests run on a server of their own holding root plus the users of `population`; tests that
need more users run on the shared session server.
"""

import math

import pytest
from huaweicloudsdkcodeartsartifact.v2 import ListMavenUserRequest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

from harness import DATETIME_RE, REGION, assert_error, assert_sdk_error

PATH = "/cloudartifact/v5/repositories/users"
ROW_KEYS = {"status", "domain_id", "region", "created_time", "modified_time", "created_user_id",
            "created_user_name", "modified_user_id", "modified_user_name", "user_id", "user_name", "user_type",
            "enabled", "repo_user_name", "repo_number", "inner_repo_user_name"}
PLAIN_USERS = 11


@pytest.fixture(scope="module")
def population(srv):
    """root + 11 users named repo-user-NN + one named MixedCase-Target: 13 in all."""
    users = [srv.create_user(name="repo-user-%02d" % i, with_key=False) for i in range(PLAIN_USERS)]
    users.append(srv.create_user(name="MixedCase-Target", with_key=False))
    return users


@pytest.fixture(scope="module")
def total(population):
    return len(population) + 1


def raw_list(srv, **query):
    resp = srv.signed("GET", PATH, query=list(query.items()))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == "success"
    assert body["trace_id"] == resp.headers["X-Request-Id"]
    return body["result"]


def sdk_list(client, **kw):
    return client.list_maven_user(ListMavenUserRequest(**kw))


def test_rows_are_sorted_by_user_id(srv, population, total):
    result = raw_list(srv, page_size=100)
    ids = [row["user_id"] for row in result["data"]]
    assert ids == sorted(ids)
    assert set(ids) == {srv.root.user_id} | {u.user_id for u in population}
    assert (result["total_records"], result["total_pages"]) == (total, 1)


def test_row_fields(srv, population):
    rows = {row["user_id"]: row for row in raw_list(srv, page_size=100)["data"]}
    for user in population + [srv.root]:
        row = rows[user.user_id]
        assert ROW_KEYS <= set(row), ROW_KEYS - set(row)
        assert type(row["status"]) is int and row["status"] == 0
        assert (row["user_name"], row["user_type"]) == (user.name, "personal")
        assert (row["domain_id"], row["region"]) == (srv.domain_id, REGION)
        assert row["repo_user_name"] == "%s_%s" % (srv.domain_id, user.user_id)
        assert row["inner_repo_user_name"] == "%s_%s_%s" % (REGION, srv.domain_id, user.user_id)
        assert DATETIME_RE.match(row["created_time"]) and DATETIME_RE.match(row["modified_time"])
        assert type(row["repo_number"]) is int and row["repo_number"] == 0


def test_sdk_reads_the_rows(srv, population, total):
    resp = sdk_list(srv.artifact_client(), page_size=100)
    assert resp.status == "success"
    assert resp.result.total_records == total
    row = next(r for r in resp.result.data if r.user_id == population[0].user_id)
    assert (row.user_name, row.user_type, row.repo_number) == (population[0].name, "personal", 0)


def test_default_page_is_first_ten(srv, population, total):
    result = raw_list(srv)
    assert len(result["data"]) == 10
    assert (result["total_records"], result["total_pages"]) == (total, math.ceil(total / 10))


def test_pages_concatenate_to_the_full_list(srv, population):
    full = [r["user_id"] for r in raw_list(srv, page_size=100)["data"]]
    paged = []
    for page_no in (1, 2):
        paged += [r["user_id"] for r in raw_list(srv, page_no=page_no, page_size=10)["data"]]
    assert paged == full


@pytest.mark.parametrize("page_size", [1, 4, 5, 13, 100])
def test_total_pages_is_ceil(srv, population, total, page_size):
    result = raw_list(srv, page_size=page_size)
    assert result["total_pages"] == math.ceil(total / page_size)
    assert len(result["data"]) == min(page_size, total)


def test_page_beyond_the_end_is_empty(srv, population, total):
    result = raw_list(srv, page_no=5, page_size=10)
    assert (result["data"], result["total_records"]) == ([], total)


def test_largest_page_no_is_accepted(srv, population):
    assert raw_list(srv, page_no=2147483647)["data"] == []


def test_user_name_filter_is_case_insensitive_substring(srv, population):
    result = raw_list(srv, user_name="mixedcase-t", page_size=100)
    assert [r["user_name"] for r in result["data"]] == ["MixedCase-Target"]
    assert (result["total_records"], result["total_pages"]) == (1, 1)


def test_user_name_filter_pages(srv, population):
    result = raw_list(srv, user_name="REPO-USER", page_size=5)
    assert (result["total_records"], result["total_pages"]) == (PLAIN_USERS, math.ceil(PLAIN_USERS / 5))
    assert all("repo-user" in r["user_name"] for r in result["data"])


def test_user_name_filter_without_match(srv, population):
    result = raw_list(srv, user_name="no-such-user")
    assert (result["data"], result["total_records"], result["total_pages"]) == ([], 0, 0)


BAD = [("page_size", "0"), ("page_size", "101"), ("page_size", "abc"), ("page_size", "-1"),
       ("page_no", "0"), ("page_no", "2147483648"), ("page_no", "abc"), ("page_no", "-1")]


@pytest.mark.parametrize("name,value", BAD, ids=["%s=%s" % b for b in BAD])
def test_out_of_range_paging_is_400(srv, name, value):
    body = assert_error(srv.signed("GET", PATH, query=[(name, value)]), 400)
    assert name in body["error_msg"], body["error_msg"]


def test_out_of_range_paging_through_sdk(srv):
    with pytest.raises(ClientRequestException) as e:
        sdk_list(srv.artifact_client(), page_size=101)
    assert_sdk_error(e.value, 400)


# -- identity policy: codeartsartifact:repository:listUsers (shared server) --------------------------------

def test_iam_user_without_policy_is_403(arca):
    user = arca.create_user()
    with pytest.raises(ClientRequestException) as e:
        sdk_list(arca.artifact_client(user.ak, user.sk))
    assert_sdk_error(e.value, 403)


def test_iam_user_with_policy_through_group_is_allowed(arca):
    user = arca.create_user()
    arca.grant(user, ["codeartsartifact:repository:listUsers"])
    resp = sdk_list(arca.artifact_client(user.ak, user.sk), page_size=100)
    assert resp.status == "success"
    assert user.user_id in {r.user_id for r in resp.result.data}


def test_wildcard_policy_is_allowed(arca):
    user = arca.create_user()
    arca.grant(user, ["codeartsartifact:*:*"])
    assert sdk_list(arca.artifact_client(user.ak, user.sk)).status == "success"


def test_unrelated_policy_is_403(arca):
    user = arca.create_user()
    arca.grant(user, ["codeartsartifact:ticket:list"])
    with pytest.raises(ClientRequestException) as e:
        sdk_list(arca.artifact_client(user.ak, user.sk))
    assert_sdk_error(e.value, 403)


def test_root_is_always_allowed(arca):
    assert sdk_list(arca.artifact_client()).status == "success"
