"""Issue 10 §6, limits under attack: hostile sizes are refused while the body streams, not after it was
buffered; a body that stalls, or whose declared length is a lie, is dropped after the body timeout; a client
that sends its headers a byte at a time is dropped after the header timeout; 10,000 idle connections do not
lock anyone out. Each case measures the server's resident memory (VmRSS sampled from /proc while it works)
against the goal: one hostile request grows it by at most 32 MiB, 64 at once by less than 1 GiB, and a
well-behaved client keeps being served meanwhile. Bodies are generated as they are sent (a 300 MiB field is
never held by the test), over raw sockets so that a refusal that comes before the body was sent is read.

The servers run with 2-second timeouts (`ARCA_REQUEST_BODY_TIMEOUT_SECS`, `ARCA_HEADER_READ_TIMEOUT_SECS`)
so that the suite stays quick; the figures go into the terminal summary."""

import base64
import hashlib
import itertools
import json
import resource
import selectors
import socket
import struct
import threading
import time
import zlib

import pytest
import requests

from harness import FIGURES, RssSampler, proc_status_kib, unique

TIMEOUT_S = 2
ENV = {"ARCA_REQUEST_BODY_TIMEOUT_SECS": str(TIMEOUT_S), "ARCA_HEADER_READ_TIMEOUT_SECS": str(TIMEOUT_S)}
# How long a test waits for an answer that the timeouts above should bring well before.
ANSWER_WITHIN_S = 20
MIB = 1024 * 1024
ONE_REQUEST_LIMIT_KIB = 32 * 1024
SIXTY_FOUR_LIMIT_KIB = 1024 * 1024
DESCRIPTION_BYTES = 300 * MIB
WHEEL_ENTRIES = 300_000


# ---------------------------------------------------------------------------------------------------------
# Raw HTTP: a head, a body generated as it is sent, the answer read concurrently
# ---------------------------------------------------------------------------------------------------------

def address(srv):
    host, port = srv.host.rsplit(":", 1)
    return host, int(port)


def basic(login) -> str:
    return "Basic " + base64.b64encode(("%s:%s" % login).encode()).decode()


def head(method: str, path: str, srv, length, headers=()) -> bytes:
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s" % srv.host]
    if length is not None:
        lines.append("Content-Length: %d" % length)
    lines += ["%s: %s" % h for h in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class Answer:
    def __init__(self):
        self.status, self.raw, self.closed, self.seconds = None, b"", False, None

    def __repr__(self):
        return "Answer(status=%r, closed=%r, after %.1f s: %r)" % (
            self.status, self.closed, self.seconds or -1, self.raw[:300])


def exchange(srv, request_head: bytes, body=(), wait_s: float = ANSWER_WITHIN_S) -> Answer:
    """Sends `request_head`, then each chunk of `body` from a thread, while reading the answer. Returns
    when the answer's head arrived or the server closed the connection, or after `wait_s` seconds."""
    answer = Answer()
    sock = socket.create_connection(address(srv), timeout=10)
    # The sender gets its own handle: a timeout is per socket object, and the reader's short one would
    # make a send that waits for a busy server give up, which would look like a client that stalled.
    out = sock.dup()
    out.settimeout(wait_s + 10)
    t0 = time.monotonic()
    done = threading.Event()

    def send():
        try:
            out.sendall(request_head)
            for chunk in body:
                if chunk is PAUSE:
                    done.wait(wait_s + 5)
                    return
                out.sendall(chunk)
        except OSError:
            pass  # the server answered and closed before the body was sent: what these tests want

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    sock.settimeout(0.5)
    try:
        while b"\r\n\r\n" not in answer.raw and time.monotonic() - t0 < wait_s:
            try:
                data = sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                answer.closed = True
                break
            if not data:
                answer.closed = True
                break
            answer.raw += data
    finally:
        answer.seconds = time.monotonic() - t0
        done.set()
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()
        sender.join(timeout=10)
        out.close()
    if answer.raw.startswith(b"HTTP/1.1 "):
        answer.status = int(answer.raw[9:12])
    return answer


def repeat(chunk: bytes, total: int):
    sent = 0
    while sent < total:
        part = chunk[:total - sent]
        sent += len(part)
        yield part


PAUSE = object()


def stall_after(chunks):
    """Yields `chunks`, then PAUSE: the sender sends nothing more and keeps the connection open until the
    exchange ends."""
    yield from chunks
    yield PAUSE


# ---------------------------------------------------------------------------------------------------------
# Multipart forms (twine's legacy upload) and wheels, generated as they are sent
# ---------------------------------------------------------------------------------------------------------

BOUNDARY = "hostile-boundary-7d1f0c"


class Form:
    """A multipart/form-data body whose parts are (header, chunks, length): its length is known before
    any of it is generated, as twine sends it (with Content-Length)."""

    def __init__(self):
        self.parts = []

    def field(self, name: str, value, length=None, filename=None):
        disposition = 'form-data; name="%s"' % name
        if filename:
            disposition += '; filename="%s"' % filename
        header = ("--%s\r\nContent-Disposition: %s\r\n\r\n" % (BOUNDARY, disposition)).encode()
        if isinstance(value, (bytes, str)):
            value = value.encode() if isinstance(value, str) else value
            chunks, length = [value], len(value)
        else:
            chunks = value
        self.parts.append((header, chunks, length))
        return self

    def length(self) -> int:
        tail = len("--%s--\r\n" % BOUNDARY)
        return sum(len(h) + n + 2 for h, _, n in self.parts) + tail

    def chunks(self):
        for header, body, _ in self.parts:
            yield header
            yield from body
            yield b"\r\n"
        yield ("--%s--\r\n" % BOUNDARY).encode()

    def content_type(self) -> tuple:
        return ("Content-Type", "multipart/form-data; boundary=%s" % BOUNDARY)


def upload_form(name: str, version: str, filename: str, content: bytes) -> Form:
    form = Form()
    for key, value in ((":action", "file_upload"), ("protocol_version", "1"), ("name", name),
                       ("version", version), ("filetype", "bdist_wheel"), ("metadata_version", "2.1"),
                       ("sha256_digest", hashlib.sha256(content).hexdigest())):
        form.field(key, value)
    return form


DOS_DATE = (0 << 9) | (1 << 5) | 1  # 1980-01-01


def wheel_of(name: str, version: str, entries: int) -> bytes:
    """A wheel whose METADATA comes first, then `entries` empty files: stored entries, ZIP64 end records
    (past 65,535 entries), written directly so that 300,000 entries take a second, not a minute."""
    dist_info = "%s-%s.dist-info" % (name.replace("-", "_"), version)
    metadata = ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)).encode()
    local, central = [], []
    offset = 0

    def add(path: str, data: bytes):
        nonlocal offset
        raw = path.encode()
        crc = zlib.crc32(data)
        header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, DOS_DATE, crc, len(data), len(data),
                             len(raw), 0) + raw + data
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, DOS_DATE, crc, len(data),
                                   len(data), len(raw), 0, 0, 0, 0, 0, offset) + raw)
        local.append(header)
        offset += len(header)

    add("%s/METADATA" % dist_info, metadata)
    add("%s/WHEEL" % dist_info, b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    for i in range(entries):
        add("f/%06d" % i, b"")
    directory = b"".join(central)
    count = len(central)
    zip64_at = offset + len(directory)
    zip64 = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(directory), offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, zip64_at, 1)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, min(count, 0xFFFF), min(count, 0xFFFF),
                      min(len(directory), 0xFFFFFFFF), min(offset, 0xFFFFFFFF), 0)
    return b"".join(local) + directory + zip64 + locator + end


# ---------------------------------------------------------------------------------------------------------
# Fixtures and measuring
# ---------------------------------------------------------------------------------------------------------

@pytest.fixture
def world(start_arca):
    """A fresh server per test (so one test's freed-but-kept memory does not hide the next one's growth),
    with a repository of every kind and a repo login."""
    srv = start_arca(env=ENV)
    project = srv.create_project()
    return {"srv": srv, "login": srv.repo_login(),
            **{fmt: srv.create_repo(project, fmt) for fmt in ("pypi", "cargo", "npm", "generic")}}


class Growth:
    """The server's peak resident memory over its resident memory before, in KiB."""

    def __init__(self, srv):
        self.pid = srv.proc.pid

    def __enter__(self):
        self.before = proc_status_kib(self.pid, "VmRSS")
        self.sampler = RssSampler(self.pid).__enter__()
        return self

    def __exit__(self, *exc):
        self.sampler.__exit__(*exc)
        self.peak = max(self.sampler.peak, proc_status_kib(self.pid, "VmRSS"))
        self.kib = self.peak - self.before

    def describe(self) -> str:
        return "RSS %.1f -> peak %.1f MiB (+%.1f MiB)" % (self.before / 1024, self.peak / 1024, self.kib / 1024)


def temp_files(srv) -> list:
    return sorted(p.name for p in (srv.data_dir / "tmp").iterdir())


def eventually_no_temp_files(srv):
    deadline = time.monotonic() + 5
    while temp_files(srv) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert temp_files(srv) == [], "a dropped upload left a temporary file"


# ---------------------------------------------------------------------------------------------------------
# Hostile requests, one kind each; `hostile(kind, world)` answers (Answer, the status expected)
# ---------------------------------------------------------------------------------------------------------

def huge_description(world, size=DESCRIPTION_BYTES):
    """twine's upload with a `description` field of `size` bytes before the file."""
    srv, wheel = world["srv"], wheel_of("desc", "1.0", 0)
    form = upload_form("desc", "1.0", "desc-1.0-py3-none-any.whl", wheel)
    form.field("description", repeat(b"d" * MIB, size), size)
    form.field("content", wheel, filename="desc-1.0-py3-none-any.whl")
    request = head("POST", "/artifactory/api/pypi/%s/" % world["pypi"], srv, form.length(),
                   [form.content_type(), ("Authorization", basic(world["login"]))])
    return exchange(srv, request, form.chunks()), 413


def endless_framing(world, preamble: bool, size=DESCRIPTION_BYTES):
    """A form whose framing never ends: `size` bytes of preamble before the first boundary, or of one
    part's headers (no blank line after them). A parser buffers either until it finds its end."""
    srv = world["srv"]
    if preamble:
        chunks = repeat(b"p" * MIB, size)
    else:
        chunks = itertools.chain([('--%s\r\nContent-Disposition: form-data; name="x"\r\nX-Pad: ' % BOUNDARY)
                                  .encode()], repeat(b"h" * MIB, size))
    request = head("POST", "/artifactory/api/pypi/%s/" % world["pypi"], srv, size + 200,
                   [Form().content_type(), ("Authorization", basic(world["login"]))])
    return exchange(srv, request, chunks), 413


def endless_preamble(world):
    return endless_framing(world, preamble=True)


def endless_part_headers(world):
    return endless_framing(world, preamble=False)


def lying_length(world, path_fmt: str, fmt: str, method: str, first: bytes, headers=()):
    """Declares a gigabyte, sends `first`, then nothing more while the connection stays open."""
    srv = world["srv"]
    request = head(method, path_fmt % world[fmt], srv, 1 << 30, headers)
    return exchange(srv, request, stall_after([first])), 408


def lying_generic_put(world):
    return lying_length(world, "/artifactory/%s/lies/file.bin", "generic", "PUT", b"x" * 1024,
                        [("Authorization", basic(world["login"]))])


def stalled_pypi_file(world):
    """A well-formed upload whose file part stops in the middle."""
    srv = world["srv"]
    content = b"PK" + b"\0" * (4 * MIB)
    form = upload_form("stall", "1.0", "stall-1.0-py3-none-any.whl", content)
    form.field("content", stall_after([content[:MIB]]), len(content),
               filename="stall-1.0-py3-none-any.whl")
    request = head("POST", "/artifactory/api/pypi/%s/" % world["pypi"], srv, form.length(),
                   [form.content_type(), ("Authorization", basic(world["login"]))])
    return exchange(srv, request, form.chunks()), 408


def lying_npm_publish(world):
    """An npm publish document declared at 90 MiB (under max_package_document_bytes) that never comes."""
    srv = world["srv"]
    request = head("PUT", "/artifactory/api/npm/%s/liar" % world["npm"], srv, 90 * MIB,
                   [("Content-Type", "application/json"), ("Authorization", basic(world["login"]))])
    return exchange(srv, request, stall_after([b'{"name": "liar", '])), 408


def cargo_four_gib_json(world):
    """A cargo publish frame whose JSON length prefix declares 4 GiB (and a body declared to match)."""
    srv = world["srv"]
    request = head("PUT", "/artifactory/api/cargo/%s/api/v1/crates/new" % world["cargo"], srv, (4 << 30) + 8,
                   [("Authorization", basic(world["login"]))])
    return exchange(srv, request, stall_after([struct.pack("<I", 0xFFFFFFFF) + b"{" * 4096])), 400


def cargo_stalled_json(world):
    """A cargo publish frame that declares 1 MiB of JSON and sends a few bytes of it."""
    srv = world["srv"]
    request = head("PUT", "/artifactory/api/cargo/%s/api/v1/crates/new" % world["cargo"], srv, MIB + 8,
                   [("Authorization", basic(world["login"]))])
    return exchange(srv, request, stall_after([struct.pack("<I", MIB) + b'{"name":'])), 408


def lying_management_json(world):
    """A signed management call (the body is read to be hashed before the signature is checked)."""
    srv = world["srv"]
    auth = ("Authorization", "SDK-HMAC-SHA256 Access=%s, SignedHeaders=host;x-sdk-date, Signature=%s"
            % (srv.root.ak, "0" * 64))
    request = head("POST", "/v3/users", srv, 1000, [("Content-Type", "application/json"), auth,
                                                     ("X-Sdk-Date", "20260101T000000Z")])
    return exchange(srv, request, stall_after([b'{"user": '])), 408


HOSTILE = {
    "lying_generic_put": lying_generic_put,
    "stalled_pypi_file": stalled_pypi_file,
    "lying_npm_publish": lying_npm_publish,
    "cargo_four_gib_json": cargo_four_gib_json,
    "cargo_stalled_json": cargo_stalled_json,
    "lying_management_json": lying_management_json,
}


# ---------------------------------------------------------------------------------------------------------
# One at a time
# ---------------------------------------------------------------------------------------------------------

OVERSIZE = {
    "huge_description": (huge_description, b"description"),
    "endless_preamble": (endless_preamble, b"framing"),
    "endless_part_headers": (endless_part_headers, b"framing"),
}


@pytest.mark.parametrize("kind", sorted(OVERSIZE))
def test_oversize_form_parts_are_refused_as_they_stream(world, kind):
    """300 MiB in one place of twine's form (a `description` field, a preamble, one part's headers) is
    refused once it passes its limit, not after it was read into memory (a description grew the server by
    ~190 MiB and was refused as a 400 afterwards; the framing was held whole)."""
    srv = world["srv"]
    call, named = OVERSIZE[kind]
    with Growth(srv) as growth:
        answer, expected = call(world)
    FIGURES.append("PyPI form with 300 MiB of %s: %s after %.1f s, %s"
                   % (kind.replace("_", " "), answer.status, answer.seconds, growth.describe()))
    assert answer.status == expected, answer
    assert named in answer.raw, answer
    assert growth.kib < ONE_REQUEST_LIMIT_KIB, growth.describe()
    eventually_no_temp_files(srv)


def test_wheel_of_300000_entries_is_read_in_bounded_memory(world):
    """A wheel's METADATA is found by walking the zip's central directory, not by loading 300,000 entries
    (which grew the server by ~90 MiB). The wheel is valid, so it is accepted and its METADATA served."""
    srv = world["srv"]
    wheel = wheel_of("many-files", "1.0", WHEEL_ENTRIES)
    filename = "many_files-1.0-py3-none-any.whl"
    form = upload_form("many-files", "1.0", filename, wheel).field("content", wheel, filename=filename)
    request = head("POST", "/artifactory/api/pypi/%s/" % world["pypi"], srv, form.length(),
                   [form.content_type(), ("Authorization", basic(world["login"]))])
    with Growth(srv) as growth:
        answer = exchange(srv, request, form.chunks(), wait_s=120)
    FIGURES.append("PyPI wheel of %d zip entries (%.1f MiB): %d after %.1f s, %s"
                   % (WHEEL_ENTRIES, len(wheel) / MIB, answer.status or 0, answer.seconds, growth.describe()))
    assert answer.status == 200, answer
    assert growth.kib < ONE_REQUEST_LIMIT_KIB, growth.describe()
    meta = requests.get(srv.url("/artifactory/api/pypi/%s/packages/many-files/1.0/%s.metadata"
                                % (world["pypi"], filename)), auth=world["login"], timeout=10)
    assert meta.status_code == 200 and b"Name: many-files" in meta.content, meta.text[:200]


def npm_document(name: str, manifest_extra: str) -> bytes:
    tarball = b"a tarball"
    return (('{"name": "%s", "versions": {"1.0.0": {"name": "%s", "version": "1.0.0", %s"dist": {"shasum": "%s"}}}, '
             '"_attachments": {"%s-1.0.0.tgz": {"data": "%s", "length": %d}}}')
            % (name, name, manifest_extra, hashlib.sha1(tarball).hexdigest(), name,
               base64.b64encode(tarball).decode(), len(tarball))).encode()


def test_npm_documents_of_many_small_values_are_refused_before_parsing(world):
    """An npm publish document is read whole (up to max_package_document_bytes), but what it holds is
    counted before it is parsed: 16 MiB of `0,` became 8 million JSON values and grew the server by
    ~600 MiB, and the stored manifest as much again on every packument read. A manifest is bounded too."""
    srv, login = world["srv"], world["login"]
    zeros = npm_document("amp", '"junk": [%s], ' % ",".join(["0"] * (8 * MIB)))
    url = srv.url("/artifactory/api/npm/%s/" % world["npm"])
    with Growth(srv) as growth:
        resp = requests.put(url + "amp", data=zeros, auth=login, timeout=120,
                            headers={"Content-Type": "application/json"})
    FIGURES.append("npm publish of a %.0f MiB document of 8 million zeros: %d, %s"
                   % (len(zeros) / MIB, resp.status_code, growth.describe()))
    assert resp.status_code == 413 and "JSON values" in resp.json()["error"], resp.text[:300]
    assert growth.kib < ONE_REQUEST_LIMIT_KIB + len(zeros) // 1024, growth.describe()
    wide = npm_document("wide", '"junk": [%s], ' % ",".join(["0"] * 20_000))
    resp = requests.put(url + "wide", data=wide, auth=login, timeout=30, headers={"Content-Type": "application/json"})
    assert resp.status_code == 413 and "manifest" in resp.json()["error"], resp.text[:300]
    fine = npm_document("fine", '"description": "a package", ')
    resp = requests.put(url + "fine", data=fine, auth=login, timeout=30, headers={"Content-Type": "application/json"})
    assert resp.status_code == 201, resp.text[:300]


def test_management_bodies_of_many_small_values_are_refused_before_parsing(world):
    """A management body is at most max_body_bytes (1 MiB), but 1 MiB of `0, ` in a field parsed as JSON
    (a custom policy's document) is 300,000 values: counted and refused before anything is built."""
    srv = world["srv"]
    body = {"role": {"display_name": "amplified", "type": "AX", "description": "x",
                     "policy": {"Version": "1.1", "Statement": [0] * 300_000}}}
    with Growth(srv) as growth:
        resp = srv.signed("POST", "/v3.0/OS-ROLE/roles", body=body)
    FIGURES.append("management body of 300,000 zeros (%.1f MiB): %d, %s"
                   % (len(json.dumps(body)) / MIB, resp.status_code, growth.describe()))
    assert resp.status_code == 413 and "JSON values" in resp.json()["error_msg"], resp.text[:300]
    assert growth.kib < 8 * 1024, growth.describe()


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_lying_and_stalled_bodies_are_dropped(world, kind):
    """A body that stops coming (a declared length larger than what is sent, a client gone silent) is
    answered within the body timeout, and whatever it had streamed is removed."""
    srv = world["srv"]
    with Growth(srv) as growth:
        answer, expected = HOSTILE[kind](world)
    FIGURES.append("%s: %s after %.1f s, %s" % (kind, answer.status, answer.seconds, growth.describe()))
    assert answer.status == expected, answer
    assert growth.kib < ONE_REQUEST_LIMIT_KIB, growth.describe()
    eventually_no_temp_files(srv)
    assert requests.get(srv.url("/health"), timeout=10).status_code == 200


def test_slowloris_headers_are_dropped(world):
    """A client that sends its request head a byte every half second (and one that connects and says
    nothing) is disconnected after the header timeout."""
    srv = world["srv"]

    def drip():
        for byte in b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200:
            yield bytes([byte])
            time.sleep(0.5)

    slow = exchange(srv, b"", drip())
    silent = exchange(srv, b"")
    FIGURES.append("slowloris: a header byte every 0.5 s dropped after %.1f s, a silent connection after %.1f s"
                   % (slow.seconds, silent.seconds))
    for answer in (slow, silent):
        assert answer.closed, answer
        assert answer.status in (None, 408), answer
        assert answer.seconds < ANSWER_WITHIN_S, answer


# ---------------------------------------------------------------------------------------------------------
# Many at once
# ---------------------------------------------------------------------------------------------------------

class Bystander:
    """A well-behaved client, downloading a small file in a loop while the attack runs."""

    def __init__(self, srv, url, login):
        self.srv, self.url, self.login = srv, url, login
        self.served, self.failures = 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        session = requests.Session()
        while not self._stop.is_set():
            try:
                resp = session.get(self.url, auth=self.login, timeout=10)
                if resp.status_code == 200 and resp.content == b"still here":
                    self.served += 1
                else:
                    self.failures.append(resp.status_code)
            except requests.RequestException as e:
                self.failures.append(repr(e)[:200])
            time.sleep(0.05)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def test_sixty_four_hostile_requests_at_once(world):
    """64 hostile requests of every kind at once: each is refused or dropped, the server's memory grows by
    less than 1 GiB, and a normal client is served throughout."""
    srv = world["srv"]
    url = srv.url("/artifactory/%s/small.txt" % world["generic"])
    assert requests.put(url, data=b"still here", auth=world["login"], timeout=10).status_code == 201
    kinds = (["huge_description"] * 8 + ["endless_preamble"] * 4 + ["endless_part_headers"] * 4
             + ["lying_generic_put"] * 8 + ["stalled_pypi_file"] * 8 + ["lying_npm_publish"] * 8
             + ["cargo_four_gib_json"] * 8 + ["cargo_stalled_json"] * 8 + ["lying_management_json"] * 8)
    assert len(kinds) == 64
    calls = dict(HOSTILE, **{kind: call for kind, (call, _) in OVERSIZE.items()})
    results = [None] * len(kinds)

    def run(i, kind):
        try:
            results[i] = (kind,) + calls[kind](world)
        except Exception as e:  # noqa: BLE001 - reported below with the kind
            results[i] = (kind, e, None)

    threads = [threading.Thread(target=run, args=(i, k), daemon=True) for i, k in enumerate(kinds)]
    with Bystander(srv, url, world["login"]) as bystander, Growth(srv) as growth:
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=ANSWER_WITHIN_S * 4)
        seconds = time.monotonic() - t0
        time.sleep(0.5)
    # 300 MiB in a form is refused (413) once 4 MiB of it arrived; on a loaded machine one of the 64
    # sending threads here may itself pause past the 2-second body timeout first (408). Either is a refusal.
    acceptable = {kind: {413, 408} for kind in OVERSIZE}
    wrong = [r for r in results if r is None or not isinstance(r[1], Answer)
             or r[1].status not in acceptable.get(r[0], {r[2]})]
    FIGURES.append("64 hostile requests at once: all answered in %.1f s, %d wrong, %s; a bystander was served "
                   "%d times, %d failures" % (seconds, len(wrong), growth.describe(), bystander.served,
                                               len(bystander.failures)))
    assert not wrong, wrong[:5]
    assert growth.kib < SIXTY_FOUR_LIMIT_KIB, growth.describe()
    assert bystander.served > 0 and not bystander.failures, bystander.failures[:5]
    eventually_no_temp_files(srv)


def open_idle(addr, count: int, within_s: float):
    """Opens up to `count` connections that send nothing, 500 at a time (non-blocking connects, each batch
    waited for), for at most `within_s` seconds. Answers the connected sockets and how many failed."""
    connected, failed = [], 0
    selector = selectors.DefaultSelector()
    t0 = time.monotonic()
    while len(connected) < count and time.monotonic() - t0 < within_s:
        pending = set()
        for _ in range(min(500, count - len(connected))):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(addr)
            selector.register(s, selectors.EVENT_WRITE)
            pending.add(s)
        while pending and time.monotonic() - t0 < within_s:
            for key, _ in selector.select(timeout=0.5):
                s = key.fileobj
                selector.unregister(s)
                pending.discard(s)
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                    connected.append(s)
                else:
                    failed += 1
                    s.close()
        for s in pending:  # never accepted within the time
            selector.unregister(s)
            s.close()
            failed += 1
        if failed:
            break
    selector.close()
    return connected, failed


def test_ten_thousand_idle_connections(start_arca):
    """10,000 connections that never send a request: the server still accepts and serves others. It
    raises its own open-file limit (it is started here with the soft limit of a login shell, 1024, as
    the old server ran out at about 1,000 connections and stopped accepting). The header timeout is long
    here so that all 10,000 are held at once; that silent connections are dropped after it is shown by
    the slowloris test."""
    count = 10_000
    need = count + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            hard = need
        except (ValueError, OSError):
            pytest.skip("needs %d open files; the hard limit is %d" % (need, hard))
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, soft), hard))
    try:
        srv = start_arca(env=dict(ENV, ARCA_HEADER_READ_TIMEOUT_SECS="300"))  # inherits the low soft limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need if hard == resource.RLIM_INFINITY else hard, hard))
    with Growth(srv) as growth:
        t0 = time.monotonic()
        conns, failed = open_idle(address(srv), count, within_s=60)
        opened_s = time.monotonic() - t0
        try:
            served = requests.get(srv.url("/health"), timeout=10).status_code
        except requests.RequestException as e:
            served = repr(e)[:200]
    for s in conns:
        s.close()
    FIGURES.append("%d idle connections held (%d failed) after %.1f s: a bystander's request answered %s; %s"
                   % (len(conns), failed, opened_s, served, growth.describe()))
    assert len(conns) == count and not failed, (len(conns), failed)
    assert served == 200, served
    assert growth.kib < SIXTY_FOUR_LIMIT_KIB, growth.describe()
    assert requests.get(srv.url("/health"), timeout=10).status_code == 200
