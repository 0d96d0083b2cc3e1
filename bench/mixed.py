"""Reads never wait behind writes (issue 15): 32 clients against arca, half reading (downloads, package
indexes, a repository list), half writing (new uploads and overwrites of one path), as two wrk processes with
Lua scripts at once. The readers' figures are compared with the same readers alone (read-only)."""

from pathlib import Path

from load import Load, cpu_delta, drive, finish_wrk, start_wrk, cpu_seconds, RssPeak, status_kib, thread_cpu

READ_LUA = """
local reads = { %(paths)s }
local headers = { %(headers)s }
local i = 0
request = function()
  i = i %% #reads + 1
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(headers[i]) do h[k] = v end
  return wrk.format("GET", reads[i], h)
end
"""

# Every body is different (its first bytes name the request): new files and overwrites alike store new
# content.
WRITE_LUA = """
local filler = string.rep("0123456789abcdef", 640)
local n = 0
request = function()
  n = n + 1
  local name = string.format("%%d-%%d", math.random(1, 1000000000), n)
  local body = name .. ";" .. string.sub(filler, #name + 2)
  local path
  if n %% 2 == 0 then
    path = "%(base)soverwrite/same-" .. (n %% 8) .. ".bin"
  else
    path = "%(base)snew/" .. name .. ".bin"
  end
  return wrk.format("PUT", path, nil, body)
end
"""


def _lua_str(s: str) -> str:
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def scripts(workdir: Path, reads, write_base: str):
    """`reads`: (path, {header: value}) pairs cycled by each reader connection."""
    paths = ", ".join(_lua_str(p) for p, _ in reads)
    headers = ", ".join("{ %s }" % ", ".join("[%s] = %s" % (_lua_str(k), _lua_str(v)) for k, v in h.items())
                        for _, h in reads)
    read = workdir / "mixed-read.lua"
    read.write_text(READ_LUA % {"paths": paths, "headers": headers})
    write = workdir / "mixed-write.lua"
    write.write_text(WRITE_LUA % {"base": write_base})
    return str(read), str(write)


def run_mixed(pid: int, base_url: str, basic: str, reads, write_base: str, workdir: Path, seconds: float,
              warmup: float, clients: int = 32):
    """Answers (read-only figure, mixed reads, mixed writes) as dicts of rate/p50/p99/errors, plus the
    server's CPU and peak RSS over the mixed phase."""
    read_script, write_script = scripts(workdir, reads, write_base)
    half = clients // 2
    reader = Load(base_url + "/", {"Authorization": basic}, script=read_script)
    writer = Load(base_url + "/", {"Authorization": basic}, script=write_script)
    if warmup > 0:
        finish_wrk(start_wrk(reader, half, warmup))
    threads_before = thread_cpu(pid)
    alone = drive(pid, reader, half, seconds, 0)
    threads_alone = cpu_delta(threads_before, thread_cpu(pid))
    if warmup > 0:
        finish_wrk(start_wrk(writer, half, warmup))
    before = cpu_seconds(pid)
    threads_before = thread_cpu(pid)
    with RssPeak(pid) as rss:
        r = start_wrk(reader, half, seconds)
        w = start_wrk(writer, half, seconds)
        reads_fig, writes_fig = finish_wrk(r), finish_wrk(w)
    cpu = cpu_seconds(pid) - before
    return alone, reads_fig, writes_fig, {"cpu_s": cpu, "rss_peak_mib": rss.peak / 1024,
                                          "rss_after_mib": status_kib(pid, "VmRSS") / 1024,
                                          "threads_read_only": threads_alone,
                                          "threads_mixed": cpu_delta(threads_before, thread_cpu(pid))}
