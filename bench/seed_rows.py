#!/usr/bin/env python3
"""Fill an arca data directory with many rows, fast, for the benchmark (issue 15).

    bench/seed_rows.py --data-dir DIR [--tickets N] [--users N] [--artifacts N] [--database-url URL]

The binary is started once on DIR (so migrations run and the first-start account exists, or the existing
one is reused), a generic repository is created and one file uploaded through the API when artifacts are
asked for, then the server is stopped and rows are inserted directly with SQL, one transaction per 50,000
rows, in the shape the server writes: users as `store::identity::insert_user` writes them (no password:
they exist, list and can be given keys), tickets as `store::tickets::insert` (the id is the SHA-256 of a
ticket string of the issued form; the strings are not kept), files and blobs copied from the row the server
wrote for the uploaded file with a path, content and digests of their own, each blob written under
`blobs/ab/cd/<sha256>`. Run with the e2e virtualenv's python (it uses tests/e2e/harness.py to start arca;
ARCA_BIN names the binary). Prints a JSON summary (ids the benchmark needs) on stdout.
"""

import argparse
import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
import harness  # noqa: E402

BATCH = 50_000
SEED_REPO = "seed-generic"


def now_ms() -> int:
    return int(time.time() * 1000)


class Sink:
    """Inserts rows into the data directory's database: SQLite in place, PostgreSQL through psql's COPY."""

    def __init__(self, data_dir: Path, url: str):
        self.url = url
        self.db = None if url else sqlite3.connect(str(data_dir / "arca.db"), timeout=60)

    def query(self, sql: str, *args):
        if self.db is not None:
            return self.db.execute(sql, args).fetchall()
        text = sql
        for a in args:
            text = text.replace("?", "'%s'" % str(a).replace("'", "''"), 1)
        out = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-d", self.url,
                              "-c", text], check=True, capture_output=True, text=True).stdout
        return [tuple(line.split("\t")) for line in out.splitlines() if line]

    def insert(self, table: str, columns, rows):
        """`rows` an iterator of tuples; committed every BATCH rows."""
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                self._flush(table, columns, batch)
                batch = []
        if batch:
            self._flush(table, columns, batch)

    def _flush(self, table, columns, batch):
        if self.db is not None:
            marks = ", ".join("?" for _ in columns)
            with self.db:
                self.db.executemany("INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(columns), marks), batch)
            return

        def cell(v):
            if v is None:
                return "\\N"
            if isinstance(v, bool):
                return "t" if v else "f"
            return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        data = "".join("\t".join(cell(v) for v in row) + "\n" for row in batch)
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url, "-c",
                        "COPY %s (%s) FROM STDIN" % (table, ", ".join(columns))],
                       input=data, check=True, capture_output=True, text=True)

    def close(self):
        if self.db is not None:
            self.db.close()


def seed_users(sink: Sink, boot: dict, n: int, run: str):
    t = now_ms()
    root = boot["user_id"]
    rows = ((secrets.token_hex(16), boot["domain_id"], "seed-%s-%07d" % (run, i), None, False, True, None, None,
             None, t, t, root, root) for i in range(n))
    sink.insert("users", ["id", "domain_id", "name", "password_hash", "is_root", "enabled", "email", "phone",
                          "description", "created_at", "modified_at", "created_by", "modified_by"], rows)


def seed_tickets(sink: Sink, boot: dict, n: int):
    # Owners: up to 1,000 of the account's users, so per-user filters have realistic ranges.
    owners = [r[0] for r in sink.query("SELECT id FROM users WHERE domain_id = ? ORDER BY id LIMIT 1000",
                                       boot["domain_id"])]
    t = now_ms()

    def rows():
        for i in range(n):
            user = owners[i % len(owners)]
            value = "ticket_%d:%s:%s" % (t, secrets.token_hex(16), user)
            yield (hashlib.sha256(value.encode()).hexdigest(), user, boot["iam_project_id"],
                   "" if i % 10 else SEED_REPO, t, t + 86_400_000 + i, 1 + i % 100)
    sink.insert("tickets", ["id", "user_id", "iam_project_id", "embed_id", "issued_at", "expires_at",
                            "left_num"], rows())


def seed_artifacts(srv, sink: Sink, data_dir: Path, n: int, run: str) -> str:
    """A generic repository with `n` small files, each its own blob (content, digests and file on disk)."""
    existing = sink.query("SELECT id FROM repositories WHERE name = ?", SEED_REPO)
    if not existing:
        srv.create_repo(srv.create_project(), "generic", name=SEED_REPO)
    user, password = srv.repo_login()
    probe = "seed/probe-%s.bin" % run
    resp = srv.request("PUT", "/artifactory/%s/%s" % (SEED_REPO, probe), data=b"probe " + run.encode(),
                       auth=(user, password))
    resp.raise_for_status()
    return probe


def write_files(sink: Sink, data_dir: Path, n: int, run: str, probe: str):
    cols = ["repo_id", "path", "sha256", "size", "content_type", "created_at", "created_by", "modified_at",
            "modified_by"]
    template = sink.query("SELECT %s FROM files WHERE path = ? AND deleted_at IS NULL" % ", ".join(cols), probe)[0]
    repo_id, _, _, _, content_type, created_at, created_by, modified_at, modified_by = template
    blobs, files = [], []
    t = now_ms()
    for i in range(n):
        body = b"artifact %s %d\n" % (run.encode(), i)
        sha = hashlib.sha256(body).hexdigest()
        target = data_dir / "blobs" / sha[:2] / sha[2:4] / sha
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        blobs.append((sha, len(body), hashlib.md5(body).hexdigest(), hashlib.sha1(body).hexdigest(),
                      hashlib.sha512(body).hexdigest(), t))
        files.append((repo_id, "seed/%s/%03d/file-%07d.bin" % (run, i % 1000, i), sha, len(body), content_type,
                      created_at, created_by, modified_at, modified_by))
    sink.insert("blobs", ["sha256", "size", "md5", "sha1", "sha512", "created_at"], iter(blobs))
    sink.insert("files", cols, iter(files))
    return "seed/%s/000/file-0000000.bin" % run


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True, type=Path)
    p.add_argument("--tickets", type=int, default=0)
    p.add_argument("--users", type=int, default=0)
    p.add_argument("--artifacts", type=int, default=0)
    p.add_argument("--database-url", default="")
    args = p.parse_args()
    data_dir = args.data_dir.resolve()
    env = {"ARCA_DATABASE_URL": args.database_url} if args.database_url else {}
    work = data_dir.parent / (data_dir.name + ".seed-work")
    srv = harness.launch(work, data_dir=data_dir, env=env)
    run = secrets.token_hex(3)
    sink = Sink(data_dir, args.database_url)
    probe = None
    try:
        if args.artifacts:
            probe = seed_artifacts(srv, sink, data_dir, args.artifacts, run)
    finally:
        srv.stop()
    started = time.monotonic()
    try:
        if args.users:
            seed_users(sink, srv.bootstrap, args.users, run)
        if args.tickets:
            seed_tickets(sink, srv.bootstrap, args.tickets)
        first = write_files(sink, data_dir, args.artifacts, run, probe) if args.artifacts else None
    finally:
        sink.close()
    print(json.dumps({"data_dir": str(data_dir), "seconds": round(time.monotonic() - started, 1),
                      "domain_id": srv.bootstrap["domain_id"], "iam_project_id": srv.bootstrap["iam_project_id"],
                      "access_key": srv.bootstrap["access_key"], "secret_key": srv.bootstrap["secret_key"],
                      "user_id": srv.bootstrap["user_id"], "repository": SEED_REPO if args.artifacts else None,
                      "first_artifact": first}))


if __name__ == "__main__":
    main()
