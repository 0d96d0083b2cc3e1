"""`GET /metrics`: off unless `metrics_token` is configured, then only for that bearer token; the Prometheus
text it answers carries the process gauges an operator (and scripts/soak.py) watches, and the counters of
what the server did, which move by exactly what the known requests below did."""

import base64
import re
import time

import pytest
import requests

from harness import decode_ticket, sql_row, unique

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


SAMPLE = re.compile(r'^(arca_[a-z_]+)(?:\{(.*)\})? (-?[0-9.e+]+|\+Inf|NaN)$')
LABEL = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"')


def scrape(server):
    resp = requests.get(server.url("/metrics"), headers={"Authorization": "Bearer " + TOKEN}, timeout=10)
    assert resp.status_code == 200, resp.text
    samples = {}
    for line in resp.text.splitlines():
        match = SAMPLE.match(line)
        if match:
            labels = frozenset(LABEL.findall(match.group(2) or ""))
            samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def value(samples, name, **labels):
    """The sum over the samples of `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def delta(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture(scope="module")
def generic_repo(with_metrics):
    project = with_metrics.create_project()
    return with_metrics.create_repo(project, "generic")


@pytest.fixture(scope="module")
def repo_login(with_metrics):
    return with_metrics.repo_login()


def test_uploads_and_bytes_move_by_what_was_sent(with_metrics, generic_repo, repo_login):
    payloads = [b"a" * 1000, b"b" * 2000, b"c" * 3000]
    before = scrape(with_metrics)
    for i, data in enumerate(payloads):
        resp = requests.put(with_metrics.url("/artifactory/%s/m/%d.bin" % (generic_repo, i)), data=data,
                            auth=repo_login, timeout=10)
        assert resp.status_code == 201, resp.text
    downloaded = requests.get(with_metrics.url("/artifactory/%s/m/2.bin" % generic_repo), auth=repo_login,
                              timeout=10)
    assert downloaded.content == payloads[2]
    after = scrape(with_metrics)

    assert delta(before, after, "arca_uploads_total", format="generic") == 3
    group = "protocol_maven_generic"
    route = "/artifactory/{repo}/{*path}"
    assert delta(before, after, "arca_http_requests_total", group=group, route=route, method="PUT",
                 status="2xx") == 3
    assert delta(before, after, "arca_http_requests_total", group=group, route=route, method="GET",
                 status="2xx") == 1
    assert delta(before, after, "arca_http_request_body_bytes_total", group=group) == 6000
    # The download's bytes, and the three uploads' short answers.
    assert 3000 < delta(before, after, "arca_http_response_body_bytes_total", group=group) < 3000 + 3 * 2000
    assert delta(before, after, "arca_http_request_duration_seconds_count", group=group) == 4
    assert delta(before, after, "arca_http_request_duration_seconds_sum", group=group) > 0
    # Every upload and the download took database connections.
    assert delta(before, after, "arca_db_pool_wait_seconds_count") >= 4


def test_blob_store_totals_follow_the_blobs_table(with_metrics, generic_repo, repo_login):
    data = b"blob-total-%s" % unique("x").encode()
    resp = requests.put(with_metrics.url("/artifactory/%s/totals.bin" % generic_repo), data=data,
                        auth=repo_login, timeout=10)
    assert resp.status_code == 201, resp.text
    expected = sql_row(with_metrics, "SELECT COUNT(*), SUM(size) FROM blobs")
    # The totals are read at most every 5 s; within two periods they are the table's.
    deadline = time.time() + 11
    while True:
        samples = scrape(with_metrics)
        seen = (value(samples, "arca_blob_store_blobs"), value(samples, "arca_blob_store_size_bytes"))
        if seen == (float(expected[0]), float(expected[1])) or time.time() > deadline:
            break
        time.sleep(0.5)
    assert seen == (float(expected[0]), float(expected[1]))
    assert seen[1] >= len(data)


def test_route_labels_are_templates_not_paths(with_metrics, generic_repo, repo_login):
    secret_name = unique("never-a-label")
    resp = requests.get(with_metrics.url("/artifactory/%s/%s" % (generic_repo, secret_name)), auth=repo_login,
                        timeout=10)
    assert resp.status_code == 404
    resp = requests.get(with_metrics.url("/no/such/%s" % secret_name), timeout=10)
    assert resp.status_code == 404
    text = requests.get(with_metrics.url("/metrics"), headers={"Authorization": "Bearer " + TOKEN},
                        timeout=10).text
    assert secret_name not in text
    assert generic_repo not in text
    after = scrape(with_metrics)
    assert value(after, "arca_http_requests_total", group="other", route="unmatched", status="4xx") >= 1


def test_groups_of_the_management_apis(with_metrics):
    before = scrape(with_metrics)
    assert requests.get(with_metrics.url("/health"), timeout=10).status_code == 200
    with_metrics.create_project()  # ProjectMan, signed
    resp = with_metrics.signed("GET", "/v3/users")
    assert resp.status_code == 200, resp.text
    after = scrape(with_metrics)
    assert delta(before, after, "arca_http_requests_total", group="health", route="/health", method="GET",
                 status="2xx") == 1
    assert delta(before, after, "arca_http_requests_total", group="projectman", method="POST",
                 status="2xx") == 1
    assert delta(before, after, "arca_http_requests_total", group="iam", route="/v3/users", method="GET",
                 status="2xx") == 1


def test_ticket_uses_and_refusals(with_metrics):
    project = with_metrics.create_project()
    ticket = with_metrics.issue_ticket()
    path = "/cloudartifact/v3/user/%s/privileges" % project
    before = scrape(with_metrics)
    for _ in range(2):
        resp = with_metrics.get(path, headers={"Authorization": "Bearer " + ticket})
        assert resp.status_code == 200, resp.text
    # A forged ticket (right shape, wrong secret), and a ticket on an API that takes none.
    issued, secret, user = decode_ticket(ticket).groups()
    forged = base64.b64encode(("ticket_%s:%s:%s" % (issued, secret[::-1], user)).encode()).decode()
    assert with_metrics.get(path, headers={"Authorization": "Bearer " + forged}).status_code == 401
    assert with_metrics.get("/v3/users", headers={"Authorization": "Bearer " + ticket}).status_code == 401
    after = scrape(with_metrics)
    assert delta(before, after, "arca_ticket_uses_total") == 2
    assert delta(before, after, "arca_ticket_refusals_total", reason="invalid") == 1
    assert delta(before, after, "arca_ticket_refusals_total", reason="not_accepted") == 1


def test_authentication_failures(with_metrics, generic_repo):
    before = scrape(with_metrics)
    for i in range(3):
        resp = requests.get(with_metrics.url("/artifactory/%s/x" % generic_repo),
                            auth=("nobody-%d" % i, "wrong-password"), timeout=10)
        assert resp.status_code == 401
    # No credential at all is not a failed authentication.
    assert requests.get(with_metrics.url("/v3/users"), timeout=10).status_code == 401
    after = scrape(with_metrics)
    assert delta(before, after, "arca_auth_failures_total", reason="rejected") == 3
    assert delta(before, after, "arca_http_requests_total", group="iam", status="4xx") == 1
