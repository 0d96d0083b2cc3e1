"""Issue 12, moving up: `arca migrate --from DIR` copies an embedded installation (SQLite + data directory)
into PostgreSQL + S3, verifying every blob's SHA-256, and can be re-run (until the nodes take writes: a
bulk copy while the source still serves, then a short one after it stopped); nodes started on the copy
serve everything the installation held, to the same credentials."""

import hashlib
import os
import re
import shutil
import subprocess

import pytest
import requests

import uploads
from cluster import Cluster
from harness import arca_bin, blobs_on_s3, launch, unique

pytestmark = pytest.mark.skipif(blobs_on_s3(), reason="runs in the default run, on its own S3 server")

EMBEDDED = {"ARCA_BLOB_STORE": "fs", "ARCA_DATABASE_URL": ""}


def migrate(cluster, source_dir, target_dir):
    env = dict(os.environ, **cluster.env(), ARCA_DATA_DIR=str(target_dir))
    return subprocess.run([arca_bin(), "migrate", "--from", str(source_dir)], env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A populated embedded installation, stopped: generic files, an npm package, a user with an access
    key and a ticket."""
    work = tmp_path_factory.mktemp("source")
    srv = launch(work, env=EMBEDDED)
    project = srv.create_project()
    generic = srv.create_repo(project, "generic")
    npm = srv.create_repo(project, "npm")
    login = srv.repo_login()
    files = {"a/one.bin": os.urandom(100_000), "a/two.txt": b"two", "b/same.txt": b"two"}
    for path, data in files.items():
        assert uploads.put_file(srv.base_url, generic, path, data, login).status_code == 201
    package = unique("pkg").replace("_", "-")
    assert uploads.npm_publish(srv.base_url, npm, package, "1.0.0", b"tarball bytes", login).status_code in (200, 201)
    user = srv.create_user()
    srv.add_member(project, user.user_id, 4)
    ticket = srv.issue_ticket(user)
    assert srv.stop() == 0
    return {"srv": srv, "dir": srv.data_dir, "project": project, "generic": generic, "npm": npm,
            "login": login, "files": files, "package": package, "user": user, "ticket": ticket}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, source):
    c = Cluster(tmp_path_factory.mktemp("target"))
    shutil.copy(source["dir"] / "secret.key", c.key_file)
    yield c
    c.close()


def test_a_blob_that_does_not_match_its_name_stops_the_migration_before_any_metadata(cluster, source,
                                                                                       tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(source["dir"], broken)
    sha = hashlib.sha256(source["files"]["a/one.bin"]).hexdigest()
    blob = broken / "blobs" / sha[:2] / sha[2:4] / sha
    blob.chmod(0o644)
    blob.write_bytes(b"not what it was")
    out = migrate(cluster, broken, tmp_path / "target-data")
    assert out.returncode != 0
    assert sha in out.stderr and "does not match" in out.stderr, out.stderr
    assert cluster.psql("SELECT count(*) FROM domains") == "0", "no metadata was written"


def test_migrated_installation_serves_everything_to_the_same_credentials(cluster, source, tmp_path):
    out = migrate(cluster, source["dir"], tmp_path / "target-data")
    assert out.returncode == 0, out.stderr
    # The stopped run above copied the sound blobs already: this one skips those and copies the rest.
    copied, present = map(int, re.search(r"blobs: (\d+) copied and verified .*, (\d+) already", out.stdout).groups())
    assert copied >= 1 and copied + present == 3, out.stdout
    node = cluster.start_node("migrated")
    node.adopt(source["srv"].bootstrap)
    cluster.account = source["srv"].bootstrap
    for path, data in source["files"].items():
        assert uploads.served_file(node.base_url, source["generic"], path, source["login"]) == data, path
    tarball, shasum = uploads.served_npm(node.base_url, source["npm"], source["package"], "1.0.0",
                                         source["login"])
    assert tarball == b"tarball bytes" and shasum == hashlib.sha1(tarball).hexdigest()
    # The root's access key (sealed with the source's key, which every node is given) still signs.
    assert node.signed("GET", "/v3/projects").status_code == 200
    user = source["user"]
    assert node.signed("GET", "/cloudartifact/v3/user/%s/privileges" % source["project"],
                       ak=user.ak, sk=user.sk).status_code == 200
    resp = node.get("/cloudartifact/v3/user/%s/privileges" % source["project"],
                    headers={"Authorization": "Bearer " + source["ticket"]})
    assert resp.status_code == 200, resp.text


def test_a_second_run_copies_only_what_is_new(cluster, source, tmp_path):
    srv = launch(source["srv"].log_path.parent, env=EMBEDDED, data_dir=source["dir"])
    extra = os.urandom(5000)
    assert uploads.put_file(srv.base_url, source["generic"], "c/later.bin", extra, source["login"]).status_code == 201
    assert srv.stop() == 0
    out = migrate(cluster, source["dir"], tmp_path / "target-data")
    assert out.returncode == 0, out.stderr
    assert "blobs: 1 copied and verified" in out.stdout, out.stdout
    assert "files: 1 rows copied" in out.stdout, out.stdout
    node = cluster.nodes[-1]
    assert uploads.served_file(node.base_url, source["generic"], "c/later.bin", source["login"]) == extra
    requests.get(node.url("/health"), timeout=10).raise_for_status()


def test_the_copy_takes_new_rows_after_the_copied_ones(cluster, source):
    """Identity sequences moved past the copied ids: new repositories, files and users on the nodes."""
    node = cluster.nodes[-1]
    repo = node.create_repo(node.create_project(), "generic")
    assert uploads.put_file(node.base_url, repo, "new.txt", b"new", source["login"]).status_code == 201
    assert node.create_user().user_id
