"""Several arca nodes on one PostgreSQL database and one S3 bucket (issue 12), for the multi-node tests.
The cluster has a PostgreSQL server of its own (scripts/pg-server.sh) and an S3 server of its own
(s3s-fs), so its tests can stop and restart them; every node gets the same `secret_key_file`."""

import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import List, Optional

from harness import REPO_ROOT, Arca, S3Server, launch

PG_SCRIPT = REPO_ROOT / "scripts" / "pg-server.sh"


class Cluster:
    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Outside pytest's private temporary directory, which the `postgres` user cannot enter.
        self.pg_dir = Path(tempfile.mkdtemp(prefix="arca-cluster-pg-"))
        out = subprocess.run(["bash", str(PG_SCRIPT), "start", str(self.pg_dir)],
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError("scripts/pg-server.sh start failed:\n%s" % out.stderr)
        self.pg_admin_url = out.stdout.strip()
        subprocess.run(["psql", "-X", "-q", "-d", self.pg_admin_url, "-c", "CREATE DATABASE arca"],
                       check=True, capture_output=True)
        self.database_url = self.pg_admin_url.rsplit("/", 1)[0] + "/arca"
        self.s3 = S3Server(self.workdir / "s3")
        self.key_file = self.workdir / "cluster.key"
        self.key_file.write_bytes(os.urandom(32))
        os.chmod(self.key_file, 0o600)
        self.nodes: List[Arca] = []
        self.account: Optional[dict] = None

    def env(self, **extra) -> dict:
        env = {**self.s3.env("cluster"), "ARCA_DATABASE_URL": self.database_url,
               "ARCA_SECRET_KEY_FILE": str(self.key_file)}
        env.update({k: str(v) for k, v in extra.items()})
        return env

    def start_node(self, name: Optional[str] = None, env=None, key_file: Optional[Path] = None) -> Arca:
        """Starts one more node; it acts as the cluster's account once some node has bootstrapped it."""
        name = name or "node%d" % len(self.nodes)
        full_env = self.env(**(env or {}))
        if key_file is not None:
            full_env["ARCA_SECRET_KEY_FILE"] = str(key_file)
        node = launch(self.workdir / name, env=full_env, wait_bootstrap=False)
        self.nodes.append(node)
        self._share_account()
        return node

    def start_nodes(self, count: int, env=None) -> List[Arca]:
        """Starts `count` nodes at the same moment (all racing to bootstrap an empty database)."""
        started, errors = [None] * count, []
        first = len(self.nodes)
        barrier = threading.Barrier(count)

        def start(i):
            try:
                barrier.wait(timeout=30)
                started[i] = launch(self.workdir / ("node%d" % (first + i)), env=self.env(**(env or {})),
                                    wait_bootstrap=False)
            except Exception as e:  # noqa: BLE001 - reported below with the others
                errors.append(e)

        threads = [threading.Thread(target=start, args=(i,)) for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        self.nodes.extend(started)
        self._share_account()
        return started

    def _share_account(self):
        if self.account is None:
            for node in self.nodes:
                if node.bootstrap:
                    self.account = node.bootstrap
                    break
        if self.account is not None:
            for node in self.nodes:
                if not node.bootstrap:
                    node.adopt(self.account)

    def pg_stop(self):
        subprocess.run(["bash", str(PG_SCRIPT), "stop", str(self.pg_dir)], check=True, capture_output=True,
                       timeout=120)

    def pg_start(self):
        subprocess.run(["bash", str(PG_SCRIPT), "resume", str(self.pg_dir)], check=True, capture_output=True,
                       timeout=120)

    def psql(self, sql: str) -> str:
        return subprocess.run(["psql", "-X", "-q", "-At", "-d", self.database_url, "-c", sql], check=True,
                              capture_output=True, text=True).stdout.strip()

    def bucket_blobs(self) -> Path:
        return self.s3.bucket_dir() / "cluster" / "blobs"

    def close(self):
        for node in self.nodes:
            node.stop()
        self.s3.stop()
        try:
            self.pg_stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.pg_dir, ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)
