"""Issue 13: offline security scans of uploads, listed with list_sec_guard_list through the official SDK: archive
entries escaping the root, links, compression bombs and secrets (private keys, cloud access keys) are found in
the background after upload and counted per task; a clean file scans clean; only readable repositories' tasks
are listed."""

import gzip
import io
import tarfile
import time
import zipfile

import pytest
from huaweicloudsdkcodeartsartifact.v2 import ListSecGuardListRequest

from harness import ROLE_VIEWER, assert_error, unique
from uploads import put_file

AWS_KEY = b"AKIAIOSFODNN7EXAMPLE"


def tgz(entries) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, data, link in entries:
            info = tarfile.TarInfo(name)
            if link:
                info.type, info.linkname = tarfile.SYMTYPE, link
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def zipped(entries) -> bytes:
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            z.writestr(name, data)
    return raw.getvalue()


def scans(client, **kw):
    return client.list_sec_guard_list(ListSecGuardListRequest(**kw)).result


@pytest.fixture(scope="module")
def world(srv, project, login):
    repo = srv.create_repo(project, "generic")
    files = {
        "clean.txt": b"nothing to see here",
        "evil-1.0.0.tgz": tgz([("package/index.js", b"module.exports = 1", None),
                               ("../../etc/cron.d/evil", b"* * * * * root sh", None),
                               ("package/link", b"", "/etc/passwd"),
                               ("package/.env", b"AWS_ACCESS_KEY_ID=" + AWS_KEY + b"\n", None)]),
        "keys.jar": zipped([("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                            ("keys/id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n")]),
        "zeros.gz": gzip.compress(b"\0" * (20 << 20)),
    }
    for name, data in files.items():
        assert put_file(srv.base_url, repo, "scan/" + name, data, login).status_code in (200, 201)
    client = srv.artifact_client()
    deadline = time.monotonic() + 30
    while scans(client, page_size=100).total < len(files):
        assert time.monotonic() < deadline, "the scans did not finish"
        time.sleep(0.3)
    return {"repo": repo, "files": files}


def by_name(result):
    return {t.file_name: t for t in result.list}


def findings(srv, task_id):
    listed = srv.signed("GET", "/cloudartifact/v5/sec-guard/task/list", query={"page_size": "100"})
    row = next(t for t in listed.json()["result"]["list"] if t["task_id"] == task_id)
    return sorted((f["kind"], f["entry"]) for f in row["findings"])


def test_findings_per_task_and_counts(srv, world):
    result = scans(srv.artifact_client(), page_size=100)
    tasks = by_name(result)
    assert set(tasks) == set(world["files"])
    assert all(t.status == "success" for t in tasks.values())
    clean = tasks["clean.txt"]
    assert (clean.malware.high, clean.malware.medium, clean.malware.low) == (0, 0, 0)
    assert clean.path == "/%s/scan/clean.txt" % world["repo"]

    evil = tasks["evil-1.0.0.tgz"]
    assert (evil.malware.high, evil.malware.medium) == (2, 1)
    assert findings(srv, evil.task_id) == [("cloud_access_key", "package/.env"), ("link", "package/link"),
                                           ("path_traversal", "../../etc/cron.d/evil")]
    assert findings(srv, tasks["keys.jar"].task_id) == [("private_key", "keys/id_rsa")]
    assert findings(srv, tasks["zeros.gz"].task_id) == [("compression_bomb", "")]

    assert result.task == result.total == result.artifact == 4
    assert result.malware.high == 4 and result.malware.medium == 1
    # No vulnerability or virus database: those counts are zero, never made up.
    assert result.virus == 0 and evil.virus == 0
    assert (result.opensource.critical, result.opensource.high) == (0, 0)


def test_paging_and_bad_parameters(srv, world):
    client = srv.artifact_client()
    everything = [t.task_id for t in scans(client, page_size=100).list]
    paged = [t.task_id for n in (1, 2) for t in scans(client, page_no=n, page_size=2).list]
    assert paged == everything
    assert scans(client, date=30, page_size=100).total == 4
    for query, name in (({"date": "0"}, "date"), ({"date": "366"}, "date"), ({"page_size": "101"}, "page_size"),
                        ({"page_no": "0"}, "page_no")):
        assert name in assert_error(srv.signed("GET", "/cloudartifact/v5/sec-guard/task/list", query=query),
                                    400)["error_msg"]


def test_only_readable_repositories_tasks_are_listed(srv, world, project):
    outsider = srv.create_user()
    srv.add_member(srv.create_project(), outsider.user_id, ROLE_VIEWER)
    assert scans(srv.artifact_client(outsider.ak, outsider.sk), page_size=100).total == 0
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    assert scans(srv.artifact_client(viewer.ak, viewer.sk), page_size=100).total == 4
    # A file uploaded later is scanned too.
    other = srv.create_repo(srv.create_project(), "generic")
    assert put_file(srv.base_url, other, unique("late") + ".txt", b"-----BEGIN EC PRIVATE KEY-----\n",
                    srv.repo_login()).status_code in (200, 201)
    client = srv.artifact_client()
    deadline = time.monotonic() + 30
    while scans(client, page_size=100).total < 5:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert scans(client, page_size=100).malware.high == 5
    assert scans(srv.artifact_client(viewer.ak, viewer.sk), page_size=100).total == 4
