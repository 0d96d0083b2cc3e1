"""Issue 13: an account's IP allow-list (list_domain_ip_config and arca's create/update/delete). Without rules
every address is accepted; with rules, every request for the account — management API, IAM tokens and every
package protocol, anonymous reads of an open repository included — from another address is refused with 403
`ARCA.00000018`. Requests really come from a second loopback address (127.0.0.2), and through a trusted proxy
(127.0.0.3) that names the client in X-Forwarded-For."""

import pytest
import requests
from huaweicloudsdkcodeartsartifact.v2 import ListDomainIpConfigRequest

from harness import assert_error

ARCA_ARGS = ["--trusted-proxies", "127.0.0.3"]
IPCONFIG = "/cloudartifact/v5/domain/ipconfig"


class FromAddress(requests.adapters.HTTPAdapter):
    def __init__(self, source, **kw):
        self.source = source
        super().__init__(**kw)

    def init_poolmanager(self, *args, **kw):
        kw["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kw)


def client(source):
    session = requests.Session()
    session.mount("http://", FromAddress(source))
    return session


@pytest.fixture(scope="module")
def world(srv, project, login):
    repo = srv.create_repo(project, "generic")
    assert requests.put(srv.url("/artifactory/%s/f.txt" % repo), data=b"bytes", auth=login, timeout=10).ok
    open_repo = srv.create_repo(project, "generic")
    assert srv.signed("PUT", "/cloudartifact/v5/artifact/", body={"repo_name": open_repo,
                                                                  "allow_anonymous": True}).ok
    assert requests.put(srv.url("/artifactory/%s/o.txt" % open_repo), data=b"open", auth=login, timeout=10).ok
    return {"repo": repo, "open": open_repo, "token": srv.root_token()}


def reach(srv, login, world, source, headers=None):
    """What each kind of request answers from `source`."""
    s = client(source)
    h = dict(headers or {})
    return {
        "management": s.get(srv.url(IPCONFIG),
                            headers={**h, "X-Auth-Token": world["token"]}, timeout=10),
        "protocol": s.get(srv.url("/artifactory/%s/f.txt" % world["repo"]), auth=login, headers=h, timeout=10),
        "anonymous": s.get(srv.url("/artifactory/%s/o.txt" % world["open"]), headers=h, timeout=10),
        "iam_password": s.post(srv.url("/v3/auth/tokens"), headers=h, timeout=10, json={"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "domain": {"name": srv.domain_name}, "name": srv.root.name, "password": srv.root.password}}},
            "scope": {"domain": {"name": srv.domain_name}}}}),
    }


def rules(srv):
    resp = srv.signed("GET", IPCONFIG)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]


def add(srv, value):
    return srv.signed("POST", IPCONFIG, body={"value": value})


def test_without_rules_every_address_is_accepted(srv, login, world):
    assert rules(srv) == {"total_records": 0, "total_pages": 0, "data": []}
    for kind, resp in reach(srv, login, world, "127.0.0.2").items():
        assert resp.status_code in (200, 201), (kind, resp.status_code, resp.text)


def test_rules_refuse_every_other_address(srv, login, world):
    made = add(srv, "127.0.0.1")
    assert made.status_code == 200, made.text
    rule = made.json()["result"]
    assert (rule["type"], rule["value"], rule["domain_id"]) == ("ip", "127.0.0.1", srv.domain_id)
    try:
        listed = srv.artifact_client().list_domain_ip_config(ListDomainIpConfigRequest(page_no=1, page_size=10))
        assert listed.result.total_records == 1 and listed.result.data[0].value == "127.0.0.1"
        for kind, resp in reach(srv, login, world, "127.0.0.2").items():
            body = assert_error(resp, 403, "ARCA.00000018")
            assert "allow-list" in body["error_msg"], kind
        for kind, resp in reach(srv, login, world, "127.0.0.1").items():
            assert resp.status_code in (200, 201), (kind, resp.status_code, resp.text)
        # A network admits every address in it.
        wide = add(srv, "127.0.0.0/30")
        assert wide.status_code == 200 and wide.json()["result"]["type"] == "cidr"
        assert all(r.status_code in (200, 201) for r in reach(srv, login, world, "127.0.0.2").values())
        assert srv.signed("DELETE", "%s/%s" % (IPCONFIG, wide.json()["result"]["id"])).status_code == 200
        assert client("127.0.0.2").get(srv.url("/artifactory/%s/o.txt" % world["open"]), timeout=10) \
            .status_code == 403
    finally:
        assert srv.signed("DELETE", "%s/%s" % (IPCONFIG, rule["id"])).status_code == 200
    assert all(r.status_code in (200, 201) for r in reach(srv, login, world, "127.0.0.2").values())


def test_a_trusted_proxy_names_the_client(srv, login, world):
    rule = add(srv, "127.0.0.1").json()["result"]
    try:
        via_proxy = reach(srv, login, world, "127.0.0.3", {"X-Forwarded-For": "127.0.0.1"})
        assert all(r.status_code in (200, 201) for r in via_proxy.values()), via_proxy
        refused = reach(srv, login, world, "127.0.0.3", {"X-Forwarded-For": "127.0.0.2"})
        assert all(r.status_code == 403 for r in refused.values())
        # An address that is no trusted proxy cannot claim another.
        forged = reach(srv, login, world, "127.0.0.2", {"X-Forwarded-For": "127.0.0.1"})
        assert all(r.status_code == 403 for r in forged.values())
    finally:
        srv.signed("DELETE", "%s/%s" % (IPCONFIG, rule["id"]))


def test_no_change_may_lock_its_author_out(srv):
    other = add(srv, "10.0.0.0/8")
    body = assert_error(other, 400, "ARCA.00000001")
    assert "value" in body["error_msg"]
    rule = add(srv, "127.0.0.1").json()["result"]
    second = add(srv, "10.0.0.0/8").json()["result"]
    try:
        moved = srv.signed("PUT", "%s/%s" % (IPCONFIG, rule["id"]), body={"value": "192.0.2.1"})
        assert_error(moved, 400, "ARCA.00000001")
        gone = srv.signed("DELETE", "%s/%s" % (IPCONFIG, rule["id"]))
        assert_error(gone, 400, "ARCA.00000001")
        assert [r["value"] for r in rules(srv)["data"]] == ["127.0.0.1", "10.0.0.0/8"]
    finally:
        assert srv.signed("DELETE", "%s/%s" % (IPCONFIG, second["id"])).status_code == 200
        assert srv.signed("DELETE", "%s/%s" % (IPCONFIG, rule["id"])).status_code == 200


def test_bad_input_privileges_and_paging(srv):
    for bad in ("example.com", "10.0.0.0/33", "1.2.3", ""):
        resp = add(srv, bad)
        assert "value" in assert_error(resp, 400, "ARCA.00000001")["error_msg"], bad
    assert_error(srv.signed("PUT", "%s/abc" % IPCONFIG, body={"value": "127.0.0.1"}), 400, "ARCA.00000001")
    assert_error(srv.signed("DELETE", "%s/999999" % IPCONFIG), 404, "ARCA.00000005")
    assert_error(srv.signed("GET", IPCONFIG, query={"page_size": "101"}), 400, "ARCA.00000001")
    made = [add(srv, v).json()["result"] for v in ("127.0.0.0/8", "::1", "192.0.2.0/24")]
    try:
        assert_error(add(srv, "127.0.0.9/8"), 409, "ARCA.00000006")
        page = srv.signed("GET", IPCONFIG, query={"page_no": "2", "page_size": "2"}).json()["result"]
        assert page["total_records"] == 3 and page["total_pages"] == 2
        assert [r["value"] for r in page["data"]] == ["192.0.2.0/24"]
        user = srv.create_user()
        refused = srv.signed("POST", IPCONFIG, body={"value": "127.0.0.1"}, ak=user.ak, sk=user.sk)
        assert_error(refused, 403, "ARCA.00000004")
    finally:
        for rule in reversed(made):
            srv.signed("DELETE", "%s/%s" % (IPCONFIG, rule["id"]))
