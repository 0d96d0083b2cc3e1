"""Issue 12: several arca nodes sharing nothing but one PostgreSQL database and one S3 bucket behave as one
service. The cluster (cluster.py) has its own PostgreSQL and S3 servers, so tests can stop and restart them.
The tests run in order and build on the nodes the earlier ones left running."""

import itertools
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

import uploads
from cluster import Cluster
from harness import assert_error, blobs_on_s3, sha256_hex, unique

TIMEOUT = 60

# The cluster brings its own S3 server, so the suite's S3 run (ARCA_TEST_BLOBS=s3) has nothing to add.
pytestmark = pytest.mark.skipif(blobs_on_s3(), reason="runs in the default run, on its own S3 server")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("cluster"))
    yield c
    c.close()


def live(cluster, count):
    """`count` running nodes (starting more if earlier tests stopped some)."""
    running = [n for n in cluster.nodes if n.proc.poll() is None]
    while len(running) < count:
        running.append(cluster.start_node("node%d" % len(cluster.nodes)))
    return running[:count]


def test_nodes_started_together_bootstrap_exactly_one_account(cluster):
    nodes = cluster.start_nodes(3)
    written = [n for n in nodes if (n.data_dir / "bootstrap.json").exists()]
    assert len(written) == 1, "exactly the bootstrapping node writes bootstrap.json"
    assert cluster.psql("SELECT count(*) FROM domains") == "1"
    assert cluster.psql("SELECT count(*) FROM users") == "1"
    # The bootstrap access key, sealed by one node, signs requests every node accepts (one shared key).
    for node in nodes:
        resp = node.signed("GET", "/v3/projects")
        assert resp.status_code == 200, (node.base_url, resp.text)
    # And so does a key made on another node afterwards.
    user = nodes[1].create_user()
    resp = nodes[2].signed("GET", "/v3/projects", ak=user.ak, sk=user.sk)
    assert resp.status_code in (200, 403), resp.text
    assert resp.status_code != 401


def test_a_node_given_another_secret_key_refuses_to_start(cluster, tmp_path):
    live(cluster, 1)
    other = tmp_path / "other.key"
    other.write_bytes(os.urandom(32))
    with pytest.raises(RuntimeError, match="secret_key_file"):
        cluster.start_node("stranger", key_file=other)
    cluster.nodes = [n for n in cluster.nodes if n.proc.poll() is None]


def test_health_reports_database_and_bucket(cluster):
    for node in live(cluster, 2):
        resp = node.get("/health")
        assert resp.status_code == 200 and resp.json() == {"status": "ok"}


def tickets_path(node):
    return "/v1/%s/tickets" % node.iam_project_id


def test_what_one_node_publishes_the_real_clients_resolve_through_another(cluster, tmp_path):
    """Maven, npm, PyPI, Cargo and generic: published through node A with the real client, resolved,
    installed and run through node B at once."""
    import subprocess

    import test_cargo
    import test_maven
    import test_npm
    import test_pypi

    a, b = live(cluster, 2)
    project = a.create_project()
    user, password = a.repo_login()
    stamp = unique("x").replace("_", "")

    # generic
    generic = a.create_repo(project, "generic")
    assert uploads.put_file(a.base_url, generic, "g/file.txt", b"generic", (user, password)).status_code == 201
    assert uploads.served_file(b.base_url, generic, "g/file.txt", (user, password)) == b"generic"

    # npm
    npm_repo = a.create_repo(project, "npm")
    ticket = test_npm.ticket_for(a)
    name = "greet-%s" % stamp.lower()
    pkg = test_npm.package(tmp_path / "npm-src", name, "1.0.0", "module.exports = () => 'hello from A';\n")
    out = test_npm.npm(test_npm.npmrc(tmp_path / "a.npmrc", a, npm_repo, ticket), pkg, "publish")
    assert out.returncode == 0, out.stderr
    consumer = tmp_path / "npm-app"
    consumer.mkdir()
    (consumer / "package.json").write_text('{"name": "app", "version": "1.0.0"}')
    rc_b = test_npm.npmrc(tmp_path / "b.npmrc", b, npm_repo, ticket)
    out = test_npm.npm(rc_b, consumer, "install", name)
    assert out.returncode == 0, out.stderr
    run = subprocess.run(["node", "-e", "console.log(require(%r)())" % name], cwd=consumer, capture_output=True,
                         text=True, timeout=60)
    assert run.stdout.strip() == "hello from A", run.stderr

    # PyPI
    pypi_repo = a.create_repo(project, "pypi")
    module = "hello_%s" % stamp.lower()
    (tmp_path / "dist").mkdir()
    wheel = test_pypi.make_wheel(tmp_path / "dist", module, "1.0", "GREETING = 'hello from A'\n")
    out = test_pypi.twine_upload(a, pypi_repo, (user, password), wheel)
    assert out.returncode == 0, out.stdout + out.stderr
    target = tmp_path / "site"
    out = test_pypi.pip_install(b, pypi_repo, (user, password), target, module)
    assert out.returncode == 0, out.stdout + out.stderr
    assert test_pypi.imported(target, module, "%s.GREETING" % module) == "hello from A"

    # Cargo
    cargo_repo = a.create_repo(project, "cargo")
    crate_name = "greeter-%s" % stamp.lower()
    env_a = test_cargo.cargo_home(tmp_path / "cargo-a", a, cargo_repo, test_cargo.basic_token((user, password)))
    crate = test_cargo.library(tmp_path / "crates", crate_name, "0.1.0",
                               'pub fn greet() -> &\'static str { "hello from A" }\n')
    out = test_cargo.cargo(env_a, crate, "publish", "--registry", "arca", "--allow-dirty")
    assert out.returncode == 0, out.stderr
    env_b = test_cargo.cargo_home(tmp_path / "cargo-b", b, cargo_repo, test_cargo.basic_token((user, password)))
    out = test_cargo.cargo(env_b, tmp_path, "new", "--bin", "app", "--vcs", "none")
    assert out.returncode == 0, out.stderr
    out = test_cargo.cargo(env_b, tmp_path / "app", "add", crate_name, "--registry", "arca")
    assert out.returncode == 0, out.stderr
    (tmp_path / "app/src/main.rs").write_text(
        'fn main() { println!("{}", %s::greet()); }\n' % crate_name.replace("-", "_"))
    out = test_cargo.cargo(env_b, tmp_path / "app", "run", "-q")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "hello from A"

    # Maven
    pair = a.create_maven_repo(project, unique("mvn"))
    urls = {node: (node.url("/artifactory/%s/" % pair["release"]), node.url("/artifactory/%s/" % pair["snapshot"]))
            for node in (a, b)}
    settings_a = tmp_path / "settings-a.xml"
    test_maven.settings_xml(settings_a, tmp_path / "m2-a", user, password)
    lib = test_maven.java_project(tmp_path / "greeter", test_maven.pom("com.acme", "greeter", "1.0", *urls[a]), {
        "com/acme/Greeter.java": """\
            package com.acme;
            public class Greeter { public static String greet() { return "hello from A"; } }
            """})
    test_maven.mvn(settings_a, lib, "deploy")
    settings_b = tmp_path / "settings-b.xml"
    local_b = tmp_path / "m2-b"
    test_maven.settings_xml(settings_b, local_b, user, password)
    deps = "<dependency><groupId>com.acme</groupId><artifactId>greeter</artifactId><version>1.0</version></dependency>"
    app = test_maven.java_project(tmp_path / "mvn-app", test_maven.pom("com.example", "app", "1.0", *urls[b], deps), {
        "com/example/Main.java": """\
            package com.example;
            public class Main { public static void main(String[] a) { System.out.println(com.acme.Greeter.greet()); } }
            """})
    test_maven.mvn(settings_b, app, "package")
    run = subprocess.run(["java", "-cp", "%s:%s" % (app / "target/app-1.0.jar",
                                                   local_b / "com/acme/greeter/1.0/greeter-1.0.jar"),
                          "com.example.Main"], capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == "hello from A", run.stderr


def test_ticket_uses_are_exact_across_nodes_and_revocation_is_immediate(cluster):
    nodes = live(cluster, 3)
    token = nodes[0].root_token()
    project = nodes[0].create_project()
    resp = nodes[0].request("POST", tickets_path(nodes[0]), headers={"X-Auth-Token": token},
                            json={"embed_id": unique("race"), "left_num": 50})
    assert resp.status_code in (200, 201), resp.text
    ticket = resp.json()["value"]

    def use(i):
        node = nodes[i % len(nodes)]
        return node.get("/cloudartifact/v3/user/%s/privileges" % project,
                        headers={"Authorization": "Bearer " + ticket}).status_code

    with ThreadPoolExecutor(max_workers=48) as pool:
        codes = list(pool.map(use, range(500)))
    assert codes.count(200) == 50, sorted(set(codes))
    assert codes.count(401) == 450

    resp = nodes[0].request("POST", tickets_path(nodes[0]), headers={"X-Auth-Token": token},
                            json={"embed_id": unique("revoke")})
    row = resp.json()
    path = "/cloudartifact/v3/user/%s/privileges" % project
    assert nodes[1].get(path, headers={"Authorization": "Bearer " + row["value"]}).status_code == 200
    resp = nodes[0].request("DELETE", tickets_path(nodes[0]) + "/" + sha256_hex(row["value"]),
                            headers={"X-Auth-Token": token})
    assert resp.status_code in (200, 204), resp.text
    for node in nodes[1:]:
        assert node.get(path, headers={"Authorization": "Bearer " + row["value"]}).status_code == 401


def test_a_member_removed_on_one_node_is_refused_by_the_others_at_once(cluster):
    a, b, c = live(cluster, 3)
    project = a.create_project()
    repo = a.create_repo(project, "generic")
    user = a.create_user()
    a.add_member(project, user.user_id, 4)
    auth = a.repo_login()
    assert uploads.put_file(a.base_url, repo, "m/file.txt", b"members", auth).status_code == 201
    user_auth = b.repo_login(user)
    assert uploads.served_file(c.base_url, repo, "m/file.txt", user_auth) == b"members"
    resp = a.signed("DELETE", "/v4/projects/%s/members" % project, body={"user_ids": [user.user_id]})
    assert resp.status_code in (200, 204), resp.text
    for node in (b, c):
        resp = requests.get(node.url("/artifactory/%s/m/file.txt" % repo), auth=user_auth, timeout=TIMEOUT)
        assert resp.status_code in (403, 404), resp.status_code


def test_concurrent_dist_tags_through_different_nodes_lose_none(cluster):
    nodes = live(cluster, 3)
    project = nodes[0].create_project()
    repo = nodes[0].create_repo(project, "npm")
    auth = nodes[0].repo_login()
    name = unique("tags").replace("_", "-")
    assert uploads.npm_publish(nodes[0].base_url, repo, name, "1.0.0", b"tags", auth).status_code in (200, 201)
    labels = ["t%d" % i for i in range(30)]

    def tag(i):
        node = nodes[i % len(nodes)]
        url = node.url("/artifactory/api/npm/%s/-/package/%s/dist-tags/%s" % (repo, name, labels[i]))
        return requests.put(url, json="1.0.0", auth=auth, timeout=TIMEOUT).status_code

    with ThreadPoolExecutor(max_workers=30) as pool:
        codes = list(pool.map(tag, range(len(labels))))
    assert codes == [201] * len(labels)
    for node in nodes:
        tags = requests.get(node.url("/artifactory/api/npm/%s/-/package/%s/dist-tags" % (repo, name)),
                            auth=auth, timeout=TIMEOUT).json()
        assert all(tags.get(t) == "1.0.0" for t in labels), tags


def test_a_document_kept_by_one_node_is_not_served_after_another_node_publishes(cluster):
    """Issue 15: every node keeps built packuments and index files; a publish acknowledged by one node
    is in the very next read from any other, whatever that node had kept."""
    nodes = live(cluster, 3)
    project = nodes[0].create_project()
    npm_repo = nodes[0].create_repo(project, "npm")
    cargo_repo = nodes[0].create_repo(project, "cargo")
    auth = nodes[0].repo_login()
    name = unique("kept").replace("_", "-")
    crate = unique("kept").replace("-", "_")
    packument = "/artifactory/api/npm/%s/%s" % (npm_repo, name)
    index = "/artifactory/api/cargo/%s/index/%s" % (cargo_repo, uploads.cargo_index_path(crate))
    for i in range(12):
        version = "1.0.%d" % i
        writer = nodes[i % 3]
        assert uploads.npm_publish(writer.base_url, npm_repo, name, version, b"v%d" % i, auth).status_code == 201
        assert uploads.cargo_publish(writer.base_url, cargo_repo, crate, version, b"c%d" % i, auth).status_code == 200
        for node in nodes:
            doc = requests.get(node.url(packument), auth=auth, timeout=TIMEOUT).json()
            assert version in doc["versions"] and doc["dist-tags"]["latest"] == version, node.base_url
            lines = requests.get(node.url(index), auth=auth, timeout=TIMEOUT).text
            assert '"vers":"%s"' % version in lines, node.base_url


def test_kill_9_of_a_node_during_uploads_loses_nothing_acknowledged(cluster):
    a, b = live(cluster, 2)
    project = a.create_project()
    repo = a.create_repo(project, "generic")
    auth = a.repo_login()
    acknowledged, lock = {}, threading.Lock()
    counter = itertools.count()
    killed = threading.Event()

    def upload(_):
        i = next(counter)
        node = (a, b)[i % 2]
        data = os.urandom(random.randint(1, 400_000))
        path = "k9/%d.bin" % i
        try:
            resp = uploads.put_file(node.base_url, repo, path, data, auth)
        except requests.RequestException:
            return
        if resp.status_code == 201:
            with lock:
                acknowledged[path] = data
                if len(acknowledged) >= 60 and not killed.is_set():
                    killed.set()
                    os.kill(a.proc.pid, signal.SIGKILL)

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(upload, range(200)))
    assert killed.is_set(), "node A was killed mid-way"
    a.proc.wait(timeout=10)
    assert len(acknowledged) >= 100, len(acknowledged)
    for path, data in acknowledged.items():
        assert uploads.served_file(b.base_url, repo, path, auth) == data, path
        assert (cluster.bucket_blobs() / sha256_hex_bytes(data)[:2] / sha256_hex_bytes(data)[2:4]
                / sha256_hex_bytes(data)).exists()
    # Nothing half-written is visible: every file a listing of the database shows serves its bytes.
    rows = cluster.psql("SELECT f.path, f.sha256 FROM files f JOIN repositories r ON r.id = f.repo_id "
                        "WHERE r.name = '%s' AND f.deleted_at IS NULL" % repo).splitlines()
    for row in rows:
        path, sha = row.split("|")
        served = uploads.served_file(b.base_url, repo, path, auth)
        assert served is not None and sha256_hex_bytes(served) == sha, path


def sha256_hex_bytes(data: bytes) -> str:
    import hashlib
    return hashlib.sha256(data).hexdigest()


def test_collection_on_one_node_spares_what_another_node_is_uploading(cluster):
    """Node A replaces a file holding content X over and over (each replacement reclaims X when nothing
    else references it) and sweeps every second with no grace period, while node B keeps uploading X to
    new paths (deduplicated onto the blob A is collecting). Every upload B acknowledged serves X. The
    race window is milliseconds wide, so this is the real-process check; the deterministic one, which
    fails without the database leases, is http::storage::tests."""
    collector = cluster.start_node("collector", env={"ARCA_BLOB_SWEEP_INTERVAL_SECS": 1,
                                                      "ARCA_BLOB_SWEEP_GRACE_SECS": 0})
    (uploader,) = [n for n in live(cluster, 3) if n is not collector][:1]
    project = collector.create_project()
    repo = collector.create_repo(project, "generic")
    auth = collector.repo_login()
    shared = os.urandom(150_000)
    done = threading.Event()
    acknowledged, failures = [], []

    def collect():
        with requests.Session() as s:
            while not done.is_set():
                uploads.put_file(collector.base_url, repo, "gc/a.bin", shared, auth, s)
                uploads.put_file(collector.base_url, repo, "gc/a.bin", os.urandom(64), auth, s)

    def upload(n):
        with requests.Session() as s:
            for i in range(25):
                path = "gc/b/%d/%d.bin" % (n, i)
                resp = uploads.put_file(uploader.base_url, repo, path, shared, auth, s)
                if resp.status_code == 201:
                    acknowledged.append(path)
                else:
                    failures.append((path, resp.status_code))
                if i % 5 == 4:
                    uploads.put_file(uploader.base_url, repo, path, os.urandom(64), auth, s)

    collectors = [threading.Thread(target=collect) for _ in range(2)]
    for t in collectors:
        t.start()
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(upload, range(6)))
    done.set()
    for t in collectors:
        t.join()
    assert not failures, failures[:5]
    # Every fifth path was overwritten by its uploader (so that X lost a reference); the rest hold X.
    kept = [p for p in acknowledged if int(p.rsplit("/", 1)[1].split(".")[0]) % 5 != 4]
    assert len(kept) >= 100
    for path in kept:
        assert uploads.served_file(collector.base_url, repo, path, auth) == shared, path
    assert collector.log_tail(100000).count("blob sweep finished") >= 2


def test_postgres_restart_under_load_fails_cleanly_then_recovers(cluster):
    a, b = live(cluster, 2)
    project = a.create_project()
    repo = a.create_repo(project, "generic")
    auth = a.repo_login()
    assert uploads.put_file(a.base_url, repo, "pg/seed.txt", b"seed", auth).status_code == 201
    statuses, stop = [], threading.Event()

    def load(n):
        node = (a, b)[n % 2]
        with requests.Session() as s:
            i = 0
            while not stop.is_set():
                started = time.monotonic()
                if i % 2:
                    resp = s.get(node.url("/artifactory/%s/pg/seed.txt" % repo), auth=auth, timeout=TIMEOUT)
                else:
                    resp = uploads.put_file(node.base_url, repo, "pg/%d/%d.txt" % (n, i), b"x", auth, s)
                statuses.append((resp.status_code, time.monotonic() - started, resp))
                i += 1

    threads = [threading.Thread(target=load, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(1)
    cluster.pg_stop()
    down_from = len(statuses)
    time.sleep(3)
    health = a.get("/health")
    assert health.status_code == 503 and health.json().get("database"), health.text
    cluster.pg_start()
    up_from = len(statuses)
    time.sleep(8)
    stop.set()
    for t in threads:
        t.join()
    codes = [s for s, _, _ in statuses]
    assert 500 not in codes, [line for node in (a, b) for line in node.log_tail(100000).splitlines()
                              if "internal error" in line][:3]
    while_down = statuses[down_from:up_from]
    refused = [r for s, _, r in while_down if s == 503]
    assert refused, "requests while PostgreSQL was down answered 503"
    assert_error(refused[0], 503, r"ARCA\.00000020")
    assert max(t for _, t, _ in while_down) < 15, "no request hung while the database was down"
    assert all(s in (200, 201, 503) for s in codes), sorted(set(codes))
    assert [s for s, _, _ in statuses[-20:]].count(503) == 0, "requests succeed again without a restart"
    for node in (a, b):
        assert node.get("/health").status_code == 200


def test_s3_down_uploads_fail_cleanly_and_leave_nothing_visible(cluster):
    a, b = live(cluster, 2)
    project = a.create_project()
    repo = a.create_repo(project, "generic")
    auth = a.repo_login()
    cluster.s3.stop()
    try:
        resp = uploads.put_file(a.base_url, repo, "s3/down.bin", os.urandom(5000), auth)
        assert_error(resp, 503, r"ARCA\.00000019")
        health = b.get("/health")
        assert health.status_code == 503 and health.json().get("blob_store"), health.text
        listing = cluster.psql("SELECT count(*) FROM files f JOIN repositories r ON r.id = f.repo_id "
                               "WHERE r.name = '%s'" % repo)
        assert listing == "0"
    finally:
        cluster.s3.restart()
    assert requests.get(b.url("/artifactory/%s/s3/down.bin" % repo), auth=auth, timeout=TIMEOUT).status_code == 404
    assert uploads.put_file(b.base_url, repo, "s3/up.bin", b"up again", auth).status_code == 201
    assert uploads.served_file(a.base_url, repo, "s3/up.bin", auth) == b"up again"
