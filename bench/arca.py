"""arca under bench/run: started with tests/e2e/harness.py's `launch`, seeded through its own protocols
(the same uploads its clients send), every repository open to anonymous reads so the anonymous and
authenticated rows ask for the same bytes."""

import base64
import os
import subprocess
import time
from pathlib import Path

import requests
from harness import REGION, _Creds, _SelectiveSigner, launch
from huaweicloudsdkcore.sdk_request import SdkRequest

import fixtures as fx
from load import Load

SEED_ROWS = Path(__file__).resolve().parent / "seed_rows.py"
# The artifact downloads, each also asked with Basic (the repo user's password) and with a ticket (as the
# Basic password) in rows of their own: "<row>, Basic", "<row>, ticket".
ARTIFACTS = ("generic 10 KiB", "generic 1 MiB", "npm tarball", "npm tarball 1 MiB", "pypi file", "pypi file 1 MiB",
             "cargo crate", "cargo crate 1 MiB", "maven jar", "maven jar 1 MiB")


def signed_headers(srv, method: str, path: str, query=()) -> dict:
    """The headers of an SDK-HMAC-SHA256 signed request (the SDK's own signer), to replay under load: the
    server checks the date is recent, and a run lasts seconds."""
    hdrs = {"Content-Type": "application/json", "User-Agent": "arca-bench", "X-Project-Id": srv.iam_project_id}
    req = SdkRequest(method=method, schema="http", host=srv.host, resource_path=path, query_params=list(query),
                     header_params=hdrs, body="")
    _SelectiveSigner(_Creds(srv.root.ak, srv.root.sk)).sign(req)
    return dict(req.header_params)


class Arca:
    name = "arca"
    formats = ("generic", "npm", "pypi", "cargo", "maven", "api")

    def __init__(self, workdir: Path, binary: str, many: int = fx.MANY, rows: int = 1000,
                 maven_many: int = fx.MAVEN_MANY_VERSIONS):
        self.workdir, self.binary, self.many, self.row_count = Path(workdir), binary, many, rows
        self.maven_many = maven_many
        self.srv = None
        self.seed_note = ""

    @property
    def pid(self):
        return self.srv.proc.pid

    def version(self) -> str:
        out = subprocess.run([self.binary, "--version"], capture_output=True, text=True)
        return (out.stdout.strip() or "arca") + " (%s)" % self.binary

    def start(self):
        os.environ["ARCA_BIN"] = self.binary
        # The access log off, as nginx's is in its configuration here (arca logs a line per request at `info`).
        env = {"ARCA_LOG": "warn", "ARCA_TICKET_USES": "1000000"}
        self.srv = launch(self.workdir, env=env)

    def stop(self):
        if self.srv:
            self.srv.stop()

    def cold_start_ms(self) -> float:
        """Stops the server, starts the binary again on its data directory and polls /health every 2 ms:
        the time to the first 200. The server then runs on as before (same port)."""
        self.srv.stop()
        port = int(self.srv.base_url.rsplit(":", 1)[1])
        cmd = [self.binary, "serve", "--listen", "127.0.0.1:%d" % port, "--data-dir", str(self.srv.data_dir),
               "--region", REGION]
        env = dict(os.environ, ARCA_LOG="warn", NO_COLOR="1", ARCA_AUTH_FAILURE_LIMIT="0",
                   ARCA_TICKET_USES="1000000")
        log = open(self.srv.log_path, "ab")
        session = requests.Session()
        start = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        log.close()
        while True:
            try:
                if session.get(self.srv.base_url + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() - start > 30:
                raise RuntimeError("arca did not come back on its data directory:\n" + self.srv.log_tail())
            time.sleep(0.002)
        elapsed = (time.monotonic() - start) * 1000
        self.srv.proc = proc
        return elapsed

    # -- seeding ---------------------------------------------------------------------------------------

    def seed(self, fmts) -> dict:
        srv = self.srv
        self.project = srv.create_project()
        self.login = srv.repo_login()
        self.basic = "Basic " + base64.b64encode(("%s:%s" % self.login).encode()).decode()
        self.token = srv.root_token()
        s = requests.Session()
        s.headers["Authorization"] = self.basic
        rows = {}
        if "generic" in fmts:
            rows.update(self._generic(s))
        if "npm" in fmts:
            rows.update(self._npm(s))
        if "pypi" in fmts:
            rows.update(self._pypi(s))
        if "cargo" in fmts:
            rows.update(self._cargo(s))
        if "maven" in fmts:
            rows.update(self._maven(s))
        for name in [n for n in rows if n in ARTIFACTS]:
            url = rows[name].url
            rows[name + ", Basic"] = Load(url, {"Authorization": self.basic})
            rows[name + ", ticket"] = Load(url, self.ticket_header(), refresh=self.ticket_header)
        return rows

    def ticket_header(self) -> dict:
        """A new ticket of the most uses a ticket may have, as the Basic password of the repo user."""
        resp = self.srv.request("POST", "/v1/%s/tickets" % self.srv.iam_project_id,
                                headers={"X-Auth-Token": self.token},
                                json={"expire_seconds": 86400, "left_num": 1000000})
        assert resp.status_code in (200, 201), resp.text
        pair = "%s:%s" % (self.login[0], resp.json()["value"])
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}

    def _open(self, repo):
        resp = self.srv.signed("PUT", "/cloudartifact/v5/artifact/", body={"repo_name": repo,
                                                                           "allow_anonymous": True})
        assert resp.ok, resp.text

    def _generic(self, s) -> dict:
        srv = self.srv
        self.generic = repo = srv.create_repo(self.project, "generic")
        self._open(repo)
        base = srv.url("/artifactory/%s/" % repo)
        for path, data in (("files/10k.bin", fx.TEN_K), ("files/1m.bin", fx.ONE_M)):
            assert s.put(base + path, data=data, timeout=60).status_code == 201
        return {
            "generic 10 KiB": Load(base + "files/10k.bin"),
            "generic 1 MiB": Load(base + "files/1m.bin"),
            "generic upload 10 KiB": Load(base + "upload/", {"Authorization": self.basic}, script="put"),
        }

    def stream_urls(self):
        """(URL to PUT 1 GiB to, URL to GET it back, curl's credentials)."""
        url = self.srv.url("/artifactory/%s/big/1g.bin" % self.generic)
        return url, url, "%s:%s" % self.login

    def _npm(self, s) -> dict:
        srv = self.srv
        repo = srv.create_repo(self.project, "npm")
        self._open(repo)
        base = srv.url("/artifactory/api/npm/%s/" % repo)
        fx.publish_npm(s, lambda name: base + name, lambda name, v: "%s%s/-/%s-%s.tgz" % (base, name, name, v),
                       self.many)
        tgz = "%s%s/-/%s-%s.tgz" % (base, fx.NPM_NAME, fx.NPM_NAME, fx.version(0))
        return {"npm packument": Load(base + fx.NPM_NAME),
                "npm tarball 1 MiB": Load("%s%s/-/%s-%s.tgz" % (base, fx.NPM_NAME, fx.NPM_NAME, fx.BIG)),
                "npm packument, Basic": Load(base + fx.NPM_NAME, {"Authorization": self.basic}),
                "npm packument, 2,000 versions": Load(base + fx.NPM_MANY),
                "npm tarball": Load(tgz),
                "npm publish 10 KiB": Load(base, {"Authorization": self.basic}, script="npm-publish")}

    def _pypi(self, s) -> dict:
        srv = self.srv
        repo = srv.create_repo(self.project, "pypi")
        self._open(repo)
        base = srv.url("/artifactory/api/pypi/%s/" % repo)
        fx.publish_pypi(s, base)
        page = base + "simple/%s/" % fx.PYPI_NAME
        return {"pypi simple page": Load(page, {"Accept": "text/html"}),
                "pypi file": Load(fx.first_file_link(s, page)),
                "pypi file 1 MiB": Load(fx.first_file_link(s, page, fx.BIG)),
                "pypi upload 10 KiB": Load(base, {"Authorization": self.basic}, script="pypi-upload")}

    def _cargo(self, s) -> dict:
        srv = self.srv
        repo = srv.create_repo(self.project, "cargo")
        self._open(repo)
        base = srv.url("/artifactory/api/cargo/%s/" % repo)
        fx.publish_cargo(s, base + "api/v1/crates/new")
        return {"cargo index file": Load(base + "index/" + fx.cargo_index_path(fx.CARGO_NAME)),
                "cargo crate": Load(base + "api/v1/crates/%s/%s/download" % (fx.CARGO_NAME, fx.version(0))),
                "cargo crate 1 MiB": Load(base + "api/v1/crates/%s/%s/download" % (fx.CARGO_NAME, fx.BIG)),
                "cargo publish 10 KiB": Load(base + "api/v1/crates/new", {"Authorization": self.basic},
                                             script="cargo-publish")}

    def _maven(self, s) -> dict:
        srv = self.srv
        repo = srv.create_maven_repo(self.project)["release"]
        self._open(repo)
        base = srv.url("/artifactory/%s/%s/%s/" % (repo, fx.MAVEN_GROUP, fx.MAVEN_ARTIFACT))
        for i in range(fx.VERSIONS):
            v = fx.version(i)
            for suffix, data in ((".pom", fx.maven_pom(v)), (".jar", fx.TEN_K)):
                r = s.put(base + "%s/%s-%s%s" % (v, fx.MAVEN_ARTIFACT, v, suffix), data=data, timeout=60)
                assert r.status_code == 201, r.text
        fx.publish_maven_big(s, base)
        many = srv.url("/artifactory/%s/%s/%s/" % (repo, fx.MAVEN_GROUP, fx.MAVEN_MANY))
        for i in range(self.maven_many):
            v = fx.version(i)
            r = s.put(many + "%s/%s-%s.pom" % (v, fx.MAVEN_MANY, v), data=fx.maven_pom(v, fx.MAVEN_MANY),
                      timeout=60)
            assert r.status_code == 201, r.text
        v0 = fx.version(0)
        return {"maven metadata": Load(base + "maven-metadata.xml"),
                "maven metadata, 1,000 versions": Load(many + "maven-metadata.xml"),
                "maven jar": Load(base + "%s/%s-%s.jar" % (v0, fx.MAVEN_ARTIFACT, v0)),
                "maven jar 1 MiB": Load(base + "%s/%s-%s.jar" % (fx.BIG, fx.MAVEN_ARTIFACT, fx.BIG)),
                "maven deploy 10 KiB": Load(srv.url("/artifactory/%s/com/acme/" % repo),
                                            {"Authorization": self.basic}, script="maven-deploy")}

    # -- the seed APIs ---------------------------------------------------------------------------------

    def seed_api_rows(self) -> dict:
        """Ticket issue, ticket list and user list with signed requests (ticket list with the token, as
        its API asks), replayed by wrk; signed anew for each measurement (the date must be recent)."""
        srv = self.srv
        return {
            "api ticket issue": lambda: Load(srv.url("/cloudartifact/v5/ticket"),
                                             signed_headers(srv, "GET", "/cloudartifact/v5/ticket")),
            "api ticket list": lambda: Load(srv.url("/v1/%s/tickets?limit=100&offset=0" % srv.iam_project_id),
                                            {"X-Auth-Token": self.token}),
            "api user list": lambda: Load(
                srv.url("/cloudartifact/v5/repositories/users?page_no=1&page_size=100"),
                signed_headers(srv, "GET", "/cloudartifact/v5/repositories/users",
                               [("page_no", "1"), ("page_size", "100")])),
        }

    def fill_rows(self, count: int) -> str:
        """Fills the data directory with `count` tickets and users through bench/seed_rows.py (another
        helper's script) when it is there, with the server stopped; else issues 1,000 tickets through the
        API. Answers what was done, for the report."""
        if SEED_ROWS.exists():
            self.srv.stop()
            subprocess.run(["python3" if not os.environ.get("BENCH_PYTHON") else os.environ["BENCH_PYTHON"],
                            str(SEED_ROWS), "--data-dir", str(self.srv.data_dir), "--tickets", str(count),
                            "--users", str(count)], check=True)
            self.cold_start_ms()
            return "%d tickets and %d users (bench/seed_rows.py)" % (count, count)
        for _ in range(1000):
            r = self.srv.request("POST", "/v1/%s/tickets" % self.srv.iam_project_id,
                                 headers={"X-Auth-Token": self.token}, json={"expire_seconds": 86400})
            assert r.status_code in (200, 201), r.text
        return "1,000 tickets and 1 user (bench/seed_rows.py is absent, so not 1,000,000 rows)"

