"""The Markdown report of bench/run: medians of the runs, arca's figures and its ratio to each peer."""

import os
import platform
import statistics
import time


# The suffixes of the authenticated forms of a row, which bench/run alternates with the row itself.
AUTHENTICATED = (", Basic", ", ticket")


def family(row: str) -> str:
    """The anonymous row an authenticated row is compared with ("generic 10 KiB, Basic" -> "generic 10 KiB")."""
    for suffix in AUTHENTICATED:
        if row.endswith(suffix):
            return row[:-len(suffix)]
    return row


def med(values):
    return statistics.median(values) if values else float("nan")


def _fig(figs, key):
    return med([getattr(f, key) for f in figs])


def _authenticated(r):
    """(row, c, per-run rate ratios authenticated/anonymous, (CPU s/1k authenticated, anonymous)) for arca's
    authenticated rows: the rows of one family run alternately, so run i of each was measured side by side."""
    found = []
    for (row, c, server) in r:
        base = family(row)
        anonymous = r.get((base, c, server))
        if server != "arca" or base == row or not anonymous:
            continue
        ratios = [a.rate / max(b.rate, 1e-9) for a, b in zip(r[(row, c, server)], anonymous)]
        found.append((row, c, ratios, (_fig(r[(row, c, server)], "cpu_per_1k"), _fig(anonymous, "cpu_per_1k"))))
    return found


def render(bench, args, elapsed) -> str:
    r = bench.results
    out = []
    load = os.getloadavg()
    out.append("# bench/run report (%s)\n" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    out.append("Machine: %d cores, %s; load average at the end %.1f / %.1f / %.1f. %s run(s) of %.0f s per "
               "measurement after %.0f s of warm-up, servers alternated; medians. Load tool: wrk; took %.0f s.\n"
               % (os.cpu_count(), platform.platform(), load[0], load[1], load[2], args.runs, args.duration,
                  args.warmup, elapsed))
    out.append("| server | version |\n|---|---|")
    for name, version in bench.versions.items():
        out.append("| %s | %s |" % (name, version))
    out.append("")

    names = [s.name for s in bench.servers]
    peers = names[1:]
    rows = []
    for (row, c, server) in r:
        if (row, c) not in rows and hasattr(r[(row, c, server)][0], "rate"):
            rows.append((row, c))
    if rows:
        out.append("## Requests (req/s, latency in ms, server CPU seconds per 1,000 requests, peak RSS)\n")
        out.append("Ratios are arca/peer: above 1 arca serves more requests per second; the p99 ratio is "
                   "peer/arca, so above 1 arca's tail is shorter.\n")
        out.append("| row | c | arca req/s | arca p50 / p99 | arca CPU s/1k | arca RSS |%s"
                   % "".join(" %s: req/s, p99 (arca/%s req/s, p99) |" % (p, p) for p in peers))
        out.append("|---|---|---|---|---|---|%s" % ("---|" * len(peers)))
        for row, c in rows:
            a = r.get((row, c, "arca"))
            if a:
                cells = ["%.0f" % _fig(a, "rate"), "%.2f / %.2f" % (_fig(a, "p50_ms"), _fig(a, "p99_ms")),
                         "%.3f" % _fig(a, "cpu_per_1k"), "%.1f MiB" % _fig(a, "rss_peak_mib")]
            else:
                cells = ["–"] * 4
            for p in peers:
                f = r.get((row, c, p))
                if not f:
                    cells.append("–")
                    continue
                if _fig(f, "rate") == 0:
                    cells.append("no answer within a run")
                    continue
                text = "%.0f, %.2f ms" % (_fig(f, "rate"), _fig(f, "p99_ms"))
                if a:
                    text += " (**%.2f×**, %.2f×)" % (_fig(a, "rate") / max(_fig(f, "rate"), 1e-9),
                                                     _fig(f, "p99_ms") / max(_fig(a, "p99_ms"), 1e-9))
                cells.append(text)
            out.append("| %s | %d | %s |" % (row, c, " | ".join(cells)))
        out.append("")

    paired = _authenticated(r)
    if paired:
        out.append("## Authenticated against anonymous (arca; each run of an authenticated row beside the "
                   "anonymous run of the same round)\n")
        out.append("| row | c | req/s ratio, median of the runs' | CPU s/1k, authenticated / anonymous |")
        out.append("|---|---|---|---|")
        for row, c, ratios, cpu in paired:
            out.append("| %s | %d | **%.2f×** (runs: %s) | %.3f / %.3f |"
                       % (row, c, med(ratios), ", ".join("%.2f" % x for x in ratios), cpu[0], cpu[1]))
        out.append("\nTarget: authenticated ≥ 0.9× anonymous.\n")

    streams = sorted({row for (row, c, s) in r if row.startswith(("upload ", "download "))})
    if streams:
        out.append("## Large files (curl, one request; MB/s, server RSS growth over the transfer)\n")
        out.append("| row | %s |\n|---|%s" % (" | ".join(names), ("---|" * len(names))))
        for row in streams:
            cells = []
            for n in names:
                f = r.get((row, 1, n))
                cells.append("%.0f MB/s, RSS +%.1f MiB" % (med([x["mb_s"] for x in f]),
                                                         med([x["rss_growth_mib"] for x in f])) if f else "–")
            out.append("| %s | %s |" % (row, " | ".join(cells)))
        out.append("")

    cold = [(n, r.get(("cold start to first answer", 1, n))) for n in names]
    if any(f for _, f in cold):
        out.append("## Cold start to first answer (process start to the first 200 of its health URL, polled "
                   "every 2 ms; arca on its data directory of the seeded artifacts)\n")
        out.append("| server | ms |\n|---|---|")
        for n, f in cold:
            if f:
                out.append("| %s | %.1f |" % (n, med([x["ms"] for x in f])))
        out.append("")

    mixed = r.get(("mixed", 32, "arca"))
    if mixed:
        out.append("## Mixed load on arca (32 clients: 16 reading, 16 writing, at once)\n")
        out.append("Readers cycle through a 10 KiB download, the packument, the simple page, the index file, "
                   "maven-metadata.xml and a repository list (signed); writers alternate new 10 KiB uploads "
                   "and overwrites of 8 paths. Read-only: the same 16 readers alone.\n")
        out.append("| what | req/s | p50 ms | p99 ms |\n|---|---|---|---|")
        for what, key in (("reads, read-only", "alone"), ("reads under writes", "reads"),
                          ("writes under reads", "writes")):
            out.append("| %s | %.0f | %.2f | %.2f |" % (what, med([m[key]["rate"] for m in mixed]),
                                                       med([m[key]["p50"] for m in mixed]),
                                                       med([m[key]["p99"] for m in mixed])))
        ratio = med([m["reads"]["rate"] for m in mixed]) / max(med([m["alone"]["rate"] for m in mixed]), 1e-9)
        out.append("\nReads under writes / read-only: **%.2f×** (target ≥ 0.8×). Server peak RSS over the mix "
                   "%.1f MiB.\n" % (ratio, med([m["server"]["rss_peak_mib"] for m in mixed])))

    if bench.facts:
        out.append("## Memory and seeding\n")
        whats = []
        for facts in bench.facts.values():
            for w in facts:
                if w not in whats:
                    whats.append(w)
        out.append("| what | %s |\n|---|%s" % (" | ".join(names), ("---|" * len(names))))
        for w in whats:
            out.append("| %s | %s |" % (w, " | ".join(bench.facts.get(n, {}).get(w, "–") for n in names)))
        out.append("")
    notes = list(bench.notes)
    if getattr(bench, "api_note", None):
        notes.append("Seed API rows on " + bench.api_note + ".")
    notes += ["FAILED: " + f for f in bench.failures]
    if notes:
        out.append("## Notes\n")
        out.extend("- " + n for n in notes)
        out.append("")
    return "\n".join(out)
