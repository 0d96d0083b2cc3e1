"""Issue 11: upstream traffic goes through the account's default outbound proxy (NetProxyModelV5), a real
forward proxy on loopback (proxy.py from PyPI, with Basic proxy authentication) that logs every request."""

import re
import subprocess
import sys
import time

import pytest
import requests

from harness import assert_error, free_port
from test_remote_files import get, remote_repo
from upstream_server import StaticUpstream

ARCA_ARGS = ["--remote-allow-private-networks"]
PROXY_USER, PROXY_PASSWORD = "px", "proxy-Pass-42"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    server = StaticUpstream(tmp_path_factory.mktemp("upstream"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def forward_proxy(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("proxy") / "proxy.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", str(port),
                                 "--basic-auth", "%s:%s" % (PROXY_USER, PROXY_PASSWORD),
                                 "--num-workers", "1", "--num-acceptors", "1"], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            requests.get("http://127.0.0.1:%d/" % port, timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.2)
    yield {"port": port, "log": log}
    proc.terminate()
    proc.wait(timeout=10)


def proxied(forward_proxy, upstream, path):
    """The proxy's access-log lines for a request to the upstream's `path`."""
    pattern = re.compile(r"GET 127\.0\.0\.1:%d%s - (\d+)" % (upstream.port, re.escape(path)))
    return [m.group(1) for m in pattern.finditer(forward_proxy["log"].read_text(errors="replace"))]


def set_proxy(srv, body, proxy_id=None):
    if proxy_id is None:
        resp = srv.signed("POST", "/cloudartifact/v5/tree/net/proxy", body=body)
    else:
        resp = srv.signed("PUT", "/cloudartifact/v5/tree/net/proxy/%d" % proxy_id, body=body)
    assert resp.status_code == 200, resp.text
    return resp.json()["result"]["id"]


def test_upstream_requests_go_through_the_default_proxy(srv, project, login, upstream, forward_proxy):
    upstream.put("p/one.txt", b"via the proxy")
    upstream.put("p/two.txt", b"direct")
    upstream.put("p/three.txt", b"refused")
    repo = remote_repo(srv, project, upstream, prefix="/p")
    proxy_id = set_proxy(srv, {"host": "127.0.0.1", "port": forward_proxy["port"], "user_name": PROXY_USER,
                               "password": PROXY_PASSWORD, "is_default": 1})
    assert get(srv, login, repo, "one.txt").content == b"via the proxy"
    time.sleep(0.5)
    assert proxied(forward_proxy, upstream, "/p/one.txt") == ["200"]

    # Not the default any more: straight to the upstream.
    set_proxy(srv, {"is_default": 0}, proxy_id)
    assert get(srv, login, repo, "two.txt").content == b"direct"
    assert upstream.count("/p/two.txt") == 1
    time.sleep(0.5)
    assert proxied(forward_proxy, upstream, "/p/two.txt") == []

    # The default again, with a wrong password: the proxy refuses, and the read is a 502.
    set_proxy(srv, {"is_default": 1, "password": "wrong"}, proxy_id)
    resp = get(srv, login, repo, "three.txt")
    assert_error(resp, 502, "ARCA.00000016")
    assert upstream.count("/p/three.txt") == 0
    assert PROXY_PASSWORD not in srv.log_since(0, lines=100000)
