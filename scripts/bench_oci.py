"""Pulling a container image from arca's hosted docker2 repository against Debian's docker-registry
(distribution) serving the same image, in one run (issue 16); prints a Markdown table for BENCHMARKS.md.

    .venv-e2e/bin/python scripts/bench_oci.py     # ARCA_BIN defaults to target/release/arca

The image (BENCH_OCI_MIB, default 200 MiB) is BENCH_OCI_LAYERS (default 5) uncompressed tar layers of random
bytes, copied into both registries with skopeo; then `skopeo copy docker://… dir:…` (layers fetched in
parallel, skopeo's default) from each, alternated, BENCH_OCI_RUNS times (default 3); the medians are
printed. arca is asked with its repo user (Basic, then its token as skopeo does), docker-registry
anonymously (it has no auth configured). The load average before and after says how busy the machine was.
"""

import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import hashlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))
os.environ.setdefault("ARCA_BIN", str(REPO_ROOT / "target" / "release" / "arca"))

import requests  # noqa: E402
from harness import launch  # noqa: E402

MIB = int(os.environ.get("BENCH_OCI_MIB", "200"))
LAYERS = int(os.environ.get("BENCH_OCI_LAYERS", "5"))
RUNS = int(os.environ.get("BENCH_OCI_RUNS", "3"))
SKOPEO = shutil.which("skopeo")
REGISTRY = shutil.which("docker-registry")


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def image_layout(root: Path) -> None:
    """An OCI layout `root` with tag `bench`: LAYERS tar layers of random bytes, MIB in all."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    layers = []
    for i in range(LAYERS):
        raw = io.BytesIO()
        payload = os.urandom(MIB * 1024 * 1024 // LAYERS)
        with tarfile.open(fileobj=raw, mode="w") as tar:
            info = tarfile.TarInfo("layer%d.bin" % i)
            info.size, info.mtime = len(payload), 0
            tar.addfile(info, io.BytesIO(payload))
        data = raw.getvalue()
        (blobs / sha(data)[7:]).write_bytes(data)
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(data),
                       "size": len(data)})
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [l["digest"] for l in layers]}}).encode()
    (blobs / sha(config)[7:]).write_bytes(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": sha(config), "size": len(config)},
                           "layers": layers}).encode()
    (blobs / sha(manifest)[7:]).write_bytes(manifest)
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest),
         "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}))


def skopeo(*args):
    out = subprocess.run([SKOPEO, *args], capture_output=True, text=True, timeout=1800)
    if out.returncode != 0:
        raise SystemExit("skopeo %s failed: %s" % (" ".join(args[:2]), out.stderr))


def start_registry(root: Path):
    port = free_port()
    root.mkdir(parents=True)
    (root / "config.yml").write_text(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n"
        "    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%d\n" % (root / "data", port))
    proc = subprocess.Popen([REGISTRY, "serve", str(root / "config.yml")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            requests.get("http://127.0.0.1:%d/v2/" % port, timeout=1)
            return proc, "127.0.0.1:%d" % port
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("docker-registry did not start")


def pull(image: str, creds, dest: Path) -> float:
    shutil.rmtree(dest, ignore_errors=True)
    args = ["copy", "--src-tls-verify=false"]
    if creds:
        args += ["--src-creds", creds]
    started = time.monotonic()
    skopeo(*args, "docker://" + image, "dir:%s" % dest)
    return time.monotonic() - started


def main():
    if not SKOPEO or not REGISTRY:
        raise SystemExit("needs skopeo and docker-registry (Debian's)")
    work = Path(tempfile.mkdtemp(prefix="bench-oci-"))
    load_before = open("/proc/loadavg").read().split()[:3]
    image_layout(work / "layout")
    srv = launch(work / "arca")
    reg_proc = None
    try:
        reg_proc, reg_host = start_registry(work / "registry")
        project = srv.create_project()
        resp = srv.signed("POST", "/cloudartifact/v5/repositories", body={
            "format": "docker2", "display_name": "bench", "type": "hosted", "project_id": project})
        assert resp.status_code == 200, resp.text
        creds = "%s:%s" % srv.repo_login()
        arca_image = "%s/bench/app:bench" % srv.host
        reg_image = "%s/bench/app:bench" % reg_host
        layout = "oci:%s:bench" % (work / "layout")
        skopeo("copy", "--dest-tls-verify=false", "--dest-creds", creds, layout, "docker://" + arca_image)
        skopeo("copy", "--dest-tls-verify=false", layout, "docker://" + reg_image)
        times = {"arca": [], "docker-registry": []}
        for _ in range(RUNS):
            times["arca"].append(pull(arca_image, creds, work / "out-arca"))
            times["docker-registry"].append(pull(reg_image, None, work / "out-registry"))
        for name in ("out-arca", "out-registry"):
            manifest = json.loads((work / name / "manifest.json").read_text())
            for layer in manifest["layers"]:
                got = (work / name / layer["digest"][7:]).read_bytes()
                assert sha(got) == layer["digest"], "a pulled layer does not match its digest"
    finally:
        if reg_proc:
            reg_proc.terminate()
            reg_proc.wait(timeout=30)
        srv.stop()
    load_after = open("/proc/loadavg").read().split()[:3]
    print("| what | median of %d | runs |" % RUNS)
    print("|---|---|---|")
    for name, runs in times.items():
        median = statistics.median(runs)
        print("| skopeo copy of a %d MiB image (%d layers) to dir:, from %s | %.2f s (%.0f MB/s) | %s |" % (
            MIB, LAYERS, name, median, MIB * 1.048576 / median, ", ".join("%.2f" % r for r in runs)))
    print()
    print("load average before: %s, after: %s" % (" ".join(load_before), " ".join(load_after)))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
