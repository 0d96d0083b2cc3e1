"""Issue 10 (tests that stay): failed authentications are limited per client address and per user.

After `auth_failure_limit` failures within `auth_failure_window_secs`, further attempts from that address, or
naming that user, answer 429 with `Retry-After` and `ARCA.00000013` without the credential being checked,
until the window has passed. Every credential form counts: signatures (unknown AK, bad signature), tokens,
tickets, repo user Basic logins, IAM password logins and npm's legacy login. Clients bind 127.0.0.x source
addresses (Linux routes all of 127/8 to the loopback), so each test has addresses of its own.
"""

import base64
import itertools
import re
import secrets
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from harness import ROLE_VIEWER, assert_error

LIMIT = 5
WINDOW = 3
ARCA_ARGS = ["--auth-failure-limit", str(LIMIT), "--auth-failure-window-secs", str(WINDOW)]
RATE_CODE = "ARCA.00000013"

_addresses = itertools.count(10)


class _SourceAddress(HTTPAdapter):
    def __init__(self, source):
        self._source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self._source, 0)
        super().init_poolmanager(*args, **kwargs)


def client_from(address=None) -> requests.Session:
    """A session whose connections come from `address` (default: a 127.0.0.x no other test used)."""
    address = address or "127.0.0.%d" % next(_addresses)
    assert int(address.rsplit(".", 1)[1]) < 255
    session = requests.Session()
    session.mount("http://", _SourceAddress(address))
    session.address = address
    return session


def junk_hex(n=32):
    return secrets.token_hex(n // 2)


def assert_limited(resp):
    assert resp.status_code == 429, (resp.status_code, resp.text[:300])
    retry_after = resp.headers.get("Retry-After", "")
    assert retry_after.isdigit() and 1 <= int(retry_after) <= WINDOW, retry_after
    if resp.headers.get("Content-Type", "").startswith("application/json") and "error_code" in resp.text:
        body = assert_error(resp, 429, re.escape(RATE_CODE))
        assert "retry" in body["error_msg"].lower(), body


@pytest.fixture(scope="module")
def world(srv):
    project = srv.create_project()
    generic = srv.create_repo(project, "generic")
    npm = srv.create_repo(project, "npm")
    root_login = srv.repo_login()
    put = requests.put(srv.url("/artifactory/%s/hello.txt" % generic), data=b"hello", auth=root_login, timeout=30)
    assert put.status_code == 201, put.text
    return {"project": project, "generic": generic, "npm": npm, "root_login": root_login}


def member(srv, world):
    """A user who may read the module's repositories, with an AK/SK and a repo password."""
    user = srv.create_user()
    srv.add_member(world["project"], user.user_id, ROLE_VIEWER)
    user.repo_login = srv.repo_login(user)
    return user


# Each credential form: a failing attempt (naming `user`, or an unknown user when None) and a valid one.

def signature(srv, world, session, user=None, good=False):
    path = "/v3/users/%s" % (user or srv.root).user_id
    if good:
        return srv.signed("GET", path, ak=(user or srv.root).ak, sk=(user or srv.root).sk, session=session)
    if user is None:  # an access key that does not exist
        return srv.signed("GET", path, ak=junk_hex(20).upper(), sk="x" * 40, session=session)
    return srv.signed("GET", path, ak=user.ak, sk="wrong" + user.sk[5:], session=session)


def token(srv, world, session, user=None, good=False):
    # On the CodeArts management API (its authentication layer takes tickets; IAM's, which the signature
    # form calls, does not).
    user = user or srv.root
    value = srv.token_for(user.name, user.password) if good else "MII" + junk_hex(64)
    return session.get(srv.url("/cloudartifact/v5/repositories/user/info"), headers={"X-Auth-Token": value},
                       timeout=30)


def ticket(srv, world, session, user=None, good=False):
    if good:
        value = srv.issue_ticket(user)
    else:
        raw = "ticket_%d:%s:%s" % (time.time() * 1000, junk_hex(32), (user.user_id if user else junk_hex()))
        value = base64.b64encode(raw.encode()).decode()
    return session.get(srv.url("/artifactory/%s/hello.txt" % world["generic"]),
                       headers={"Authorization": "Bearer " + value}, timeout=30)


def repo_basic(srv, world, session, user=None, good=False):
    login = user.repo_login if user else world["root_login"]
    if not good:
        login = (login[0] if user else "%s_%s" % (junk_hex(), junk_hex()), "wrong-password")
    return session.get(srv.url("/artifactory/%s/hello.txt" % world["generic"]), auth=login, timeout=30)


def iam_password(srv, world, session, user=None, good=False):
    user = user or srv.root
    name = user.name if (good or user is not srv.root) else "nobody_" + junk_hex(8)
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": name, "password": user.password if good else "wrong-password",
        "domain": {"name": srv.domain_name}}}}, "scope": {"domain": {"name": srv.domain_name}}}}
    return session.post(srv.url("/v3/auth/tokens"), json=body, timeout=30)


def npm_login(srv, world, session, user=None, good=False):
    login = user.repo_login if user else world["root_login"]
    name = login[0] if (good or user) else "%s_%s" % (junk_hex(), junk_hex())
    password = login[1] if good else "wrong-password"
    url = srv.url("/artifactory/api/npm/%s/-/user/org.couchdb.user:%s" % (world["npm"], name))
    return session.put(url, json={"name": name, "password": password, "type": "user"}, timeout=30)


FORMS = {f.__name__: f for f in (signature, token, ticket, repo_basic, iam_password, npm_login)}
USER_FORMS = ["signature", "repo_basic", "iam_password", "npm_login"]


def ok(resp):
    assert resp.status_code in (200, 201), (resp.status_code, resp.text[:300])


@pytest.mark.parametrize("form", FORMS)
def test_an_address_is_refused_after_the_limit_without_its_credential_being_checked(srv, world, form):
    attempt = FORMS[form]
    attacker, bystander = client_from(), client_from()
    for _ in range(LIMIT):  # every failure names another (unknown) user, so only the address adds up
        assert attempt(srv, world, attacker).status_code == 401
    assert_limited(attempt(srv, world, attacker))
    # A valid credential from the refused address is not even checked...
    assert_limited(attempt(srv, world, attacker, good=True))
    # ...while other clients are served as usual.
    ok(attempt(srv, world, bystander, good=True))


@pytest.mark.parametrize("form", USER_FORMS)
def test_a_user_is_protected_from_attempts_spread_over_addresses(srv, world, form):
    attempt = FORMS[form]
    victim, other = member(srv, world), member(srv, world)
    for _ in range(LIMIT):
        assert attempt(srv, world, client_from(), victim).status_code == 401
    fresh = client_from()
    assert_limited(attempt(srv, world, fresh, victim))
    assert_limited(attempt(srv, world, fresh, victim, good=True))
    ok(attempt(srv, world, fresh, other, good=True))
    time.sleep(WINDOW + 0.5)
    ok(attempt(srv, world, fresh, victim, good=True))


def test_successes_reset_no_count_and_the_window_ends_the_refusal(srv, world):
    attacker = client_from()
    for _ in range(LIMIT - 1):
        assert repo_basic(srv, world, attacker).status_code == 401
    # Neither another client's success nor the attacker's own valid credential forgives a failure.
    ok(repo_basic(srv, world, client_from(), good=True))
    ok(repo_basic(srv, world, attacker, good=True))
    assert repo_basic(srv, world, attacker).status_code == 401
    assert_limited(repo_basic(srv, world, attacker, good=True))
    time.sleep(WINDOW + 0.5)
    ok(repo_basic(srv, world, attacker, good=True))


def test_forwarded_for_is_ignored_without_a_trusted_proxy(srv, world):
    attacker = client_from()
    for i in range(LIMIT):
        attacker.headers["X-Forwarded-For"] = "203.0.113.%d" % (i + 1)
        assert repo_basic(srv, world, attacker).status_code == 401
    attacker.headers["X-Forwarded-For"] = "203.0.113.200"
    assert_limited(repo_basic(srv, world, attacker, good=True))


def test_behind_a_trusted_proxy_the_forwarded_client_counts(start_arca):
    proxied = start_arca(["--auth-failure-limit", str(LIMIT), "--auth-failure-window-secs", str(WINDOW),
                          "--trusted-proxies", "127.0.0.1,::1"])
    project = proxied.create_project()
    world = {"generic": proxied.create_repo(project, "generic"), "root_login": proxied.repo_login()}
    assert requests.put(proxied.url("/artifactory/%s/hello.txt" % world["generic"]), data=b"hello",
                        auth=world["root_login"], timeout=30).status_code == 201
    proxy = client_from("127.0.0.1")
    proxy.headers["X-Forwarded-For"] = "198.51.100.1, 203.0.113.7"
    for _ in range(LIMIT):
        assert repo_basic(proxied, world, proxy).status_code == 401
    assert_limited(repo_basic(proxied, world, proxy, good=True))
    proxy.headers["X-Forwarded-For"] = "198.51.100.1, 203.0.113.8"
    ok(repo_basic(proxied, world, proxy, good=True))
