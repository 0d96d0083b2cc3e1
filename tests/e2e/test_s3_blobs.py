"""Issue 12: blobs on S3 (`blob_store = "s3"`) against a real S3 server (s3s-fs, scripts/s3-server.sh) that
the test stops (before an upload, or in the middle of one) and restarts: while it is down an upload fails
cleanly (503 `ARCA.00000019`, a message that says what to check and no SDK text, no file row pointing at a
missing blob), a download answers 503 and `GET /health` 503; once it is back, everything works again
without restarting arca. Bad S3 settings stop arca at start with a message naming the setting. Runs in
every mode (each test has its own S3 server)."""

import hashlib
import os
import subprocess

import pytest
import requests

from harness import S3Server, arca_bin, assert_error, sql_rows

UNAVAILABLE = "ARCA.00000019"


@pytest.fixture
def s3(tmp_path):
    server = S3Server(tmp_path / "s3")
    yield server
    server.stop()


def live_rows(srv, path):
    return sql_rows(srv, "SELECT sha256 FROM files WHERE path = ? AND deleted_at IS NULL", path)


def test_s3_down_fails_uploads_and_downloads_cleanly_and_recovers(s3, start_arca, tmp_path):
    srv = start_arca(env=s3.env("faults"))
    repo = srv.create_repo(srv.create_project(), "generic")
    auth = srv.repo_login()
    small = os.urandom(100_000)
    # Three parts of 8 MiB: the multipart path, a temporary object copied into place.
    large = os.urandom(20 * 1024 * 1024 + 7)
    for name, data in (("small.bin", small), ("large.bin", large)):
        resp = requests.put(srv.url("/artifactory/%s/%s" % (repo, name)), data=data, auth=auth, timeout=120)
        assert resp.status_code == 201, resp.text
    resp = requests.get(srv.url("/artifactory/%s/large.bin" % repo), auth=auth, timeout=120)
    assert resp.status_code == 200 and hashlib.sha256(resp.content).digest() == hashlib.sha256(large).digest()
    resp = requests.get(srv.url("/artifactory/%s/large.bin" % repo), auth=auth, timeout=60,
                        headers={"Range": "bytes=8388600-8388615"})
    assert resp.status_code == 206 and resp.content == large[8388600:8388616]
    blob = s3.bucket_dir() / "faults" / "blobs"
    stored = {p.name for p in blob.rglob("*") if p.is_file()}
    assert stored == {hashlib.sha256(d).hexdigest() for d in (small, large)}
    assert not list((s3.bucket_dir() / "faults").glob("tmp/*")), "temporary objects are deleted"
    assert requests.get(srv.url("/health"), timeout=10).status_code == 200

    s3.stop()
    health = requests.get(srv.url("/health"), timeout=30)
    assert health.status_code == 503 and health.json()["blob_store"] == "unreachable"
    for name, data in (("late-small.bin", os.urandom(1000)), ("late-large.bin", os.urandom(9 * 1024 * 1024))):
        resp = requests.put(srv.url("/artifactory/%s/%s" % (repo, name)), data=data, auth=auth, timeout=120)
        body = assert_error(resp, 503, UNAVAILABLE)
        assert "s3_endpoint" in body["error_msg"], body
        assert "S3 error" not in resp.text and "127.0.0.1" not in resp.text, "no SDK text reaches the client"
        assert live_rows(srv, name) == [], "nothing half-visible"
    resp = requests.get(srv.url("/artifactory/%s/small.bin" % repo), auth=auth, timeout=60)
    assert_error(resp, 503, UNAVAILABLE)
    # Metadata that needs no bytes is still served.
    assert requests.head(srv.url("/artifactory/%s/small.bin" % repo), auth=auth, timeout=60).status_code == 200

    # The same server, the same data, the same port: arca recovers by itself.
    s3.restart()
    assert requests.get(srv.url("/health"), timeout=30).status_code == 200
    resp = requests.get(srv.url("/artifactory/%s/small.bin" % repo), auth=auth, timeout=60)
    assert resp.status_code == 200 and resp.content == small
    for name in ("late-small.bin", "late-large.bin"):
        assert requests.get(srv.url("/artifactory/%s/%s" % (repo, name)), auth=auth, timeout=60).status_code == 404
    resp = requests.put(srv.url("/artifactory/%s/late.bin" % repo), data=b"after", auth=auth, timeout=60)
    assert resp.status_code == 201, resp.text
    assert requests.get(srv.url("/artifactory/%s/late.bin" % repo), auth=auth, timeout=60).content == b"after"


def test_bad_s3_settings_stop_arca_at_start_naming_the_setting(s3, tmp_path):
    secret = "a-secret-that-must-not-be-printed"
    base = {**s3.env("x"), "PATH": "/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY": secret}
    cases = [
        ({"ARCA_S3_BUCKET": ""}, "s3_bucket"),
        ({"ARCA_S3_BUCKET": "Bad_Bucket"}, "s3_bucket"),
        ({"ARCA_S3_ENDPOINT": "127.0.0.1:9000"}, "s3_endpoint"),
        ({"AWS_ACCESS_KEY_ID": ""}, "s3_access_key_id"),
        ({"AWS_SECRET_ACCESS_KEY": ""}, "s3_secret_access_key"),
        ({"ARCA_BLOB_STORE": "ftp"}, "blob-store"),
    ]
    for change, setting in cases:
        env = {**base, **change}
        out = subprocess.run([arca_bin(), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "d")],
                             capture_output=True, text=True, env=env, timeout=30)
        assert out.returncode != 0, change
        assert setting in out.stderr, (change, out.stderr)
        assert secret not in out.stderr + out.stdout
    shown = subprocess.run([arca_bin(), "config", "show"], capture_output=True, text=True, env=base, timeout=30)
    assert shown.returncode == 0, shown.stderr
    assert 'blob_store = "s3"' in shown.stdout and secret not in shown.stdout


def test_s3_stopping_in_the_middle_of_an_upload_leaves_nothing_visible(s3, start_arca):
    """The store goes away after two 8 MiB parts of a streamed (chunked) upload have been sent: the upload
    fails (503 when the answer gets through, else the connection is dropped), and no file is recorded."""
    srv = start_arca(env=s3.env("midway"))
    repo = srv.create_repo(srv.create_project(), "generic")
    auth = srv.repo_login()
    url = srv.url("/artifactory/%s/midway.bin" % repo)
    chunk = os.urandom(4 * 1024 * 1024)

    def body():
        for i in range(12):
            if i == 6:
                s3.stop()
            yield chunk

    try:
        resp = requests.put(url, data=body(), auth=auth, timeout=120)
    except requests.ConnectionError:
        resp = None
    if resp is not None:
        assert_error(resp, 503, UNAVAILABLE)
    assert live_rows(srv, "midway.bin") == []
    s3.restart()
    assert requests.get(url, auth=auth, timeout=60).status_code == 404
    assert not any(p.is_file() for p in (s3.bucket_dir() / "midway" / "blobs").rglob("*"))
    # The store is back: the same upload succeeds.
    resp = requests.put(url, data=chunk * 3, auth=auth, timeout=120)
    assert resp.status_code == 201, resp.text
