"""A static HTTP server on loopback for remote-repository tests: Python's own ThreadingHTTPServer serving a
directory (Last-Modified, If-Modified-Since → 304, Content-Length), which records every request it gets,
serves a file with the Content-Type it was put with (a PEP 691 page), and can be told to misbehave per
path: answer an error status, send its bytes slowly or hold them half-way until released, cut the
connection mid-body, or answer 404 to every request without given Basic credentials. It can be stopped and
started again on the same port."""

import os
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Fault:
    def __init__(self, status=None, chunk_delay=0.0, hold_at_half=None, cut_at=None):
        self.status = status
        self.chunk_delay = chunk_delay
        self.hold_at_half = hold_at_half  # a threading.Event the body waits for half-way
        self.cut_at = cut_at              # close the connection after this many body bytes


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, upstream=None, **kwargs):
        self.upstream = upstream
        super().__init__(*args, **kwargs)

    def log_message(self, *args):
        pass

    def guess_type(self, path):
        rel = os.path.relpath(path, self.upstream.root)
        return self.upstream.content_types.get(rel) or super().guess_type(path)

    def do_GET(self):
        self._answer(head=False)

    def do_HEAD(self):
        self._answer(head=True)

    def _answer(self, head):
        path = self.path.split("?", 1)[0]
        self.upstream._record(self.command, path, dict(self.headers))
        if self.upstream.basic and self.headers.get("Authorization") != self.upstream.basic:
            # A private upstream that hides what it has from others (as some registries do): 404.
            self.send_error(404)
            return
        fault = self.upstream.faults.get(path)
        if fault and fault.status:
            body = b"upstream secret error text " + path.encode()
            self.send_response(fault.status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not fault:
            return super().do_HEAD() if head else super().do_GET()
        file = Path(self.translate_path(path))
        if not file.is_file():
            self.send_error(404)
            return
        data = file.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if head:
            return
        half = len(data) // 2
        sent = 0
        step = 64 * 1024
        while sent < len(data):
            if fault.cut_at is not None and sent >= fault.cut_at:
                self.connection.shutdown(2)
                return
            if fault.hold_at_half is not None and sent >= half and sent - step < half:
                fault.hold_at_half.wait(60)
            chunk = data[sent:sent + step]
            self.wfile.write(chunk)
            self.wfile.flush()
            sent += len(chunk)
            if fault.chunk_delay:
                time.sleep(fault.chunk_delay)


class StaticUpstream:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.faults = {}
        self.content_types = {}  # a file's path under root -> the Content-Type it is served with
        self.requests = []
        self.basic = None  # an Authorization value: requests without it are answered 404
        self._lock = threading.Lock()
        self.port = None
        self._server = None
        self.start()

    def _record(self, method, path, headers):
        with self._lock:
            self.requests.append((method, path, headers))

    def start(self):
        handler = partial(_Handler, directory=str(self.root), upstream=self)
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def put(self, rel: str, data: bytes, mtime=None, content_type=None):
        if content_type:
            self.content_types[rel] = content_type
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if mtime is not None:
            os.utime(target, (mtime, mtime))

    def count(self, path: str, method="GET") -> int:
        with self._lock:
            return sum(1 for m, p, _ in self.requests if p == path and m == method)

    def headers_of(self, path: str):
        with self._lock:
            return [h for m, p, h in self.requests if p == path]
