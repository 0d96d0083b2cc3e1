"""Upload and publish rows: wrk Lua scripts that send, on every request, a new 10 KiB artifact under a name of
its own (a new package for npm, PyPI and Cargo, a new artifact for Maven and generic files), as the format's
client sends it. Names are unique across threads and runs (each thread draws a token from /dev/urandom), and
so is the content (the body's first bytes are the name), so no server stores an artifact once for all and no
publish is refused as a repeat. Package names differ per request rather than versions of one package, so the
rows measure publishing, not one package document growing with every version.

`Load(url, headers, script=KIND)`: `url` is where the requests go (for a generic or Maven upload, the folder
new files go under); `write(kind, url, path)` makes the script."""

import base64
import hashlib
import math
import random
import struct
from pathlib import Path

SIZE = 10 * 1024
# Every artifact is REST followed by a SUFFIX of its own that begins with its name. REST is the same for all
# and a whole number of MD5 blocks (64 bytes) and of base64 groups (3 bytes): its MD5 state and its base64
# are computed here once, and a request only hashes and encodes its last 64 bytes (twine sends the file's
# MD5, which arca checks; wrk's Lua has no hash functions of its own).
SUFFIX = 64
REST = random.Random(15).randbytes((SIZE - SUFFIX) // 2).hex().encode()
assert len(REST) == SIZE - SUFFIX and len(REST) % 192 == 0

_K = [int(abs(math.sin(i + 1)) * 2**32) & 0xFFFFFFFF for i in range(64)]
_S = [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4


def _md5_compress(state, block: bytes):
    x = struct.unpack("<16I", block)
    a, b, c, d = state
    for i in range(64):
        if i < 16:
            f, g = (b & c) | (~b & d), i
        elif i < 32:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif i < 48:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | ~d & 0xFFFFFFFF), (7 * i) % 16
        t = (a + (f & 0xFFFFFFFF) + _K[i] + x[g]) & 0xFFFFFFFF
        a, d, c, b = d, c, b, (b + ((t << _S[i]) | (t >> (32 - _S[i])))) & 0xFFFFFFFF
    return [(s + v) & 0xFFFFFFFF for s, v in zip(state, (a, b, c, d))]


def _md5_midstate(data: bytes):
    state = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    for i in range(0, len(data), 64):
        state = _md5_compress(state, data[i:i + 64])
    return state


MIDSTATE = _md5_midstate(REST)
# MD5's last block for a message of SIZE bytes: 0x80, zeros, the length in bits.
PADDING = b"\x80" + b"\0" * 55 + struct.pack("<Q", SIZE * 8)


def _md5_with_suffix(suffix: bytes) -> str:
    """The MD5 of REST + suffix from the midstate (what the Lua below computes), to check it here."""
    state = _md5_compress(_md5_compress(MIDSTATE, suffix), PADDING)
    return struct.pack("<4I", *state).hex()


assert _md5_with_suffix(b"x" * SUFFIX) == hashlib.md5(REST + b"x" * SUFFIX).hexdigest()

COMMON = """
local bit = require("bit")
local band, bor, bxor, bnot, rol, tobit = bit.band, bit.bor, bit.bxor, bit.bnot, bit.rol, bit.tobit
local rest = "%(rest)s"
local rest64 = "%(rest64)s"
local K = { %(k)s }
local S = { %(s)s }
local MIDSTATE = { %(midstate)s }
local PADDING = "%(padding)s"
local token, n = nil, 0
local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function init(args)
  local f = assert(io.open("/dev/urandom", "rb"))
  local bytes = f:read(4)
  f:close()
  token = string.format("%%02x%%02x%%02x%%02x", bytes:byte(1, 4))
end

local function md5_compress(st, block)
  local x = {}
  for i = 0, 15 do
    local b1, b2, b3, b4 = block:byte(i * 4 + 1, i * 4 + 4)
    x[i] = tobit(b1 + b2 * 256 + b3 * 65536 + b4 * 16777216)
  end
  local a, b, c, d = st[1], st[2], st[3], st[4]
  for i = 0, 63 do
    local f, g
    if i < 16 then f, g = bor(band(b, c), band(bnot(b), d)), i
    elseif i < 32 then f, g = bor(band(d, b), band(bnot(d), c)), (5 * i + 1) %% 16
    elseif i < 48 then f, g = bxor(b, c, d), (3 * i + 5) %% 16
    else f, g = bxor(c, bor(b, bnot(d))), (7 * i) %% 16 end
    local t = tobit(a + f + K[i + 1] + x[g])
    a, d, c, b = d, c, b, tobit(b + rol(t, S[i + 1]))
  end
  return { tobit(st[1] + a), tobit(st[2] + b), tobit(st[3] + c), tobit(st[4] + d) }
end

-- The MD5 of rest .. suffix (64 bytes), from rest's state.
local function md5_hex(suffix)
  local st = md5_compress(md5_compress(MIDSTATE, suffix), PADDING)
  local out = {}
  for i = 1, 4 do out[i] = bit.tohex(bit.bswap(st[i])) end
  return table.concat(out)
end

local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    for j, d in ipairs({ 262144, 4096, 64, 1 }) do
      if j <= 2 or (j == 3 and b) or (j == 4 and c) then
        local k = math.floor(v / d) %% 64
        out[#out + 1] = b64chars:sub(k + 1, k + 1)
      else
        out[#out + 1] = "="
      end
    end
  end
  return table.concat(out)
end

local function le32(v)
  return string.char(v %% 256, math.floor(v / 256) %% 256, math.floor(v / 65536) %% 256,
                     math.floor(v / 16777216) %% 256)
end

local function headers(extra)
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

-- The next artifact's name (a token and a count) and the last 64 bytes of its content, which begin with it.
local function next_artifact()
  n = n + 1
  local name = string.format("%%s%%07d", token, n)
  return name, name .. string.rep("-", %(suffix)d - #name)
end
"""

SCRIPTS = {
    # Generic file: one PUT.
    "put": """
request = function()
  local name, suffix = next_artifact()
  return wrk.format("PUT", "%(path)s" .. name .. ".bin", headers(), rest .. suffix)
end
""",
    "maven-deploy": """
request = function()
  local name, suffix = next_artifact()
  local a = "pub-" .. name
  return wrk.format("PUT", "%(path)s" .. a .. "/1.0/" .. a .. "-1.0.jar", headers(), rest .. suffix)
end
""",
    # npm publish: the package document with the tarball base64-encoded in `_attachments` (npm also sends the
    # tarball's SHA-1 and SHA-512, which the servers check when sent and do not require).
    "npm-publish": """
request = function()
  local id, suffix = next_artifact()
  local name = "pub-" .. id
  local file = name .. "-1.0.0.tgz"
  local body = '{"_id":"' .. name .. '","name":"' .. name .. '","dist-tags":{"latest":"1.0.0"},' ..
    '"versions":{"1.0.0":{"name":"' .. name .. '","version":"1.0.0","description":"bench",' ..
    '"dist":{"tarball":"http://localhost/' .. name .. '/-/' .. file .. '"}}},' ..
    '"_attachments":{"' .. file .. '":{"content_type":"application/octet-stream","data":"' ..
    rest64 .. b64(suffix) .. '","length":%(size)d}}}'
  return wrk.format("PUT", "%(path)s" .. name, headers({ ["Content-Type"] = "application/json" }), body)
end
""",
    # twine's legacy upload of an sdist: one multipart POST with the file's MD5.
    "pypi-upload": """
local boundary = "bench15boundary15bench15boundary"
local function field(name, value)
  return "--" .. boundary .. '\\r\\nContent-Disposition: form-data; name="' .. name .. '"\\r\\n\\r\\n' .. value ..
    "\\r\\n"
end
request = function()
  local id, suffix = next_artifact()
  local body = field(":action", "file_upload") .. field("protocol_version", "1") ..
    field("name", "pub-" .. id) .. field("version", "1.0.0") .. field("filetype", "sdist") ..
    field("pyversion", "source") .. field("metadata_version", "2.1") .. field("md5_digest", md5_hex(suffix)) ..
    "--" .. boundary .. '\\r\\nContent-Disposition: form-data; name="content"; filename="pub_' .. id ..
    '-1.0.0.tar.gz"\\r\\nContent-Type: application/octet-stream\\r\\n\\r\\n' .. rest .. suffix .. "\\r\\n--" ..
    boundary .. "--\\r\\n"
  return wrk.format("POST", "%(path)s",
    headers({ ["Content-Type"] = "multipart/form-data; boundary=" .. boundary }), body)
end
""",
    # cargo publish: the metadata JSON and the .crate, each after its little-endian length.
    "cargo-publish": """
request = function()
  local id, suffix = next_artifact()
  local meta = '{"name":"pub-' .. id .. '","vers":"1.0.0","deps":[],"features":{},"authors":["bench"],' ..
    '"description":"bench","license":"MIT"}'
  local body = le32(#meta) .. meta .. le32(%(size)d) .. rest .. suffix
  return wrk.format("PUT", "%(path)s", headers(), body)
end
""",
}


def _lua_bytes(data: bytes) -> str:
    return "".join("\\%d" % b for b in data)


def write(kind: str, url: str, path: Path) -> str:
    """Writes the script of `kind` for requests to `url`; answers its path."""
    target = "/" + url.split("://", 1)[1].split("/", 1)[1]
    values = {"rest": REST.decode(), "rest64": base64.b64encode(REST).decode(), "size": SIZE, "path": target,
              "suffix": SUFFIX, "k": ", ".join(map(str, _K)), "s": ", ".join(map(str, _S)),
              "midstate": ", ".join(map(str, MIDSTATE)), "padding": _lua_bytes(PADDING)}
    path.write_text(COMMON % values + SCRIPTS[kind] % values)
    return str(path)
