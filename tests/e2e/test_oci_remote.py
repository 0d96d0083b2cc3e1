"""Issue 16: container images through remote and virtual `docker2` repositories, with skopeo. Upstreams:
Debian's `docker-registry` (distribution) behind htpasswd Basic auth, and a second arca whose private
repository asks for the registry Bearer handshake. A virtual repository over a hosted and a remote member
pulls from both and pushes to its deploy repository; a tag moved upstream is seen after
metadata_max_age_secs and not before; a hostile upstream's wrong bytes are refused and not kept; pushes to
a remote repository and a Viewer's push to a virtual one are refused; another account sees nothing; the
upstream stopped, what was fetched is still served."""

import base64
import ctypes
import ctypes.util
import json
import os
import re
import shutil
import socket
import subprocess
import time

import pytest
import requests

from conftest import _start, _stop
from harness import ROLE_VIEWER, unique
from test_oci import (OCI_INDEX, OCI_MANIFEST, SKOPEO, docker_name, image_manifest, layer_tar, oci_error,
                      push_blob, push_image, push_manifest, run, sha, v2)
from upstream_server import StaticUpstream

# The collection of unreferenced layers runs often: it must leave a remote repository's copies alone.
ARCA_ARGS = ["--remote-allow-private-networks", "--oci-gc-interval-secs", "1", "--oci-gc-grace-secs", "3"]
ARTIFACT = "/cloudartifact/v5/artifact/"
REGISTRY = shutil.which("docker-registry")
pytestmark = pytest.mark.skipif(SKOPEO is None or REGISTRY is None,
                                reason="skopeo or docker-registry is not installed")

UP_USER, UP_PASSWORD = "puller", "pull-secret-%s" % unique("pw")


def bcrypt(password: str) -> str:
    """A bcrypt hash for htpasswd, by the system's libcrypt (libxcrypt)."""
    lib = ctypes.CDLL(ctypes.util.find_library("crypt"))
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt.restype = ctypes.c_char_p
    salt = lib.crypt_gensalt(b"$2b$", 10, None, 0)
    return lib.crypt(password.encode(), salt).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """docker-registry on a loopback port with htpasswd auth; stoppable."""

    def __init__(self, root):
        self.root, self.port = root, free_port()
        (root / "htpasswd").write_text("%s:%s\n" % (UP_USER, bcrypt(UP_PASSWORD)))
        (root / "config.yml").write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\n"
            "  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%d\n"
            "auth:\n  htpasswd:\n    realm: test\n    path: %s\n"
            % (root / "data", self.port, root / "htpasswd"))
        self.base_url = "http://127.0.0.1:%d" % self.port
        self.host = "127.0.0.1:%d" % self.port
        self.proc = None

    def url(self, path):
        return self.base_url + path

    def start(self):
        self.log = open(self.root / "registry.log", "a")
        self.proc = subprocess.Popen([REGISTRY, "serve", str(self.root / "config.yml")], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                if requests.get(self.url("/v2/"), timeout=1).status_code == 401:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("docker-registry did not start: " + (self.root / "registry.log").read_text())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.log.close()


def oci_image(root, tag, layers):
    """An OCI image layout with `layers` (dicts of file name -> bytes), one layer each."""
    root.mkdir(parents=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    gzs, diff_ids = [], []
    for files in layers:
        gz, diff_id = layer_tar(files)
        gzs.append(gz)
        diff_ids.append(diff_id)
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    manifest = image_manifest(config, gzs)
    for blob in (*gzs, config, manifest):
        (blobs / sha(blob)[7:]).write_bytes(blob)
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest),
         "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    return sha(manifest)


def copy_in(layout, tag, dest, creds):
    out = run(SKOPEO, "copy", "--dest-tls-verify=false", "--dest-creds", creds, "oci:%s:%s" % (layout, tag),
              "docker://" + dest)
    assert out.returncode == 0, out.stderr


def inspect(image, creds):
    out = run(SKOPEO, "inspect", "--tls-verify=false", "--creds", creds, "docker://" + image)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def copy_out(image, creds, dest):
    out = run(SKOPEO, "copy", "--src-tls-verify=false", "--src-creds", creds, "docker://" + image,
              "dir:%s" % dest)
    assert out.returncode == 0, out.stderr
    manifest = (dest / "manifest.json").read_bytes()
    for blob in [json.loads(manifest)["config"], *json.loads(manifest)["layers"]]:
        assert sha((dest / blob["digest"][7:]).read_bytes()) == blob["digest"]
    return sha(manifest)


def remote_docker(srv, project, url, **settings):
    body = {"format": "docker2", "type": "remote", "repository_name": docker_name("rem"), "project_id": project,
            "remote_url": url}
    body.update(settings)
    resp = srv.signed("POST", ARTIFACT, body=body)
    assert resp.status_code == 200, resp.text
    return body["repository_name"]


def virtual_docker(srv, project, members, **settings):
    body = {"format": "docker2", "type": "virtual", "repository_name": docker_name("virt"),
            "project_id": project, "repository_ids": members}
    body.update(settings)
    resp = srv.signed("POST", ARTIFACT, body=body)
    assert resp.status_code == 200, resp.text
    return body["repository_name"]


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = Registry(tmp_path_factory.mktemp("registry"))
    reg.start()
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def upstream_arca(tmp_path_factory):
    server = _start(tmp_path_factory.mktemp("oci-upstream"))
    yield server
    if server.proc.poll() is None:
        _stop(server)


@pytest.fixture(scope="module")
def world(srv, project, login, registry, upstream_arca, tmp_path_factory):
    """Upstream registry: `lib/app:v1` (four layers, one of 3 MiB that streams through arca). Upstream arca: a private repository with `img:1`.
    Here: a remote repository of each (the registry's with its htpasswd user, arca's with a repo user of
    it), a hosted one, and a virtual one over the hosted and the registry's remote, deploying to the hosted."""
    layout = tmp_path_factory.mktemp("layouts") / "app"
    app_digest = oci_image(layout, "v1", [{"a.txt": b"alpha\n" * 1000}, {"b.bin": bytes(range(256)) * 4000},
                                          {"c.txt": b"gamma\n"}, {"big.bin": os.urandom(3 * 1024 * 1024)}])
    copy_in(layout, "v1", "%s/lib/app:v1" % registry.host, "%s:%s" % (UP_USER, UP_PASSWORD))
    up = upstream_arca
    up_project = up.create_project()
    up_repo = docker_name("private")
    resp = up.signed("POST", "/cloudartifact/v5/repositories", body={
        "format": "docker2", "display_name": up_repo, "type": "hosted", "project_id": up_project})
    assert resp.status_code == 200, resp.text
    up_login = up.repo_login()
    img_digest, _ = push_image(up, up_login, up_repo + "/img", "1", {"i.txt": b"from the upstream arca\n"})
    hosted = srv.create_repo(project, "docker2", name=docker_name("hosted"))
    remote_reg = remote_docker(srv, project, registry.base_url, user_name=UP_USER, password=UP_PASSWORD)
    remote_arca = remote_docker(srv, project, up.base_url, user_name=up_login[0], password=up_login[1])
    front = virtual_docker(srv, project, [hosted, remote_reg], default_deploy_repository=hosted)
    return {"app_digest": app_digest, "img_digest": img_digest, "up_repo": up_repo, "up_login": up_login,
            "hosted": hosted, "remote_reg": remote_reg, "remote_arca": remote_arca, "front": front,
            "creds": "%s:%s" % login, "layout": layout}


def test_skopeo_pulls_through_a_remote_of_docker_registry(srv, login, world, registry, tmp_path):
    image = "%s/%s/lib/app:v1" % (srv.host, world["remote_reg"])
    assert inspect(image, world["creds"])["Digest"] == world["app_digest"]
    assert copy_out(image, world["creds"], tmp_path / "out") == world["app_digest"]
    tags = run(SKOPEO, "list-tags", "--tls-verify=false", "--creds", world["creds"], "docker://" + image[:-3])
    assert tags.returncode == 0 and json.loads(tags.stdout)["Tags"] == ["v1"], tags.stderr
    # The bytes are the registry's, by digest too, with the digest header.
    upstream = (UP_USER, UP_PASSWORD)
    there = requests.get(registry.url("/v2/lib/app/manifests/v1"), auth=upstream, timeout=10,
                         headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})
    here = requests.get(v2(srv, "%s/lib/app/manifests/%s" % (world["remote_reg"], world["app_digest"])),
                        auth=login, timeout=10)
    assert here.status_code == 200 and here.content == there.content
    assert here.headers["Docker-Content-Digest"] == world["app_digest"]
    assert here.headers["Content-Type"] == "application/vnd.oci.image.manifest.v1+json"
    layer = json.loads(here.content)["layers"][1]["digest"]
    blob = requests.get(v2(srv, "%s/lib/app/blobs/%s" % (world["remote_reg"], layer)), auth=login, timeout=10)
    assert blob.status_code == 200 and sha(blob.content) == layer
    assert blob.headers["Docker-Content-Digest"] == layer
    ranged = requests.get(v2(srv, "%s/lib/app/blobs/%s" % (world["remote_reg"], layer)), auth=login,
                          headers={"Range": "bytes=0-9"}, timeout=10)
    assert ranged.status_code == 206 and ranged.content == blob.content[:10]
    for missing in ("lib/app/manifests/v9", "lib/none/manifests/v1", "lib/app/blobs/sha256:" + "0" * 64):
        resp = requests.get(v2(srv, "%s/%s" % (world["remote_reg"], missing)), auth=login, timeout=10)
        assert resp.status_code == 404 and oci_error(resp) in ("MANIFEST_UNKNOWN", "BLOB_UNKNOWN"), resp.text
    # The registry's Basic challenge was answered once: later requests for the image carried the credentials.
    challenged = [line for line in (registry.root / "registry.log").read_text().splitlines()
                  if "/v2/lib/app/" in line and '" 401 ' in line and "arca/" in line]
    assert len(challenged) == 1, challenged
    # Without credentials: the registry's challenge, as for a hosted repository.
    anon = requests.get(v2(srv, "%s/lib/app/manifests/v1" % world["remote_reg"]), timeout=10)
    assert anon.status_code == 401 and "Bearer" in anon.headers["WWW-Authenticate"]


def test_the_bearer_handshake_with_an_upstream_arca(srv, project, world, upstream_arca, tmp_path):
    up = upstream_arca
    name = "%s/img" % world["up_repo"]
    challenged = requests.get(v2(up, name + "/manifests/1"), timeout=10)
    assert challenged.status_code == 401 and challenged.headers["WWW-Authenticate"].startswith("Bearer realm=")
    image = "%s/%s/%s:1" % (srv.host, world["remote_arca"], name)
    assert inspect(image, world["creds"])["Digest"] == world["img_digest"]
    assert copy_out(image, world["creds"], tmp_path / "out") == world["img_digest"]
    # Nothing here asked the upstream for a token but the remote repository: it answered the challenge.
    log = up.log_path.read_text()
    assert "method=GET path=/v2/token}: answered status=200" in log, log[-3000:]
    # A wrong password: the upstream's token endpoint refuses it, and nothing is served.
    wrong = remote_docker(srv, project, up.base_url, user_name=world["up_login"][0], password="wrong")
    resp = requests.get(v2(srv, "%s/%s/manifests/1" % (wrong, name)), auth=tuple(world["creds"].split(":", 1)),
                        timeout=30)
    assert resp.status_code == 502 and oci_error(resp) == "UNKNOWN", resp.text
    assert "wrong" not in resp.text


def test_a_virtual_pulls_from_its_members_and_pushes_to_its_deploy_repository(srv, project, login, world,
                                                                               tmp_path):
    front, creds = world["front"], world["creds"]
    image = "%s/%s/lib/app" % (srv.host, front)
    assert inspect(image + ":v1", creds)["Digest"] == world["app_digest"]
    assert copy_out(image + ":v1", creds, tmp_path / "out") == world["app_digest"]
    # A push through the virtual lands in the hosted member, beside the remote's tag.
    mine = tmp_path / "mine"
    mine_digest = oci_image(mine, "mine", [{"m.txt": b"pushed through the virtual\n"}])
    copy_in(mine, "mine", image + ":mine", creds)
    hosted = requests.get(v2(srv, "%s/lib/app/manifests/mine" % world["hosted"]), auth=login, timeout=10)
    assert hosted.status_code == 200 and sha(hosted.content) == mine_digest
    assert inspect(image + ":mine", creds)["Digest"] == mine_digest
    # Retagging through the virtual: skopeo finds every layer already there (in the remote member) and
    # uploads none; the manifest's blobs are linked into the deploy repository.
    out = run(SKOPEO, "copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--src-creds", creds,
              "--dest-creds", creds, "docker://%s:v1" % image, "docker://%s:copied" % image)
    assert out.returncode == 0, out.stderr
    copied = requests.get(v2(srv, "%s/lib/app/manifests/copied" % world["hosted"]), auth=login, timeout=10)
    assert copied.status_code == 200 and sha(copied.content) == world["app_digest"]
    for layer in json.loads(copied.content)["layers"]:
        blob = requests.get(v2(srv, "%s/lib/app/blobs/%s" % (world["hosted"], layer["digest"])), auth=login,
                            timeout=30)
        assert blob.status_code == 200 and sha(blob.content) == layer["digest"]
    listed = requests.get(v2(srv, "%s/lib/app/tags/list" % front), auth=login, timeout=10)
    assert listed.status_code == 200
    assert listed.json() == {"name": front + "/lib/app", "tags": ["copied", "mine", "v1"]}
    page = requests.get(v2(srv, "%s/lib/app/tags/list?n=1" % front), auth=login, timeout=10)
    assert page.json()["tags"] == ["copied"] and "last=copied" in page.headers["Link"]
    # No default deploy repository: a push is refused, as in every format.
    bare = virtual_docker(srv, project, [world["hosted"]])
    refused = requests.post(v2(srv, bare + "/lib/app/blobs/uploads/"), auth=login, timeout=10)
    assert refused.status_code == 400 and "default_deploy_repository" in refused.text


def push_referrer(srv, auth, name, subject, subject_size, kind):
    empty = b"{}"
    push_blob(srv, auth, name, empty)
    doc = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": kind,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha(empty), "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": sha(empty), "size": 2}],
        "subject": {"mediaType": OCI_MANIFEST, "digest": subject, "size": subject_size}}).encode()
    resp = push_manifest(srv, auth, name, sha(doc), doc)
    assert resp.status_code == 201, resp.text
    return sha(doc)


def test_referrers_through_remote_and_virtual_repositories(srv, project, login, world, upstream_arca):
    up, name = upstream_arca, "%s/img" % world["up_repo"]
    subject = world["img_digest"]
    size = len(requests.get(v2(up, name + "/manifests/1"), auth=world["up_login"], timeout=10).content)
    sbom = push_referrer(up, world["up_login"], name, subject, size, "application/vnd.example.sbom")
    sig = push_referrer(up, world["up_login"], name, subject, size, "application/vnd.example.signature")
    path = "%s/%s/referrers/%s" % (world["remote_arca"], name, subject)
    got = requests.get(v2(srv, path), auth=login, timeout=30)
    assert got.status_code == 200 and got.headers["Content-Type"] == OCI_INDEX, got.text
    assert sorted(m["digest"] for m in got.json()["manifests"]) == sorted([sbom, sig])
    filtered = requests.get(v2(srv, path), params={"artifactType": "application/vnd.example.sbom"}, auth=login,
                            timeout=30)
    assert filtered.headers["OCI-Filters-Applied"] == "artifactType"
    assert [m["digest"] for m in filtered.json()["manifests"]] == [sbom]
    # The referrer itself is a manifest of the image, read by digest through the remote.
    ref = requests.get(v2(srv, "%s/%s/manifests/%s" % (world["remote_arca"], name, sbom)), auth=login, timeout=30)
    assert ref.status_code == 200 and sha(ref.content) == sbom
    # docker-registry 2.8 has no referrers API: 404, and clients read the tag schema instead.
    none = requests.get(v2(srv, "%s/lib/app/referrers/%s" % (world["remote_reg"], world["app_digest"])),
                        auth=login, timeout=30)
    assert none.status_code == 404, none.text
    # A virtual repository: the hosted member's referrers, the remote member answering none.
    app_size = len(requests.get(v2(srv, "%s/lib/app/manifests/v1" % world["front"]), auth=login,
                                timeout=30).content)
    here = push_referrer(srv, login, world["front"] + "/lib/app", world["app_digest"], app_size,
                         "application/vnd.example.sbom")
    merged = requests.get(v2(srv, "%s/lib/app/referrers/%s" % (world["front"], world["app_digest"])), auth=login,
                          timeout=30)
    assert merged.status_code == 200 and [m["digest"] for m in merged.json()["manifests"]] == [here]


def test_a_remote_repository_takes_no_push_or_delete(srv, login, world):
    remote = world["remote_reg"]
    for method, path in (("POST", "/lib/app/blobs/uploads/"), ("PUT", "/lib/app/manifests/v2"),
                         ("DELETE", "/lib/app/manifests/" + world["app_digest"])):
        resp = requests.request(method, v2(srv, remote + path), auth=login, data=b"{}", timeout=10)
        assert resp.status_code == 405 and oci_error(resp) == "UNSUPPORTED", (method, resp.text)
        assert "remote" in resp.json()["errors"][0]["message"]


def test_a_tag_moved_upstream_is_seen_after_max_age_and_not_before(srv, project, login, world, registry,
                                                                   tmp_path):
    kept = remote_docker(srv, project, registry.base_url, user_name=UP_USER, password=UP_PASSWORD,
                         metadata_max_age_secs=3600)
    fresh = remote_docker(srv, project, registry.base_url, user_name=UP_USER, password=UP_PASSWORD,
                          metadata_max_age_secs=1)
    name = "lib/moving"
    upstream = "%s:%s" % (UP_USER, UP_PASSWORD)
    first = oci_image(tmp_path / "one", "t", [{"1": b"one"}])
    copy_in(tmp_path / "one", "t", "%s/%s:t" % (registry.host, name), upstream)
    for repo in (kept, fresh):
        resp = requests.get(v2(srv, "%s/%s/manifests/t" % (repo, name)), auth=login, timeout=10)
        assert resp.headers["Docker-Content-Digest"] == first
    second = oci_image(tmp_path / "two", "t", [{"2": b"two"}])
    copy_in(tmp_path / "two", "t", "%s/%s:t" % (registry.host, name), upstream)
    time.sleep(1.5)
    for repo, want in ((kept, first), (fresh, second)):
        resp = requests.get(v2(srv, "%s/%s/manifests/t" % (repo, name)), auth=login, timeout=10)
        assert resp.status_code == 200 and resp.headers["Docker-Content-Digest"] == want, repo
        assert sha(resp.content) == want


def hostile_upstream(tmp_path):
    """A static server answering a manifest and blobs under /v2/evil/img/ whose bytes are not their digest."""
    static = StaticUpstream(tmp_path / "evil")
    good_config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
    small, big = sha(b"the real small layer"), sha(b"the real big layer")
    static.put("v2/evil/img/blobs/" + small, b"not the small layer")
    static.put("v2/evil/img/blobs/" + big, b"x" * (3 * 1024 * 1024))
    manifest = image_manifest(good_config, [b"the real small layer"])
    static.put("v2/evil/img/manifests/" + sha(b"something else"), manifest,
               content_type="application/vnd.oci.image.manifest.v1+json")
    return static, small, big, sha(b"something else")


def test_a_hostile_upstream_is_refused_and_nothing_is_kept(srv, project, login, tmp_path):
    static, small, big, manifest_digest = hostile_upstream(tmp_path)
    repo = remote_docker(srv, project, static.url)
    for attempt in (1, 2):
        resp = requests.get(v2(srv, "%s/evil/img/blobs/%s" % (repo, small)), auth=login, timeout=30)
        assert resp.status_code == 502 and "not match" in resp.text, resp.text
        assert static.count("/v2/evil/img/blobs/" + small) == attempt, "nothing was kept"
        resp = requests.get(v2(srv, "%s/evil/img/manifests/%s" % (repo, manifest_digest)), auth=login, timeout=30)
        assert resp.status_code == 502, resp.text
        assert static.count("/v2/evil/img/manifests/" + manifest_digest) == attempt
    # A large blob streams, and its transfer ends short of its length: no client takes it for whole.
    with requests.get(v2(srv, "%s/evil/img/blobs/%s" % (repo, big)), auth=login, timeout=30, stream=True) as r:
        got = b""
        try:
            for chunk in r.iter_content(65536):
                got += chunk
        except requests.exceptions.RequestException:
            pass
        assert r.status_code != 200 or len(got) < 3 * 1024 * 1024
        assert sha(got) != big
    time.sleep(0.5)
    again = requests.get(v2(srv, "%s/evil/img/blobs/%s" % (repo, big)), auth=login, timeout=30, stream=True)
    again.close()
    assert static.count("/v2/evil/img/blobs/" + big) == 2, "the wrong large blob was not kept either"
    static.stop()


def test_an_upstream_that_hides_private_images_behind_404_gets_the_credentials(srv, project, login, tmp_path):
    private = StaticUpstream(tmp_path / "private")
    private.basic = "Basic " + base64.b64encode(b"owner:hidden-pw").decode()
    layer = b"a private layer"
    private.put("v2/team/img/blobs/" + sha(layer), layer)
    with_creds = remote_docker(srv, project, private.url, user_name="owner", password="hidden-pw")
    without = remote_docker(srv, project, private.url)
    path = "team/img/blobs/" + sha(layer)
    got = requests.get(v2(srv, "%s/%s" % (with_creds, path)), auth=login, timeout=30)
    assert got.status_code == 200 and got.content == layer
    assert requests.get(v2(srv, "%s/%s" % (without, path)), auth=login, timeout=30).status_code == 404
    # Once answered with credentials, the next image's request carries them at once.
    other = b"another private layer"
    private.put("v2/team/img/blobs/" + sha(other), other)
    before = private.count("/v2/team/img/blobs/" + sha(other))
    got = requests.get(v2(srv, "%s/team/img/blobs/%s" % (with_creds, sha(other))), auth=login, timeout=30)
    assert got.status_code == 200 and private.count("/v2/team/img/blobs/" + sha(other)) == before + 1
    private.stop()


def test_a_viewer_pulls_through_the_virtual_but_cannot_push(srv, project, world, tmp_path):
    viewer = srv.create_user()
    srv.add_member(project, viewer.user_id, ROLE_VIEWER)
    viewer_login = srv.repo_login(viewer)
    creds = "%s:%s" % viewer_login
    image = "%s/%s/lib/app" % (srv.host, world["front"])
    assert inspect(image + ":v1", creds)["Digest"] == world["app_digest"]
    denied = requests.post(v2(srv, world["front"] + "/lib/app/blobs/uploads/"), auth=viewer_login, timeout=10)
    assert denied.status_code == 403 and oci_error(denied) == "DENIED"
    layout = tmp_path / "v"
    oci_image(layout, "x", [{"v.txt": b"viewer\n"}])
    out = run(SKOPEO, "copy", "--dest-tls-verify=false", "--dest-creds", creds, "oci:%s:x" % layout,
              "docker://%s:viewer" % image)
    assert out.returncode != 0
    assert requests.get(v2(srv, "%s/lib/app/manifests/viewer" % world["hosted"]), auth=viewer_login,
                        timeout=10).status_code == 404


def test_another_account_cannot_see_remote_or_virtual_images(two_domains):
    a, b = two_domains
    project = a.create_project()
    hosted = a.create_repo(project, "docker2", name=docker_name("h"))
    front = virtual_docker(a, project, [hosted], default_deploy_repository=hosted)
    remote = remote_docker(a, project, "http://127.0.0.1:9")
    a_login = a.repo_login()
    push_image(a, a_login, front + "/secret", "1", {"s": b"s"})
    assert requests.get(v2(a, front + "/secret/manifests/1"), auth=a_login, timeout=10).status_code == 200
    b_login = b.repo_login()
    for repo in (front, remote, hosted):
        for path in ("/secret/manifests/1", "/secret/tags/list"):
            resp = requests.get(v2(a, repo + path), auth=b_login, timeout=10)
            assert resp.status_code == 404 and oci_error(resp) == "NAME_UNKNOWN", resp.text
        push = requests.post(v2(a, repo + "/secret/blobs/uploads/"), auth=b_login, timeout=10)
        assert push.status_code == 404


def test_update_artifactory_repoints_a_remote_and_an_open_one_serves_anonymous_pulls(srv, project, login, world,
                                                                                     upstream_arca):
    # Made without credentials for the upstream arca's private repository: its token grants no pull.
    remote = remote_docker(srv, project, upstream_arca.base_url)
    name = "%s/img" % world["up_repo"]
    refused = requests.get(v2(srv, "%s/%s/manifests/1" % (remote, name)), auth=login, timeout=30)
    assert refused.status_code == 502, refused.text
    up_user, up_password = world["up_login"]
    resp = srv.signed("PUT", ARTIFACT, body={"repo_name": remote, "user_name": up_user, "password": up_password,
                                             "allow_anonymous": True})
    assert resp.status_code == 200, resp.text
    for auth in (login, None):
        got = requests.get(v2(srv, "%s/%s/manifests/1" % (remote, name)), auth=auth, timeout=30)
        assert got.status_code == 200 and got.headers["Docker-Content-Digest"] == world["img_digest"]
    anon_push = requests.post(v2(srv, "%s/%s/blobs/uploads/" % (remote, name)), timeout=10)
    assert anon_push.status_code == 405 and oci_error(anon_push) == "UNSUPPORTED", "a remote takes no push at all"
    assert up_password not in srv.log_path.read_text(), "the upstream password is never logged"


def test_an_image_held_by_a_hosted_member_hides_the_remote_one(srv, project, login, world, tmp_path):
    hosted = srv.create_repo(project, "docker2", name=docker_name("claim"))
    guarded = virtual_docker(srv, project, [hosted, world["remote_reg"]], hosted_names_hide_remote=True)
    open_front = virtual_docker(srv, project, [hosted, world["remote_reg"]])
    claimed, _ = push_image(srv, login, hosted + "/lib/app", "local", {"l": b"local"})
    tags = requests.get(v2(srv, "%s/lib/app/tags/list" % guarded), auth=login, timeout=10)
    assert tags.json()["tags"] == ["local"]
    assert requests.get(v2(srv, "%s/lib/app/manifests/v1" % guarded), auth=login, timeout=10).status_code == 404
    assert requests.get(v2(srv, "%s/lib/app/tags/list" % open_front), auth=login,
                        timeout=10).json()["tags"] == ["local", "v1"]


def test_the_console_creates_remote_and_virtual_docker2_repositories(srv, project, registry):
    session = requests.Session()
    signed_in = session.post(srv.url("/ui/sign-in"), data={"domain": srv.domain_name, "user": srv.root.name,
                             "password": srv.root.password}, allow_redirects=False, timeout=30)
    assert signed_in.status_code == 303
    page = session.get(srv.url("/ui/repositories"), timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    remote = docker_name("uirem")
    form = {"csrf": csrf, "project_id": project, "format": "docker2", "name": remote, "kind": "remote",
            "remote_url": registry.base_url}
    resp = session.post(srv.url("/ui/repositories"), data=form, headers={"Origin": srv.base_url},
                        allow_redirects=False, timeout=30)
    assert resp.status_code == 303, resp.text
    front = docker_name("uivirt")
    form.update(name=front, kind="virtual", remote_url="", members=remote)
    resp = session.post(srv.url("/ui/repositories"), data=form, headers={"Origin": srv.base_url},
                        allow_redirects=False, timeout=30)
    assert resp.status_code == 303, resp.text
    for name, kind in ((remote, "remote"), (front, "virtual")):
        shown = srv.signed("GET", "/cloudartifact/v5/repositories/" + name).json()["result"]
        assert shown["format"] == "docker2" and shown["url"].endswith("/v2/%s/" % name), shown


# --- last: it stops the upstream registry ---------------------------------------------------------------------

def test_the_upstream_stopped_cached_digests_are_still_served(srv, project, login, world, registry, tmp_path):
    stale = remote_docker(srv, project, registry.base_url, user_name=UP_USER, password=UP_PASSWORD,
                          metadata_max_age_secs=0)
    image = "%s/%s/lib/app:v1" % (srv.host, stale)
    assert copy_out(image, world["creds"], tmp_path / "before") == world["app_digest"]
    registry.stop()
    time.sleep(5)  # past the collection's grace: the copies are no push in flight, and stay
    assert copy_out(image, world["creds"], tmp_path / "after") == world["app_digest"]
    tag = requests.get(v2(srv, "%s/lib/app/manifests/v1" % stale), auth=login, timeout=30)
    assert tag.status_code == 200 and tag.headers.get("Warning", "").startswith("110"), "stale, and said so"
    by_digest = "%s/%s/lib/app@%s" % (srv.host, world["front"], world["app_digest"])
    assert inspect(by_digest, world["creds"])["Digest"] == world["app_digest"]
    never = requests.get(v2(srv, "%s/lib/never/manifests/v1" % stale), auth=login, timeout=30)
    assert never.status_code == 502, never.text
