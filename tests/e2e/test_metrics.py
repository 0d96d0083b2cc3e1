"""`GET /metrics`: off unless `metrics_token` is configured, then only for that bearer token; the Prometheus
text it answers carries the process gauges an operator (and scripts/soak.py) watches."""

import re

import pytest
import requests

TOKEN = "metrics-token-0123456789"


@pytest.fixture(scope="module")
def with_metrics(tmp_path_factory):
    from conftest import _start, _stop
    server = _start(tmp_path_factory.mktemp("metrics"), env={"ARCA_METRICS_TOKEN": TOKEN})
    yield server
    _stop(server)


def gauges(text):
    values = {}
    for line in text.splitlines():
        match = re.match(r"^(arca_[a-z_]+) (-?[0-9.e+]+)$", line)
        if match:
            values[match.group(1)] = float(match.group(2))
    return values


def test_off_without_a_token(srv):
    resp = requests.get(srv.url("/metrics"), timeout=10)
    assert resp.status_code == 404
    resp = requests.get(srv.url("/metrics"), headers={"Authorization": "Bearer anything-at-all-here"}, timeout=10)
    assert resp.status_code == 404


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token-0123456789", "Bearer " + TOKEN[:-1],
                                           "Basic " + TOKEN, TOKEN])
def test_refused_without_the_token(with_metrics, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    resp = requests.get(with_metrics.url("/metrics"), headers=headers, timeout=10)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "arca_" not in resp.text


def test_process_gauges(with_metrics):
    resp = requests.get(with_metrics.url("/metrics"), headers={"Authorization": "Bearer " + TOKEN}, timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
    assert resp.text.rstrip().endswith("# EOF")
    values = gauges(resp.text)
    assert 0 < values["arca_heap_allocated_bytes"] <= values["arca_heap_active_bytes"] \
        <= values["arca_heap_resident_bytes"]
    assert values["arca_heap_metadata_bytes"] > 0
    assert values["arca_heap_resident_bytes"] <= values["arca_process_resident_memory_bytes"]
    assert values["arca_process_open_fds"] >= 3
    assert 1 <= values["arca_db_pool_connections"] <= 8
    assert 0 <= values["arca_db_pool_idle_connections"] <= values["arca_db_pool_connections"]
    with open("/proc/%d/status" % with_metrics.proc.pid) as status:
        rss_kib = int(next(line for line in status if line.startswith("VmRSS:")).split()[1])
    # The same process, a moment apart: within a factor of two of what the kernel says.
    assert rss_kib * 1024 / 2 < values["arca_process_resident_memory_bytes"] < rss_kib * 1024 * 2
