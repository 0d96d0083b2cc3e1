"""Issue 10 §1, §2 and the standing signature tests: what an attacker can do with one captured signed request.

A signature binds the method, path, query, signed headers, date and body. Every part is tampered with one at
a time, on requests that would change state, and each must answer 401 with nothing changed. The body is
bound by its hash, computed by the server from the bytes it received: a declared `X-Sdk-Content-Sha256`
must be signed and must match them, also for uploads that stream (refused at their end, nothing visible).
"""

import base64
import hashlib
import io
import json
import struct
import zipfile
from datetime import timedelta

import pytest
import requests

from harness import assert_auth_error, new_password, sdk_date, unique

CREDENTIALS = "/v3.0/OS-CREDENTIAL/credentials"


def sha256(data) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def victim(srv):
    """An ordinary user whose captured requests the attacker replays."""
    return srv.create_user()


@pytest.fixture(scope="module")
def repos(srv, project):
    return {fmt: srv.create_repo(project, fmt) for fmt in ("generic", "pypi", "cargo", "npm")}


def root_keys(srv) -> set:
    resp = srv.signed("GET", CREDENTIALS, query=[("user_id", srv.root.user_id)])
    assert resp.status_code == 200, resp.text
    return {c["access"] for c in resp.json()["credentials"]}


def user_names(srv) -> set:
    resp = srv.signed("GET", "/v3/users")
    assert resp.status_code == 200, resp.text
    return {u["name"] for u in resp.json()["users"]}


# -- §1: the body hash is computed, never taken on the client's word ------------------------------------------

def test_captured_key_request_cannot_be_rewritten_to_mint_root_keys(srv, victim):
    """A captured POST creating a key for `victim`, replayed with root's user_id and the original body's hash
    in an unsigned X-Sdk-Content-Sha256, must not hand the forger a root AK/SK."""
    captured = json.dumps({"credential": {"user_id": victim.user_id, "description": "ci"}})
    forged = json.dumps({"credential": {"user_id": srv.root.user_id, "description": "ci"}})
    before = root_keys(srv)

    def swap(req):
        req.body = forged.encode()
        req.header_params["X-Sdk-Content-Sha256"] = sha256(captured)

    resp = srv.signed("POST", CREDENTIALS, body=captured, tamper=swap)
    assert_auth_error(resp)
    assert "secret" not in resp.text
    assert root_keys(srv) == before


def test_captured_user_creation_cannot_be_rewritten(srv):
    name = unique("swap")
    captured = json.dumps({"user": {"name": unique("meant"), "password": new_password(), "enabled": True,
                                    "domain_id": srv.domain_id}})
    forged = json.dumps({"user": {"name": name, "password": "Forger-Pass-123!", "enabled": True,
                                  "domain_id": srv.domain_id}})

    def swap(req):
        req.body = forged.encode()
        req.header_params["X-Sdk-Content-Sha256"] = sha256(captured)

    assert_auth_error(srv.signed("POST", "/v3/users", body=captured, tamper=swap))
    assert name not in user_names(srv)


def test_a_signed_hash_that_is_not_the_body_is_refused(srv):
    name = unique("declared")
    body = json.dumps({"user": {"name": name, "password": new_password(), "enabled": True,
                                "domain_id": srv.domain_id}})
    resp = srv.signed("POST", "/v3/users", body=body, headers={"X-Sdk-Content-Sha256": sha256("{}")})
    assert_auth_error(resp)
    assert name not in user_names(srv)
    # The same declaration matching the body is what the signer meant: accepted.
    resp = srv.signed("POST", "/v3/users", body=body, headers={"X-Sdk-Content-Sha256": sha256(body)})
    assert resp.status_code == 201, resp.text


def test_unsigned_payload_never_covers_a_management_body(srv):
    name = unique("unsigned")
    body = json.dumps({"user": {"name": name, "password": new_password(), "enabled": True,
                                "domain_id": srv.domain_id}})
    for content_type in ("application/json", "text/plain"):
        resp = srv.signed("POST", "/v3/users", body=body,
                          headers={"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD", "Content-Type": content_type})
        assert_auth_error(resp)
    assert name not in user_names(srv)


# -- §2: what is verified is what is used --------------------------------------------------------------------

def test_plus_on_the_wire_is_not_the_signed_percent_2b(srv):
    path = "/cloudartifact/v5/repositories/users"
    query = [("user_name", "gen+eric"), ("page_size", 5), ("page_no", 1)]
    assert srv.signed("GET", path, query=query).status_code == 200
    # Signed as gen%2Beric, sent as gen+eric (which the handler would read as "gen eric").
    resp = srv.signed("GET", path, query=query, wire_uri=lambda uri: uri.replace("%2B", "+"))
    assert_auth_error(resp)
    # A space signed as %20 and sent as + is the same value to both, so it stays valid.
    spaced = [("user_name", "gen eric"), ("page_size", 5), ("page_no", 1)]
    resp = srv.signed("GET", path, query=spaced, wire_uri=lambda uri: uri.replace("%20", "+"))
    assert resp.status_code == 200, resp.text


def test_an_encoded_slash_is_not_the_signed_separator(srv, victim):
    # Signed for /v3/users/<id>/groups; the same signature must not cover the one segment "<id>/groups".
    path = "/v3/users/%s/groups" % victim.user_id
    assert srv.signed("GET", path).status_code == 200
    resp = srv.signed("GET", path, wire_uri=lambda uri: uri.replace("/groups", "%2Fgroups"))
    assert_auth_error(resp)


# -- every part tampered one at a time ------------------------------------------------------------------------

def test_method_swapped_on_a_captured_read(srv):
    target = srv.create_user(with_key=False)
    path = "/v3/users/%s" % target.user_id

    def to_delete(req):
        req.method = "DELETE"

    assert_auth_error(srv.signed("GET", path, tamper=to_delete))
    assert srv.signed("GET", path).status_code == 200


def test_path_swapped_on_a_captured_delete(srv):
    meant = srv.create_user(with_key=False)
    other = srv.create_user(with_key=False)

    def retarget(req):
        req.resource_path = "/v3/users/%s" % other.user_id

    assert_auth_error(srv.signed("DELETE", "/v3/users/%s" % meant.user_id, tamper=retarget))
    assert srv.signed("GET", "/v3/users/%s" % other.user_id).status_code == 200
    assert srv.signed("GET", "/v3/users/%s" % meant.user_id).status_code == 200


@pytest.mark.parametrize("index", [0, 1, 2])
def test_each_query_value_swapped(srv, index):
    path = "/cloudartifact/v5/repositories/users"
    query = [("user_name", "alice"), ("page_size", 5), ("page_no", 1)]
    changed = {0: "bob", 1: 50, 2: 2}[index]

    def change(req):
        params = list(req.query_params)
        params[index] = (params[index][0], changed)
        req.query_params = params

    assert_auth_error(srv.signed("GET", path, query=query, tamper=change))


@pytest.mark.parametrize("header,value", [
    ("Content-Type", "text/plain"),
    ("Host", "evil.example:80"),
    ("User-Agent", "someone-else"),
    ("X-Project-Id", "f" * 32),
    ("X-Sdk-Date", None),
])
def test_each_signed_header_swapped(srv, header, value):
    name = unique("hdr")
    body = {"user": {"name": name, "password": new_password(), "enabled": True, "domain_id": srv.domain_id}}

    def change(req):
        req.header_params[header] = value if value is not None else sdk_date(timedelta(seconds=-30))

    assert_auth_error(srv.signed("POST", "/v3/users", body=body, tamper=change))
    assert name not in user_names(srv)


@pytest.mark.parametrize("minutes", [-16, 16])
def test_replay_outside_the_clock_window(srv, minutes):
    name = unique("late")
    body = {"user": {"name": name, "password": new_password(), "enabled": True, "domain_id": srv.domain_id}}
    assert_auth_error(srv.signed("POST", "/v3/users", body=body, date=sdk_date(timedelta(minutes=minutes))))
    assert name not in user_names(srv)


def test_disabled_and_deleted_keys_sign_nothing(srv):
    user = srv.create_user()
    srv.grant(user, ["iam:users:listUsers"])
    assert srv.signed("GET", "/v3/users", ak=user.ak, sk=user.sk).status_code == 200
    resp = srv.signed("PUT", "%s/%s" % (CREDENTIALS, user.ak), body={"credential": {"status": "inactive"}})
    assert resp.status_code == 200, resp.text
    assert_auth_error(srv.signed("GET", "/v3/users", ak=user.ak, sk=user.sk))
    resp = srv.signed("PUT", "%s/%s" % (CREDENTIALS, user.ak), body={"credential": {"status": "active"}})
    assert resp.status_code == 200, resp.text
    assert srv.signed("GET", "/v3/users", ak=user.ak, sk=user.sk).status_code == 200
    assert srv.signed("DELETE", "%s/%s" % (CREDENTIALS, user.ak)).status_code == 204
    assert_auth_error(srv.signed("GET", "/v3/users", ak=user.ak, sk=user.sk))


# -- streamed uploads: the received bytes must hash to the signed declaration --------------------------------

OCTETS = {"Content-Type": "application/octet-stream"}


def test_generic_upload_bound_to_its_declared_hash(srv, repos):
    base = "/artifactory/%s/" % repos["generic"]
    good, evil = b"the release the CI built\n" * 100, b"a backdoor\n" * 100

    def swap(req):
        req.body = evil

    resp = srv.signed("PUT", base + "app.bin", body=good,
                      headers=dict(OCTETS, **{"X-Sdk-Content-Sha256": sha256(good)}), tamper=swap)
    assert_auth_error(resp)
    assert srv.signed("GET", base + "app.bin").status_code == 404
    # Declared but not signed: the signature would cover any body.
    resp = srv.signed("PUT", base + "app.bin", body=evil, headers=dict(OCTETS, **{"X-Sdk-Content-Sha256": sha256(good)}),
                      drop_signed=["x-sdk-content-sha256"])
    assert_auth_error(resp)
    assert srv.signed("GET", base + "app.bin").status_code == 404
    # Declared, signed and true: stored.
    resp = srv.signed("PUT", base + "app.bin", body=good, headers=dict(OCTETS, **{"X-Sdk-Content-Sha256": sha256(good)}))
    assert resp.status_code == 201, resp.text
    assert srv.signed("GET", base + "app.bin").content == good


def test_unsigned_payload_only_where_the_sdk_sends_it(srv, repos):
    base = "/artifactory/%s/" % repos["generic"]
    # The SDK's own upload: a non-JSON body, UNSIGNED-PAYLOAD declared and signed with its content type.
    resp = srv.signed("PUT", base + "sdk.bin", body=b"sdk bytes", headers=OCTETS)
    assert resp.status_code == 201, resp.text
    # The content type that decides it left out of the signature, or a JSON body the SDK would have hashed.
    assert_auth_error(srv.signed("PUT", base + "ct.bin", body=b"x", headers=OCTETS, drop_signed=["content-type"]))
    assert_auth_error(srv.signed("PUT", base + "json.bin", body=b"{}",
                                 headers={"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"}))
    # A streamed body signed without any declaration.
    assert_auth_error(srv.signed("PUT", base + "none.bin", body=b"x", drop_signed=["x-sdk-content-sha256"],
                                 headers=OCTETS, tamper=lambda r: r.header_params.pop("X-Sdk-Content-Sha256")))
    for name in ("ct.bin", "json.bin", "none.bin"):
        assert srv.signed("GET", base + name).status_code == 404


def test_a_body_sent_where_none_was_signed_is_refused(srv, repos):
    base = "/artifactory/%s/" % repos["generic"]

    def add_body(req):
        req.body = b"appeared after signing"

    assert_auth_error(srv.signed("PUT", base + "empty.bin", body=b"", headers=OCTETS, tamper=add_body))
    assert srv.signed("GET", base + "empty.bin").status_code == 404


def wheel(name, version, summary) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("%s-%s.dist-info/METADATA" % (name, version),
                   "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n" % (name, version, summary))
    return buf.getvalue()


def multipart(fields, filename, content, boundary="arcaboundary") -> bytes:
    out = io.BytesIO()
    for k, v in fields.items():
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, k, v)).encode())
    out.write(("--%s\r\nContent-Disposition: form-data; name=\"content\"; filename=\"%s\"\r\n"
               "Content-Type: application/octet-stream\r\n\r\n" % (boundary, filename)).encode())
    out.write(content)
    out.write(("\r\n--%s--\r\n" % boundary).encode())
    return out.getvalue()


def pypi_body(summary, epilogue=b"") -> bytes:
    content = wheel("signedpkg", "1.0", summary)
    fields = {":action": "file_upload", "name": "signedpkg", "version": "1.0", "filetype": "bdist_wheel",
              "sha256_digest": sha256(content)}
    return multipart(fields, "signedpkg-1.0-py3-none-any.whl", content) + epilogue


@pytest.mark.parametrize("epilogue", [b"", b"\r\n" + b"x" * 100])
def test_pypi_upload_bound_to_its_declared_hash(srv, repos, epilogue):
    path = "/artifactory/api/pypi/%s/" % repos["pypi"]
    good, evil = pypi_body("built by CI"), pypi_body("backdoored", epilogue)
    headers = {"Content-Type": "multipart/form-data; boundary=arcaboundary", "X-Sdk-Content-Sha256": sha256(good)}

    def swap(req):
        req.body = evil

    assert_auth_error(srv.signed("POST", path, body=good, headers=headers, tamper=swap))
    simple = srv.signed("GET", path + "simple/signedpkg/")
    assert simple.status_code == 404 or "signedpkg-1.0" not in simple.text


def cargo_frame(name, vers, crate: bytes) -> bytes:
    meta = json.dumps({"name": name, "vers": vers, "deps": [], "features": {}, "authors": [],
                       "description": "d", "license": "MIT"}).encode()
    return struct.pack("<I", len(meta)) + meta + struct.pack("<I", len(crate)) + crate


def test_cargo_publish_bound_to_its_declared_hash(srv, repos):
    path = "/artifactory/api/cargo/%s/api/v1/crates/new" % repos["cargo"]
    good = cargo_frame("signedcrate", "1.0.0", b"good crate bytes")
    evil = cargo_frame("signedcrate", "1.0.0", b"evil crate bytes")
    headers = dict(OCTETS, **{"X-Sdk-Content-Sha256": sha256(good)})

    def swap(req):
        req.body = evil

    assert_auth_error(srv.signed("PUT", path, body=good, headers=headers, tamper=swap))
    # Trailing bytes after a well-formed frame are part of the body the signature must cover too.
    assert_auth_error(srv.signed("PUT", path, body=good, headers=headers,
                                 tamper=lambda r: setattr(r, "body", good + b"tail")))
    index = srv.signed("GET", "/artifactory/api/cargo/%s/index/si/gn/signedcrate" % repos["cargo"])
    assert index.status_code == 404, index.text


def npm_doc(description: str) -> str:
    tarball = b"tarball " + description.encode()
    return json.dumps({"name": "signed-pkg", "description": description,
                       "versions": {"1.0.0": {"name": "signed-pkg", "version": "1.0.0"}},
                       "dist-tags": {"latest": "1.0.0"},
                       "_attachments": {"signed-pkg-1.0.0.tgz": {"data": base64.b64encode(tarball).decode(),
                                                                 "length": len(tarball)}}})


def test_npm_publish_bound_to_its_declared_hash(srv, repos):
    good, evil = npm_doc("good"), npm_doc("evil")
    path = "/artifactory/api/npm/%s/signed-pkg" % repos["npm"]

    def swap(req):
        req.body = evil.encode()

    # npm's clients read errors in npm's shape, so only the status is common to both refusals.
    resp = srv.signed("PUT", path, body=good, headers={"X-Sdk-Content-Sha256": sha256(good)}, tamper=swap)
    assert resp.status_code == 401, resp.text
    # The SDK never declares UNSIGNED-PAYLOAD for JSON; a streamed JSON body so declared is refused.
    resp = srv.signed("PUT", path, body=good, headers={"X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"})
    assert resp.status_code == 401, resp.text
    assert srv.signed("GET", path).status_code == 404
    # Declared, signed and true: published.
    resp = srv.signed("PUT", path, body=good, headers={"X-Sdk-Content-Sha256": sha256(good)})
    assert resp.status_code == 201, resp.text
    assert "1.0.0" in srv.signed("GET", path).json()["versions"]
