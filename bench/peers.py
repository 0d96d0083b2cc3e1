"""The peers bench/run compares arca with, each installed from its package registry into a cache directory
(reused across runs), started on a loopback port with a configuration written here, and seeded over its own
protocol with the bytes of fixtures.py. Each answers the rows it can serve (same row names as arca's)."""

import base64
import getpass
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

import fixtures as fx
from harness import free_port
from load import Load


def run(cmd, log: Path, env=None, cwd=None):
    with open(log, "ab") as f:
        f.write(("\n$ %s\n" % " ".join(map(str, cmd))).encode())
        f.flush()
        return subprocess.run(list(map(str, cmd)), stdout=f, stderr=subprocess.STDOUT, env=env, cwd=cwd).returncode


def cargo_install(cache: Path, crate: str, binary: str) -> Path:
    """`cargo install` niced and on one job (other work shares the 2 cores), the build directory kept so an
    interrupted install resumes. With --locked first; when the lock names a crate version the registry has
    yanked, the crate's own lock with only that entry moved to the next version served (the newest
    unlocked resolution can need a rustc newer than this machine's); without --locked last."""
    root = cache / crate
    exe = root / "bin" / binary
    if exe.exists():
        return exe
    env = dict(os.environ, CARGO_BUILD_JOBS="1", CARGO_TARGET_DIR=str(cache / ("build-" + crate)))
    log = cache / ("%s-install.log" % crate)
    print("installing %s with cargo (log: %s); this takes a while on 2 cores" % (crate, log), flush=True)
    install = ["nice", "-n", "15", "cargo", "install", "--root", root]
    if run(install + ["--locked", crate], log, env=env) == 0:
        return exe
    text = log.read_text(errors="replace")
    yanked = re.findall(r"requirement `([\w-]+) = [^`]*` \(locked to ([\w.+-]+)\)\ncandidate versions found "
                        r"which didn't match: ([\w.+-]+)", text)
    installing = re.findall(r"Installing %s v([\w.+-]+)" % re.escape(crate), text)
    sources = sorted(Path.home().glob(".cargo/registry/src/*/%s-%s" % (crate, installing[-1]))) if installing else []
    if yanked and sources:
        name, _, replacement = yanked[-1]
        src = cache / ("%s-src" % crate)
        shutil.rmtree(src, ignore_errors=True)
        shutil.copytree(sources[-1], src)
        if (run(["cargo", "update", "-p", name, "--precise", replacement], log, env=env, cwd=src) == 0
                and run(install + ["--locked", "--path", src], log, env=env) == 0):
            return exe
    if run(install + [crate], log, env=env) == 0:
        return exe
    raise RuntimeError("cargo install %s failed, see %s" % (crate, log))


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout=60, ok=(200,)):
    """Polls `url` every 2 ms until it answers one of `ok`; answers the milliseconds it took."""
    start = time.monotonic()
    session = requests.Session()
    while True:
        try:
            if session.get(url, timeout=1).status_code in ok:
                return (time.monotonic() - start) * 1000
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() - start > timeout:
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise RuntimeError("%s did not answer at %s:\n%s" % (proc.args[0], url, tail))
        time.sleep(0.002)


class Peer:
    name = ""
    formats = ()
    health = "/"

    def __init__(self, cache: Path, workdir: Path):
        self.cache, self.workdir = Path(cache), Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log = self.workdir / ("%s.log" % self.name)
        self.proc = None
        self.port = None
        self.started_ms = None

    @property
    def pid(self):
        return self.proc.pid

    def url(self, path: str) -> str:
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def command(self) -> list:
        raise NotImplementedError

    def env(self) -> dict:
        return dict(os.environ)

    def start(self):
        if self.port is None:
            self.port = free_port()
        log = open(self.log, "ab")
        self.proc = subprocess.Popen(list(map(str, self.command())), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=self.env(), cwd=self.workdir,
                                     start_new_session=True)
        log.close()
        self.started_ms = wait_http(self.url(self.health), self.proc, self.log)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cold_start_ms(self) -> float:
        self.stop()
        self.start()
        return self.started_ms

    def stream_urls(self):
        return None


class Nginx(Peer):
    """Debian's nginx serving the generic files from a directory: the static-file limit."""
    name = "nginx"
    formats = ("generic",)
    health = "/files/10k.bin"

    @staticmethod
    def install(cache: Path):
        if shutil.which("nginx") is None:
            sudo = [] if os.geteuid() == 0 else ["sudo"]
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
            subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx"],
                           check=True, env=env, stdout=subprocess.DEVNULL)

    def version(self) -> str:
        out = subprocess.run(["nginx", "-v"], capture_output=True, text=True)
        return out.stderr.strip().replace("nginx version: ", "")

    def command(self):
        root = self.workdir / "www"
        (root / "files").mkdir(parents=True, exist_ok=True)
        (root / "files" / "10k.bin").write_bytes(fx.TEN_K)
        (root / "files" / "1m.bin").write_bytes(fx.ONE_M)
        conf = self.workdir / "nginx.conf"
        # One worker per core, as nginx's `auto`; logging off, as arca logs nothing per request at warn.
        # Workers as the invoking user: they read the files from bench/run's private temporary directory.
        conf.write_text("""daemon off;
user %(user)s;
worker_processes auto;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path %(dir)s/body; proxy_temp_path %(dir)s/proxy; fastcgi_temp_path %(dir)s/fcgi;
    uwsgi_temp_path %(dir)s/uwsgi; scgi_temp_path %(dir)s/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        root %(root)s;
    }
}
""" % {"dir": self.workdir, "port": self.port, "root": root, "user": getpass.getuser()})
        return ["nginx", "-c", conf, "-p", self.workdir]

    def seed(self, fmts) -> dict:
        return {"generic 10 KiB": Load(self.url("/files/10k.bin")),
                "generic 1 MiB": Load(self.url("/files/1m.bin"))}

    def stream_urls(self):
        """Only the download: nginx serves the file arca received, written into its directory."""
        return None, self.url("/files/1g.bin"), None

    def put_big(self, path: Path):
        target = self.workdir / "www" / "files" / "1g.bin"
        if target.exists():
            target.unlink()
        os.link(path, target) if path.stat().st_dev == target.parent.stat().st_dev else shutil.copy(path, target)


class Verdaccio(Peer):
    name = "verdaccio"
    formats = ("npm",)
    health = "/-/ping"

    @staticmethod
    def install(cache: Path):
        d = cache / "verdaccio"
        if not (d / "node_modules" / ".bin" / "verdaccio").exists():
            d.mkdir(parents=True, exist_ok=True)
            if not (d / "package.json").exists():
                (d / "package.json").write_text('{"private": true}\n')
            if run(["npm", "install", "--no-audit", "--no-fund", "verdaccio"], cache / "verdaccio-install.log",
                   cwd=d) != 0:
                raise RuntimeError("npm install verdaccio failed, see %s" % (cache / "verdaccio-install.log"))

    def version(self) -> str:
        pkg = self.cache / "verdaccio" / "node_modules" / "verdaccio" / "package.json"
        return json.loads(pkg.read_text())["version"]

    def command(self):
        conf = self.workdir / "config.yaml"
        # No uplinks (no outbound traffic), htpasswd auth, reads open to all as arca's anonymous rows.
        conf.write_text("""storage: %(dir)s/storage
auth:
  htpasswd:
    file: %(dir)s/htpasswd
    max_users: 100
uplinks: {}
packages:
  '**':
    access: $all
    publish: $authenticated
server:
  keepAliveTimeout: 60
log: { type: stdout, format: pretty, level: error }
listen: 127.0.0.1:%(port)d
max_body_size: 2000mb
""" % {"dir": self.workdir, "port": self.port})
        return ["node", self.cache / "verdaccio" / "node_modules" / "verdaccio" / "bin" / "verdaccio", "-c", conf]

    def seed(self, fmts) -> dict:
        r = requests.put(self.url("/-/user/org.couchdb.user:bench"), json={
            "name": "bench", "password": "bench-password-15"}, timeout=60)
        assert r.status_code in (200, 201), r.text
        auth = {"Authorization": "Bearer " + r.json()["token"]}
        s = requests.Session()
        s.headers.update(auth)
        fx.publish_npm(s, lambda name: self.url("/" + name),
                       lambda name, v: self.url("/%s/-/%s-%s.tgz" % (name, name, v)), self.many)
        return {"npm packument": Load(self.url("/" + fx.NPM_NAME)),
                "npm packument, Basic": Load(self.url("/" + fx.NPM_NAME), auth),
                "npm packument, 2,000 versions": Load(self.url("/" + fx.NPM_MANY)),
                "npm tarball": Load(self.url("/%s/-/%s-%s.tgz" % (fx.NPM_NAME, fx.NPM_NAME, fx.version(0)))),
                "npm tarball 1 MiB": Load(self.url("/%s/-/%s-%s.tgz" % (fx.NPM_NAME, fx.NPM_NAME, fx.BIG))),
                "npm publish 10 KiB": Load(self.url("/"), auth, script="npm-publish")}


class Pypiserver(Peer):
    name = "pypiserver"
    formats = ("pypi",)
    health = "/simple/"

    @staticmethod
    def install(cache: Path):
        venv = cache / "pypiserver"
        if not (venv / "bin" / "waitress-serve").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            # waitress: the threaded server pypiserver's `auto` picks first (without it, auto falls back to
            # wsgiref, one request at a time).
            if run([venv / "bin" / "pip", "install", "-q", "pypiserver", "passlib", "waitress"],
                   cache / "pypiserver-install.log") != 0:
                raise RuntimeError("pip install pypiserver failed, see %s" % (cache / "pypiserver-install.log"))

    def version(self) -> str:
        out = subprocess.run([self.cache / "pypiserver" / "bin" / "pip", "show", "pypiserver"],
                             capture_output=True, text=True).stdout
        return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Version:"))

    def command(self):
        (self.workdir / "packages").mkdir(exist_ok=True)
        htpasswd = self.workdir / "htpasswd"
        if not htpasswd.exists():
            # passlib's apache module writes the file (pypiserver reads it with the same module).
            subprocess.run([self.cache / "pypiserver" / "bin" / "python", "-c",
                            "import sys; from passlib.apache import HtpasswdFile as H; h = H(sys.argv[1], new=True);"
                            " h.set_password('bench', 'bench-password-15'); h.save()", htpasswd], check=True)
        return [self.cache / "pypiserver" / "bin" / "pypi-server", "run", "-i", "127.0.0.1", "-p", self.port,
                "-a", "update", "-P", htpasswd, "--disable-fallback", self.workdir / "packages"]

    def seed(self, fmts) -> dict:
        s = requests.Session()
        s.auth = ("bench", "bench-password-15")
        fx.publish_pypi(s, self.url("/"))
        page = self.url("/simple/%s/" % fx.PYPI_NAME)
        basic = "Basic " + base64.b64encode(b"bench:bench-password-15").decode()
        return {"pypi simple page": Load(page, {"Accept": "text/html"}),
                "pypi file": Load(fx.first_file_link(s, page)),
                "pypi file 1 MiB": Load(fx.first_file_link(s, page, fx.BIG)),
                "pypi upload 10 KiB": Load(self.url("/"), {"Authorization": basic}, script="pypi-upload")}


class Nora(Peer):
    """nora-registry (Rust, multi-format), as issue 15 asks for like-for-like reads: no auth, no rate limit,
    no curation, no audit log, and no upstream proxies (loopback only)."""
    name = "nora"
    formats = ("generic", "npm", "pypi", "cargo", "maven")
    health = "/health"

    @staticmethod
    def install(cache: Path):
        cargo_install(cache, "nora-registry", "nora")

    def version(self) -> str:
        out = subprocess.run([self.cache / "nora-registry" / "bin" / "nora", "--version"], capture_output=True,
                             text=True)
        return (out.stdout.strip() or "nora-registry").replace("nora ", "nora-registry ")

    def env(self):
        env = dict(os.environ)
        env.update({
            "NORA_HOST": "127.0.0.1", "NORA_PORT": str(self.port), "NORA_STORAGE_MODE": "local",
            "NORA_STORAGE_PATH": str(self.workdir / "storage"), "NORA_AUTH_ENABLED": "false",
            "NORA_RATE_LIMIT_ENABLED": "false", "NORA_CURATION_MODE": "off", "NORA_AUDIT_LOG": "off",
            "NORA_NPM_PROXY": "", "NORA_PYPI_PROXY": "", "NORA_CARGO_PROXY": "", "NORA_MAVEN_PROXIES": "",
            "NORA_DOCKER_ENABLED": "false", "RUST_LOG": "warn",
        })
        return env

    def command(self):
        return [self.cache / "nora-registry" / "bin" / "nora"]

    def seed(self, fmts) -> dict:
        s = requests.Session()
        rows = {}
        if "generic" in fmts:
            for path, data in (("files/10k.bin", fx.TEN_K), ("files/1m.bin", fx.ONE_M)):
                r = s.put(self.url("/raw/" + path), data=data, timeout=60)
                assert r.status_code in (200, 201), r.text
            rows.update({"generic 10 KiB": Load(self.url("/raw/files/10k.bin")),
                         "generic 1 MiB": Load(self.url("/raw/files/1m.bin")),
                         "generic upload 10 KiB": Load(self.url("/raw/upload/"), script="put")})
        if "npm" in fmts:
            fx.publish_npm(s, lambda name: self.url("/npm/" + name),
                           lambda name, v: self.url("/npm/%s/-/%s-%s.tgz" % (name, name, v)), self.many)
            rows.update({"npm packument": Load(self.url("/npm/" + fx.NPM_NAME)),
                         "npm packument, 2,000 versions": Load(self.url("/npm/" + fx.NPM_MANY)),
                         "npm tarball": Load(self.url("/npm/%s/-/%s-%s.tgz" % (fx.NPM_NAME, fx.NPM_NAME,
                                                                                fx.version(0)))),
                         "npm tarball 1 MiB": Load(self.url("/npm/%s/-/%s-%s.tgz" % (fx.NPM_NAME, fx.NPM_NAME,
                                                                                      fx.BIG))),
                         "npm publish 10 KiB": Load(self.url("/npm/"), script="npm-publish")})
        if "pypi" in fmts:
            fx.publish_pypi(s, self.url("/simple/"))
            page = self.url("/simple/%s/" % fx.PYPI_NAME)
            rows.update({"pypi simple page": Load(page, {"Accept": "text/html"}),
                         "pypi file": Load(fx.first_file_link(s, page)),
                         "pypi file 1 MiB": Load(fx.first_file_link(s, page, fx.BIG)),
                         "pypi upload 10 KiB": Load(self.url("/simple/"), script="pypi-upload")})
        if "cargo" in fmts:
            fx.publish_cargo(s, self.url("/cargo/api/v1/crates/new"))
            rows.update({"cargo index file": Load(self.url("/cargo/index/" + fx.cargo_index_path(fx.CARGO_NAME))),
                         "cargo crate": Load(self.url("/cargo/api/v1/crates/%s/%s/download"
                                                      % (fx.CARGO_NAME, fx.version(0)))),
                         "cargo crate 1 MiB": Load(self.url("/cargo/api/v1/crates/%s/%s/download"
                                                            % (fx.CARGO_NAME, fx.BIG))),
                         "cargo publish 10 KiB": Load(self.url("/cargo/api/v1/crates/new"), script="cargo-publish")})
        if "maven" in fmts:
            base = "/maven2/%s/%s/" % (fx.MAVEN_GROUP, fx.MAVEN_ARTIFACT)
            versions = []
            for i in range(fx.VERSIONS):
                v = fx.version(i)
                versions.append(v)
                for suffix, data in ((".pom", fx.maven_pom(v)), (".jar", fx.TEN_K)):
                    r = s.put(self.url(base + "%s/%s-%s%s" % (v, fx.MAVEN_ARTIFACT, v, suffix)), data=data,
                              timeout=60)
                    assert r.status_code in (200, 201), r.text
                # mvn deploy uploads the artifact's metadata after each version; nora stores it as sent.
                r = s.put(self.url(base + "maven-metadata.xml"), data=fx.maven_metadata(versions), timeout=60)
                assert r.status_code in (200, 201), r.text
            fx.publish_maven_big(s, self.url(base))
            r = s.put(self.url(base + "maven-metadata.xml"), data=fx.maven_metadata(versions + [fx.BIG]), timeout=60)
            assert r.status_code in (200, 201), r.text
            v0 = fx.version(0)
            rows.update({"maven metadata": Load(self.url(base + "maven-metadata.xml")),
                         "maven jar": Load(self.url(base + "%s/%s-%s.jar" % (v0, fx.MAVEN_ARTIFACT, v0))),
                         "maven jar 1 MiB": Load(self.url(base + "%s/%s-%s.jar" % (fx.BIG, fx.MAVEN_ARTIFACT,
                                                                                 fx.BIG))),
                         "maven deploy 10 KiB": Load(self.url("/maven2/com/acme/"), script="maven-deploy")})
        return rows

    def stream_urls(self):
        url = self.url("/raw/big/1g.bin")
        return url, url, None


class Kellnr(Peer):
    """kellnr (Rust cargo registry), its data in SQLite and files, reads open (its default), publishing with
    the admin token it is set up with; no crates.io proxy."""
    name = "kellnr"
    formats = ("cargo",)
    health = "/api/v1/health"
    token = "benchtoken15benchtoken15benchtok"

    @staticmethod
    def install(cache: Path):
        cargo_install(cache, "kellnr", "kellnr")

    def version(self) -> str:
        out = subprocess.run([self.cache / "kellnr" / "bin" / "kellnr", "--version"], capture_output=True,
                             text=True)
        return out.stdout.strip() or "kellnr"

    def env(self):
        env = dict(os.environ)
        env.update({
            "KELLNR_LOCAL__IP": "127.0.0.1", "KELLNR_LOCAL__PORT": str(self.port),
            "KELLNR_ORIGIN__HOSTNAME": "127.0.0.1", "KELLNR_ORIGIN__PORT": str(self.port),
            "KELLNR_REGISTRY__DATA_DIR": str(self.workdir / "data"), "KELLNR_SETUP__ADMIN_TOKEN": self.token,
            "KELLNR_PROXY__ENABLED": "false", "KELLNR_LOG__LEVEL": "warn", "KELLNR_LOG__LEVEL_WEB_SERVER": "warn",
        })
        return env

    def command(self):
        (self.workdir / "data").mkdir(exist_ok=True)
        return [self.cache / "kellnr" / "bin" / "kellnr", "start"]

    def seed(self, fmts) -> dict:
        s = requests.Session()
        s.headers["Authorization"] = self.token
        fx.publish_cargo(s, self.url("/api/v1/crates/new"))
        return {"cargo index file": Load(self.url("/api/v1/crates/" + fx.cargo_index_path(fx.CARGO_NAME))),
                "cargo crate": Load(self.url("/api/v1/crates/dl/%s/%s/download" % (fx.CARGO_NAME, fx.version(0)))),
                "cargo crate 1 MiB": Load(self.url("/api/v1/crates/dl/%s/%s/download" % (fx.CARGO_NAME, fx.BIG)))}


PEERS = {"nginx": Nginx, "verdaccio": Verdaccio, "pypiserver": Pypiserver, "nora": Nora, "kellnr": Kellnr}

