"""bench/run: arca side by side with its peers on this machine, same artifacts, same load tool, servers
alternated; writes a Markdown report (stdout and target/bench-report.md). See BENCHMARKS.md,
"Side by side (bench/run)", and `bench/run --help`."""

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402

import fixtures as fx  # noqa: E402
import mixed  # noqa: E402
import publish  # noqa: E402
import report  # noqa: E402
from arca import Arca  # noqa: E402
from load import Load, drive, status_kib  # noqa: E402
from peers import PEERS  # noqa: E402

# Seconds after the load rows before the settled RSS is read (see load_rows).
SETTLE_S = 3
# Rows whose document a client revalidates: the same row asked with If-None-Match of its ETag (304).
REVALIDATED = ("npm packument", "pypi simple page", "cargo index file", "maven metadata")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    p.add_argument("--smoke", action="store_true",
                   help="one short round against arca alone (c=1 and 16, 1 s per load, no peers); exits "
                        "non-zero when a request fails")
    p.add_argument("--only", default="", help="comma-separated words: run only the rows whose name contains "
                   "one (e.g. 'npm,generic 10 KiB,stream,cold,api,mixed')")
    p.add_argument("--skip", default="", help="comma-separated words: leave out the rows whose name contains "
                   "one, after --only (e.g. --only 'npm tarball' --skip '1 MiB')")
    p.add_argument("--peers", default="nginx,verdaccio,pypiserver,nora,kellnr",
                   help="comma-separated peers (nginx, verdaccio, pypiserver, nora, kellnr), or 'none'")
    p.add_argument("--duration", type=float, default=5.0, help="seconds of load per measurement")
    p.add_argument("--warmup", type=float, default=None, help="seconds of warm-up before each (default 1)")
    p.add_argument("--runs", type=int, default=3, help="measurements per row and server (medians reported)")
    p.add_argument("--concurrency", default="1,16,64", help="connections, comma-separated")
    p.add_argument("--rows", type=int, default=1000000, help="tickets and users for the seed API rows "
                   "(with bench/seed_rows.py)")
    p.add_argument("--stream-mib", type=int, default=1024, help="size of the large download and upload")
    p.add_argument("--report", default=str(REPO / "target" / "bench-report.md"))
    p.add_argument("--cache", default=str(REPO / "target" / "bench-peers"), help="where peers are installed")
    args = p.parse_args(argv)
    if args.smoke:
        args.peers, args.runs, args.duration, args.concurrency = "none", 1, 1.0, "1,16"
        args.warmup = 0.0 if args.warmup is None else args.warmup
        args.rows, args.stream_mib = 0, 16
    if args.warmup is None:
        args.warmup = 1.0
    args.peers = [] if args.peers in ("", "none") else args.peers.split(",")
    for peer in args.peers:
        if peer not in PEERS:
            p.error("unknown peer %r (known: %s)" % (peer, ", ".join(PEERS)))
    args.only = [w.strip().lower() for w in args.only.split(",") if w.strip()]
    args.skip = [w.strip().lower() for w in args.skip.split(",") if w.strip()]
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    return args


def wanted(args, name: str) -> bool:
    name = name.lower()
    return (not args.only or any(w in name for w in args.only)) and not any(w in name for w in args.skip)


class Bench:
    def __init__(self, args, workdir: Path):
        self.args, self.workdir = args, workdir
        self.results = {}  # (row, concurrency, server) -> [Figure]
        self.notes, self.failures = [], []
        self.facts = {}  # server -> {what: value}

    def fact(self, server, what, value):
        self.facts.setdefault(server, {})[what] = value
        print("  %-12s %-40s %s" % (server, what, value), flush=True)

    # -- servers -----------------------------------------------------------------------------------------

    def start_servers(self):
        args = self.args
        # Publishing 2,000 versions takes nora and Verdaccio minutes: a rerun of other rows seeds 20.
        many = fx.MANY if not args.smoke and wanted(args, "npm packument, 2,000 versions") else 20
        maven_many = fx.MAVEN_MANY_VERSIONS if not args.smoke and wanted(args, "maven metadata, 1,000") else 10
        binary = os.environ.get("ARCA_BIN") or str(REPO / "target" / "release" / "arca")
        self.arca = Arca(self.workdir / "arca", binary, many=many, maven_many=maven_many)
        self.servers = [self.arca]
        for name in args.peers:
            cls = PEERS[name]
            cls.install(Path(args.cache))
            peer = cls(Path(args.cache), self.workdir / name)
            peer.many = many
            self.servers.append(peer)
        self.versions = {}
        for server in self.servers:
            server.start()
            self.versions[server.name] = server.version()
            time.sleep(0.3)
            self.fact(server.name, "RSS idle after start", "%.1f MiB" % (status_kib(server.pid, "VmRSS") / 1024))
        self.loads = {}
        # arca first, then the peers at once: Verdaccio and nora take minutes for 2,000 publishes each.
        self.seed(self.arca)
        with ThreadPoolExecutor(max(1, len(self.servers) - 1)) as pool:
            list(pool.map(self.seed, self.servers[1:]))
        time.sleep(0.5)
        for server in self.servers:
            self.fact(server.name, "RSS idle after seeding", "%.1f MiB" % (status_kib(server.pid, "VmRSS") / 1024))

    def seed(self, server):
        start = time.monotonic()
        loads = server.seed(server.formats)
        self.fact(server.name, "seeded in", "%.1f s" % (time.monotonic() - start))
        for name in REVALIDATED:
            if name in loads:
                loads[name + ", If-None-Match"] = self.revalidating(server, loads[name])
        for name, load in list(loads.items()):
            if load is not None and load.script in publish.SCRIPTS:
                load.script = publish.write(load.script, load.url,
                                            self.workdir / ("%s-%s.lua" % (load.script, server.name)))
        self.loads[server.name] = {k: v for k, v in loads.items() if v is not None}

    def revalidating(self, server, load):
        r = requests.get(load.url, headers=load.headers, timeout=60)
        etag = r.headers.get("ETag")
        if not etag:
            self.notes.append("%s answers no ETag for its %s: no If-None-Match row" % (server.name, load.url))
            return None
        headers = dict(load.headers, **{"If-None-Match": etag})
        again = requests.get(load.url, headers=headers, timeout=60)
        if again.status_code != 304:
            self.notes.append("%s answers %d, not 304, to If-None-Match on %s" % (server.name, again.status_code,
                                                                                 load.url))
            return None
        return Load(load.url, headers, expect="304")

    def stop_servers(self):
        for server in getattr(self, "servers", []):
            try:
                server.stop()
            except Exception as e:  # keep stopping the others
                print("stopping %s: %s" % (server.name, e), file=sys.stderr)

    # -- rows --------------------------------------------------------------------------------------------

    def probe(self, server, row, load):
        """One request before the load: a row that answers an error is a broken harness, not a figure."""
        if load.script:
            return True
        r = requests.get(load.url, headers=load.headers, timeout=60)
        want = int(load.expect or 200)
        if r.status_code != want:
            self.failures.append("%s %s: %d (wanted %d) %s" % (server.name, row, r.status_code, want, r.text[:200]))
            return False
        return True

    def load_rows(self):
        names = []
        for server in self.servers:
            for name in self.loads[server.name]:
                if name not in names:
                    names.append(name)
        families = {}
        for row in names:
            if wanted(self.args, row):
                families.setdefault(report.family(row), []).append(row)
        for rows in families.values():
            having = {}
            for row in rows:
                servers = [s for s in self.servers if row in self.loads[s.name]]
                having[row] = [s for s in servers if self.probe(s, row, self.loads[s.name][row])]
            for c in self.args.concurrency:
                for run in range(self.args.runs):
                    # A row and its authenticated forms alternate run by run, as the servers do, so that
                    # their ratio is not the machine's drift between one row's runs and the next's; every
                    # other run in the reverse order, so that none always follows another server's run.
                    for row in rows if run % 2 == 0 else reversed(rows):
                        for server in having[row]:  # alternated: arca, peer, ..., arca, peer, ...
                            self.measure(server, row, c)
        for server in self.servers:
            self.fact(server.name, "RSS after the load rows", "%.1f MiB" % (status_kib(server.pid, "VmRSS") / 1024))
        # Allocators hand freed memory back after a decay time (arca's jemalloc: 1 s), so the figure read at
        # once holds the last row's buffers; the settled one is what an idle server keeps.
        time.sleep(SETTLE_S)
        for server in self.servers:
            self.fact(server.name, "RSS %d s after the load rows" % SETTLE_S,
                      "%.1f MiB" % (status_kib(server.pid, "VmRSS") / 1024))
            self.fact(server.name, "VmHWM (peak) after the load rows",
                      "%.1f MiB" % (status_kib(server.pid, "VmHWM") / 1024))

    def measure(self, server, row, c):
        fig = drive(server.pid, self.loads[server.name][row], c, self.args.duration, self.args.warmup)
        self.results.setdefault((row, c, server.name), []).append(fig)
        if fig.errors:
            self.failures.append("%s %s c=%d: %d failed requests" % (server.name, row, c, fig.errors))
        if fig.requests == 0 and server is self.arca:
            self.failures.append("arca %s c=%d: no request completed" % (row, c))
        print("%-38s c=%-3d %-11s %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  cpu %.3f s/1k  rss %.1f MiB%s"
              % (row, c, server.name, fig.rate, fig.p50_ms, fig.p99_ms, fig.cpu_per_1k, fig.rss_peak_mib,
                 "  ERRORS %d" % fig.errors if fig.errors else ""), flush=True)

    def stream_rows(self):
        if not wanted(self.args, "stream"):
            return
        size = self.args.stream_mib * fx.MIB
        source = self.workdir / "stream.bin"
        digest = hashlib.sha256()
        with open(source, "wb") as f:
            block = os.urandom(fx.MIB)
            for _ in range(self.args.stream_mib):
                f.write(block)
                digest.update(block)
        want = digest.hexdigest()
        label = "%d MiB" % self.args.stream_mib
        for run in range(max(1, min(self.args.runs, 2))):
            for server in self.servers:
                urls = server.stream_urls()
                if urls is None:
                    continue
                up, down, user = urls
                if up:
                    self.stream(server, "upload " + label, ["-T", str(source), up], user, size)
                elif hasattr(server, "put_big"):
                    server.put_big(source)
                fig = self.stream(server, "download " + label, ["-o", str(self.workdir / "back.bin"), down],
                                  user, size)
                if fig is not None:
                    got = subprocess.run(["sha256sum", str(self.workdir / "back.bin")], capture_output=True,
                                         text=True).stdout.split()[0]
                    if got != want:
                        self.failures.append("%s download %s: wrong bytes" % (server.name, label))
                    (self.workdir / "back.bin").unlink()
        source.unlink()

    def stream(self, server, row, curl_args, user, size):
        from load import RssPeak
        cmd = ["curl", "-sS", "-f", "-H", "Expect:"] + (["-u", user] if user else []) + curl_args
        before = status_kib(server.pid, "VmRSS")
        with RssPeak(server.pid) as rss:
            start = time.monotonic()
            out = subprocess.run(cmd, capture_output=True, text=True)
            elapsed = time.monotonic() - start
        if out.returncode != 0:
            self.failures.append("%s %s: curl %s" % (server.name, row, out.stderr.strip()))
            return None
        fig = {"mb_s": size / elapsed / 1e6, "rss_growth_mib": (rss.peak - before) / 1024,
               "rss_peak_mib": rss.peak / 1024}
        self.results.setdefault((row, 1, server.name), []).append(fig)
        print("%-38s       %-11s %9.0f MB/s  RSS +%.1f MiB (peak %.1f)" % (row, server.name, fig["mb_s"],
              fig["rss_growth_mib"], fig["rss_peak_mib"]), flush=True)
        return fig

    def cold_starts(self):
        if not wanted(self.args, "cold"):
            return
        for run in range(max(1, self.args.runs)):
            for server in self.servers:
                ms = server.cold_start_ms()
                self.results.setdefault(("cold start to first answer", 1, server.name), []).append({"ms": ms})
                print("%-38s       %-11s %9.1f ms" % ("cold start", server.name, ms), flush=True)

    def api_rows(self):
        rows = {k: v for k, v in self.arca.seed_api_rows().items() if wanted(self.args, k)}
        if not rows:
            return
        self.api_note = self.arca.fill_rows(self.args.rows)
        print("seed API rows on " + self.api_note, flush=True)
        for row, make in rows.items():
            if not self.probe(self.arca, row, make()):
                continue
            for c in self.args.concurrency:
                for run in range(self.args.runs):
                    fig = drive(self.arca.pid, make(), c, self.args.duration, self.args.warmup)
                    self.results.setdefault((row, c, "arca"), []).append(fig)
                    if fig.errors:
                        self.failures.append("arca %s c=%d: %d failed requests" % (row, c, fig.errors))
                    print("%-38s c=%-3d %-11s %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms" % (
                        row, c, "arca", fig.rate, fig.p50_ms, fig.p99_ms), flush=True)

    def mixed_rows(self):
        if not wanted(self.args, "mixed"):
            return
        a = self.arca
        loads = self.loads["arca"]
        srv = a.srv
        reads = []
        for name in ("generic 10 KiB", "npm packument", "pypi simple page", "cargo index file", "maven metadata"):
            if name in loads:
                reads.append((loads[name].url.split(srv.base_url, 1)[1], loads[name].headers))
        from arca import signed_headers
        list_path = "/cloudartifact/v5/%s/%s/repositories" % (srv.domain_id, a.project)
        reads.append((list_path + "?page_size=100", signed_headers(srv, "GET", list_path, [("page_size", "100")])))
        write_base = "/artifactory/%s/mixed/" % a.generic
        for run in range(self.args.runs):
            alone, reads_fig, writes_fig, server = mixed.run_mixed(a.pid, srv.base_url, a.basic, reads, write_base,
                                                                   self.workdir, self.args.duration,
                                                                   self.args.warmup)
            alone = {"rate": alone.rate, "p50": alone.p50_ms, "p99": alone.p99_ms, "errors": alone.errors}
            self.results.setdefault(("mixed", 32, "arca"), []).append(
                {"alone": alone, "reads": reads_fig, "writes": writes_fig, "server": server})
            for what, fig in (("read-only", alone), ("mixed reads", reads_fig), ("mixed writes", writes_fig)):
                if fig["errors"]:
                    self.failures.append("arca mixed %s: %d failed requests" % (what, fig["errors"]))
                print("%-38s c=16  %-11s %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms" % (
                    "mixed: " + what, "arca", fig["rate"], fig["p50"], fig["p99"]), flush=True)
            print("mixed: server CPU s by thread, read-only %s; mixed %s" % (
                server["threads_read_only"], server["threads_mixed"]), flush=True)

def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="arca-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            bench.start_servers()
            bench.load_rows()
            bench.api_rows()
            bench.mixed_rows()
            bench.stream_rows()
            bench.cold_starts()
        finally:
            bench.stop_servers()
    text = report.render(bench, args, time.monotonic() - started)
    print("\n" + text)
    Path(args.report).parent.mkdir(parents=True, exist_ok=True)
    Path(args.report).write_text(text)
    print("report written to %s" % args.report)
    if bench.failures:
        print("FAILED: %d problem(s):\n  %s" % (len(bench.failures), "\n  ".join(bench.failures)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
