"""The seeds' own Python samples ($ARCA_SHARED/seed-samples), run unmodified against arca.

Each sample prints the SDK response object, whose str() is its JSON (keys as on the wire); on an error it
prints status code, request id, error code and message instead.
"""

import json
import os
import subprocess
import sys

import pytest

from harness import REGION, decode_ticket

SAMPLES = ["show_user_ticket.py", "list_maven_user.py", "show_user_privileges.py"]


@pytest.fixture(scope="module")
def codearts_project(arca):
    return arca.create_project()


def run_sample(arca, shared_dir, name, project_id) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUAWEICLOUD_SDK_", "CLOUD_SDK_"))}
    env.update({
        "CLOUD_SDK_AK": arca.root.ak,
        "CLOUD_SDK_SK": arca.root.sk,
        "CLOUD_SDK_REGION": REGION,
        "CLOUD_SDK_PROJECT_ID": project_id,
        "HUAWEICLOUD_SDK_REGION_CODEARTSARTIFACT_LOCAL_1": arca.base_url,
        "HUAWEICLOUD_SDK_IAM_ENDPOINT": arca.base_url,
    })
    script = shared_dir / "seed-samples" / name
    assert script.is_file(), script
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (proc.returncode, proc.stdout, proc.stderr)
    out = proc.stdout.strip()
    assert '"status": "success"' in out, "the sample did not print a success response:\n%s\n%s" % (out, proc.stderr)
    return json.loads(out)


def test_every_seed_sample_is_covered(shared_dir):
    assert sorted(p.name for p in (shared_dir / "seed-samples").glob("*.py")) == sorted(SAMPLES)


def test_show_user_ticket_sample(arca, shared_dir, codearts_project):
    body = run_sample(arca, shared_dir, "show_user_ticket.py", codearts_project)
    assert body["trace_id"]
    assert decode_ticket(body["result"]).group(3) == arca.root.user_id


def test_list_maven_user_sample(arca, shared_dir, codearts_project):
    body = run_sample(arca, shared_dir, "list_maven_user.py", codearts_project)
    result = body["result"]
    assert result["total_records"] >= 1 and result["data"]
    assert [r["user_id"] for r in result["data"]] == sorted(r["user_id"] for r in result["data"])
    for row in result["data"]:
        assert row["repo_user_name"] == "%s_%s" % (arca.domain_id, row["user_id"])
        assert row["user_type"] == "personal"
        assert row["domain_id"] == arca.domain_id


def test_show_user_privileges_sample(arca, shared_dir, codearts_project):
    body = run_sample(arca, shared_dir, "show_user_privileges.py", codearts_project)
    assert "traceId" in body and body["traceId"]
    result = body["result"]
    assert result["project_id"].startswith(codearts_project + ",")
    assert result["role_name"].startswith("Project manager,")
    assert result["operationsIndex"] == sorted(result["operationsIndex"]) and result["operationsIndex"]
