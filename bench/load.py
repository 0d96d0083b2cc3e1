"""The load tool and the server-side counters every row of bench/run uses.

Load: Debian's `wrk` (C, event-driven: on these 2 cores it is lighter than any Python driver), one process
per measurement, its own CPU time read with the server's so a client-bound figure shows. Server figures come
from /proc: RSS (VmRSS, sampled every 20 ms for the peak under load; VmHWM is the process's lifetime peak) and
CPU (utime + stime of the server and its children, e.g. nginx's workers) before and after the load.
"""

import os
import re
import resource
import subprocess
from dataclasses import dataclass, field
from typing import Callable, Optional

from harness import RssSampler

TICK = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list:
    """`pid` and every process below it (nginx's workers, a node launcher's child)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(parents.get(p, []))
    return tree


def _stat(path: str):
    """(name, utime + stime in seconds) from a /proc stat file; None when it is gone."""
    try:
        with open(path) as f:
            head, rest = f.read().rsplit(")", 1)
        fields = rest.split()
        return head.split("(", 1)[1], (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return None


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and its descendants."""
    read = (_stat("/proc/%d/stat" % p) for p in _children(pid))
    return sum(seconds for _, seconds in filter(None, read))


def thread_cpu(pid: int) -> dict:
    """utime + stime of `pid`'s threads by thread name (tokio-rt-worker, arca-upload, ...), in seconds:
    which kind of work took the server's CPU."""
    by_name = {}
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return by_name
    for read in filter(None, (_stat("/proc/%d/task/%s/stat" % (pid, tid)) for tid in tasks)):
        name, seconds = read
        by_name[name] = by_name.get(name, 0) + seconds
    return by_name


def cpu_delta(before: dict, after: dict) -> dict:
    """Per thread name, the CPU seconds taken between two `thread_cpu` readings (threads that ended in
    between are not counted)."""
    return {k: round(v - before.get(k, 0), 2) for k, v in after.items() if v - before.get(k, 0) > 0.005}


def status_kib(pid: int, key: str, tree: Optional[list] = None) -> int:
    """A /proc/<pid>/status field (VmRSS, VmHWM) summed over the process tree (or `tree`), in KiB."""
    total = 0
    for p in tree if tree is not None else _children(pid):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def RssPeak(pid: int) -> RssSampler:
    """harness.RssSampler over the process tree: `peak` (KiB) is the largest sum of VmRSS seen. The tree is
    found once: walking all of /proc every 20 ms took 5% of the CPU the measured server was competing for."""
    tree = _children(pid)
    return RssSampler(pid, read=lambda: status_kib(pid, "VmRSS", tree))


@dataclass
class Load:
    """One thing to ask a server: a URL with headers, or a wrk Lua script that builds the requests."""
    url: str
    headers: dict = field(default_factory=dict)
    script: Optional[str] = None
    expect: str = ""  # what the probe request must answer, checked before the load (e.g. "304")
    # Fresh headers before each measurement: a ticket is good for at most 1,000,000 uses, fewer than some
    # runs of the ticket row make together.
    refresh: Optional[Callable[[], dict]] = None


@dataclass
class Figure:
    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_per_1k: float  # server CPU seconds per 1,000 requests
    rss_peak_mib: float
    rss_after_mib: float
    client_cpu: float  # wrk's own CPU seconds over the run, to tell a client-bound figure


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError("wrk latency %r" % text)
    return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def wrk_command(load: Load, connections: int, seconds: float) -> list:
    threads = 1 if connections < 2 else 2
    cmd = ["wrk", "-t%d" % threads, "-c%d" % connections, "-d%ds" % max(1, round(seconds)), "--latency",
           "--timeout", "10s"]
    for name, value in load.headers.items():
        cmd += ["-H", "%s: %s" % (name, value)]
    if load.script:
        cmd += ["-s", load.script]
    return cmd + [load.url]


def parse_wrk(out: str) -> dict:
    """Rate, latency percentiles, request and error counts of wrk's --latency report."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    count = re.search(r"(\d+) requests in", out)
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", out, re.M)
    if not (rate and count and p50 and p99):
        raise RuntimeError("wrk report not understood:\n" + out)
    errors = 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        errors += int(bad.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(x) for x in sock.groups())
    return {"rate": float(rate.group(1)), "requests": int(count.group(1)), "p50": _ms(p50.group(1)),
            "p99": _ms(p99.group(1)), "errors": errors}


def start_wrk(load: Load, connections: int, seconds: float) -> subprocess.Popen:
    return subprocess.Popen(wrk_command(load, connections, seconds), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def finish_wrk(proc: subprocess.Popen) -> dict:
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError("wrk exited %d:\n%s" % (proc.returncode, out))
    return parse_wrk(out)


def drive(pid: int, load: Load, connections: int, seconds: float, warmup: float) -> Figure:
    """A warm-up, then `seconds` of load at `connections`, with the server's CPU and RSS around it."""
    if load.refresh:
        load.headers = load.refresh()
    if warmup > 0:
        finish_wrk(start_wrk(load, connections, warmup))
    before_cpu = cpu_seconds(pid)
    before_client = resource.getrusage(resource.RUSAGE_CHILDREN)
    with RssPeak(pid) as rss:
        got = finish_wrk(start_wrk(load, connections, seconds))
    after_client = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu_seconds(pid) - before_cpu
    client = (after_client.ru_utime + after_client.ru_stime) - (before_client.ru_utime + before_client.ru_stime)
    return Figure(rate=got["rate"], p50_ms=got["p50"], p99_ms=got["p99"], requests=got["requests"],
                  errors=got["errors"], cpu_per_1k=cpu * 1000.0 / max(1, got["requests"]),
                  rss_peak_mib=rss.peak / 1024, rss_after_mib=status_kib(pid, "VmRSS") / 1024,
                  client_cpu=client)
