"""Fixtures: the real arca binary, started per session, per module or per test.

- `arca`: one server for the whole session (most tests; they create their own users and projects, so they
  do not depend on one another's data). Also points the SDK's endpoint-override environment variables at it,
  as the seed samples' README describes.
- `module_arca`: a server of the test module's own, for tests that count rows (ticket and user lists) or
  need other settings (the module's `ARCA_ARGS`).
- `start_arca(extra_args=(), env=None, data_dir=None)`: a factory for servers a test needs to itself (another
  domain, other settings, a data directory of its choosing). Every server it started is stopped when the
  test ends.
- `two_domains`: one server of the test module's own holding two accounts, as `(a, b)`: two `Arca` views of
  the same process, each with its own account's bootstrap identity.

Every server is stopped with SIGTERM and must exit 0 within 10 s (graceful shutdown); a test fails with
the server's log tail when it does not, or when it cannot start. A failing test's report carries what
the running servers logged while it ran.

Environment: ARCA_BIN (default <repo>/target/debug/arca), ARCA_SHARED (default <repo>/../shared),
ARCA_TEST_BLOBS (`fs`, the default, or `s3`: every server keeps its blobs on a real S3 server, harness.py).
"""

import os
from pathlib import Path

import pytest

from harness import FIGURES, Arca, clear_sdk_caches, launch, launch_two_domains

_RUNNING = []


def _start(workdir, extra_args=(), env=None, data_dir=None) -> Arca:
    clear_sdk_caches()
    server = launch(workdir, extra_args, env, data_dir)
    _RUNNING.append(server)
    return server


def _stop(server: Arca):
    clear_sdk_caches()
    if server in _RUNNING:
        _RUNNING.remove(server)
    code = server.stop()
    assert code == 0, "arca did not shut down gracefully on SIGTERM (exit %s)\n--- log tail ---\n%s" % (
        "killed after timeout" if code is None else code, server.log_tail())


@pytest.fixture(scope="session")
def arca(tmp_path_factory):
    server = _start(tmp_path_factory.mktemp("arca-session"))
    saved = {k: os.environ.get(k) for k in ("HUAWEICLOUD_SDK_IAM_ENDPOINT",
                                            "HUAWEICLOUD_SDK_REGION_CODEARTSARTIFACT_LOCAL_1")}
    os.environ["HUAWEICLOUD_SDK_IAM_ENDPOINT"] = server.base_url
    os.environ["HUAWEICLOUD_SDK_REGION_CODEARTSARTIFACT_LOCAL_1"] = server.base_url
    yield server
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    _stop(server)


@pytest.fixture(scope="module")
def module_arca(tmp_path_factory, request):
    """A server of the module's own, started with the module's `ARCA_ARGS` (a list of flags) if it sets any."""
    server = _start(tmp_path_factory.mktemp("arca-" + request.module.__name__),
                    getattr(request.module, "ARCA_ARGS", ()))
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def two_domains(tmp_path_factory, request):
    clear_sdk_caches()
    a, b = launch_two_domains(tmp_path_factory.mktemp("arca2-" + request.module.__name__))
    _RUNNING.append(a)
    yield a, b
    _stop(a)


@pytest.fixture
def start_arca(tmp_path):
    started = []

    def factory(extra_args=(), env=None, data_dir=None) -> Arca:
        server = _start(tmp_path / ("arca-%d" % len(started)), extra_args, env, data_dir)
        started.append(server)
        return server

    yield factory
    for server in started:
        _stop(server)


# Module-scoped shortcuts most repository tests use; a module may define its own to differ.

@pytest.fixture(scope="module")
def srv(module_arca):
    return module_arca


@pytest.fixture(scope="module")
def project(srv):
    """A CodeArts project created by root."""
    return srv.create_project()


@pytest.fixture(scope="module")
def login(srv):
    """Root's repo user name and a fresh repo password."""
    return srv.repo_login()


@pytest.fixture(scope="module")
def client(srv):
    """The CodeArts SDK client, as root."""
    return srv.artifact_client()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    path = Path(os.environ.get("ARCA_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
    assert (path / "seed-samples").is_dir(), "ARCA_SHARED does not hold seed-samples/: %s" % path
    return path


def pytest_runtest_setup(item):
    item._arca_log_offsets = {id(s): s.log_size() for s in _RUNNING}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    offsets = getattr(item, "_arca_log_offsets", {})
    for server in _RUNNING:
        text = server.log_since(offsets.get(id(server), 0), lines=40)
        if text:
            report.sections.append(("arca log during this test (%s)" % server.base_url, text))


def pytest_terminal_summary(terminalreporter):
    """Measured figures (e.g. the 2 GiB stream's RSS) go into the CI log, above the closing line."""
    if FIGURES:
        terminalreporter.section("measured figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
