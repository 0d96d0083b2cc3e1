"""The binary itself: layered configuration, `arca config show`, restarts on an existing data directory."""

import json
import signal
import subprocess

from harness import REGION, arca_bin, clear_sdk_caches, launch


def config_show(*args, env=None, cwd=None):
    full_env = {"PATH": "/usr/bin:/bin", **(env or {})}
    return subprocess.run([arca_bin(), "config", "show", *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=30)


def test_config_show_prints_the_defaults(tmp_path):
    out = config_show(cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert 'listen = "127.0.0.1:8080"' in out.stdout
    assert 'data_dir = "./arca-data"' in out.stdout
    assert 'region = "local-1"' in out.stdout
    assert "ticket_uses = 1000" in out.stdout


def test_flags_beat_environment_beat_file(tmp_path):
    config = tmp_path / "arca.toml"
    config.write_text('region = "from-file"\nticket_uses = 7\nlisten = "127.0.0.1:9001"\n')
    out = config_show("--config", str(config), "--listen", "127.0.0.1:9003",
                      env={"ARCA_REGION": "from-env", "ARCA_LISTEN": "127.0.0.1:9002"})
    assert out.returncode == 0, out.stderr
    assert 'region = "from-env"' in out.stdout
    assert 'listen = "127.0.0.1:9003"' in out.stdout
    assert "ticket_uses = 7" in out.stdout
    out = config_show(env={"ARCA_CONFIG": str(config)})
    assert 'region = "from-file"' in out.stdout and 'listen = "127.0.0.1:9001"' in out.stdout


def test_bad_configuration_is_refused_with_a_message(tmp_path):
    config = tmp_path / "arca.toml"
    config.write_text('colour = "blue"\n')
    out = config_show("--config", str(config))
    assert out.returncode != 0 and "colour" in out.stderr
    out = config_show("--region", "Not A Region")
    assert out.returncode != 0 and "region" in out.stderr
    out = config_show("--listen", "nowhere")
    assert out.returncode != 0 and "listen" in out.stderr


def test_second_start_reuses_the_account(tmp_path):
    first = launch(tmp_path)
    bootstrap_text = (first.data_dir / "bootstrap.json").read_text()
    project = first.create_project()
    assert first.stop() == 0
    clear_sdk_caches()
    second = launch(tmp_path)
    try:
        assert (second.data_dir / "bootstrap.json").read_text() == bootstrap_text
        resp = second.signed("GET", "/v3/projects", query=[("name", REGION)])
        assert resp.status_code == 200, resp.text
        assert [p["id"] for p in resp.json()["projects"]] == [json.loads(bootstrap_text)["iam_project_id"]]
        assert second.signed("GET", "/cloudartifact/v3/user/%s/privileges" % project).status_code == 200
    finally:
        assert second.stop() == 0
        clear_sdk_caches()


def test_restart_after_kill_9(tmp_path):
    first = launch(tmp_path)
    project = first.create_project()
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()
    clear_sdk_caches()
    second = launch(tmp_path)
    try:
        assert second.signed("GET", "/cloudartifact/v3/user/%s/privileges" % project).status_code == 200
    finally:
        assert second.stop() == 0
        clear_sdk_caches()
