#!/usr/bin/env python3
"""Generate SDK-HMAC-SHA256 signature vectors with the official Huawei Cloud Python SDK signer.

Regenerate (from the repository root, with the e2e venv that pins huaweicloudsdkcore==3.1.219):

    .venv-e2e/bin/python tests/vectors/gen_signature_vectors.py

It rewrites tests/vectors/sdk_hmac_sha256.json. The output is deterministic (fixed AK/SK and a fixed
X-Sdk-Date), so a diff after regenerating means the SDK's signer changed.

Each vector is one request signed by `huaweicloudsdkcore.signer.signer.Signer`, recorded as the server
receives it:

- `method`; `path`: the request path exactly as sent on the wire (what `requests` puts on the request
  line, before the `?`); `query`: the raw query string as sent (after the `?`, "" when there is none);
- `headers`: every header the SDK sets, after signing (Authorization, Host, X-Sdk-Date included). Values
  are the text the client meant: the SDK sends them as UTF-8 bytes. A real transport adds further,
  unsigned headers (Content-Length, Accept-Encoding, Connection, ...) that a verifier must ignore;
- `body` with `body_encoding` ("utf-8" text or "base64" for binary bodies, "" for no body);
- `ak`, `sk`; the intermediate `canonical_request` and `string_to_sign`, the `signed_headers` list and
  the hex `signature`, so an implementation can be debugged step by step;
- `valid`: whether the `Authorization` header is a correct signature of this request under `sk`. Invalid
  vectors describe their `mutation` (request changed after signing, or signed with another secret); their
  `canonical_request`/`string_to_sign`/`signature` are what a correct verifier computes for the request as
  received, which must then differ from the signature in the `Authorization` header.

The date is fixed in the past: a verifier that enforces the 15-minute clock window must be given the
vector's `X-Sdk-Date` as "now" (or skip the window check) when replaying vectors.
"""

import base64
import copy
import hashlib
import hmac
import json
import os
import re
import sys
from urllib.parse import quote, unquote

import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer

AK = "HPUAXG2FEJRW8QMDLK4Z"
SK = "cR7sXq0Wv3nL9tYbK2mZpF6hJ8dG4aE1uO5iS0wN"
OTHER_SK = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7M"
SDK_DATE = "20250102T030405Z"
HOST = "127.0.0.1:8443"
USER_AGENT = "huaweicloud-usdk-python/3.0"
IAM_PROJECT_ID = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
DOMAIN_ID = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sdk_hmac_sha256.json")

JSON_CT = {"Content-Type": "application/json"}
SDK_HEADERS = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Project-Id": IAM_PROJECT_ID}


def case(name, method, path, query=None, headers=None, body=None, note=""):
    return {"name": name, "method": method, "resource_path": path, "query": query or [],
            "headers": headers if headers is not None else dict(JSON_CT), "body": body, "note": note}


CASES = [
    case("get_root", "GET", "/", headers={}, note="no query, no body, only Host and X-Sdk-Date signed"),
    case("sdk_list_projects_by_region", "GET", "/v3/projects", [("name", "local-1")],
         {"User-Agent": USER_AGENT}, "",
         note="what BasicCredentials sends to find the IAM project id (body is the empty string)"),
    case("sdk_show_user_ticket", "GET", "/cloudartifact/v5/ticket", headers=dict(SDK_HEADERS),
         note="seed 000 as the CodeArtsArtifact client sends it"),
    case("sdk_show_user_privileges", "GET", "/cloudartifact/v3/user/AbCdEf0123456789AbCdEf0123456789/privileges",
         headers=dict(SDK_HEADERS), note="seed 002 with a CodeArts project id in the path"),
    case("query_sorted_by_name", "GET", "/cloudartifact/v5/repositories/users",
         [("user_name", "bob"), ("page_size", 10), ("page_no", 1)], dict(SDK_HEADERS),
         note="parameters are sorted by name; integers are written in decimal"),
    case("query_repeated_key", "GET", "/v1/items", [("tag", "b"), ("tag", "a"), ("tag", "c"), ("a", "z")],
         note="a repeated key: pairs sort by (name, value)"),
    case("query_list_value", "GET", "/v1/items", [("ids", ["zeta", "alpha", "mid"]), ("limit", 5)],
         note="a list value is sent as a repeated key with its values sorted"),
    case("query_empty_values", "GET", "/v1/tickets", [("user_name", ""), ("embed_id", ""), ("limit", 10)],
         note="an empty value keeps its '='"),
    case("query_special_chars", "GET", "/v1/search",
         [("q", "a b+c/d?e=f&g#h"), ("star", "*"), ("tilde", "~x-y_z.w"), ("pct", "100%"),
          ("quote", "it's \"ok\""), ("colon", "a:b;c,d@e!f$g(h)i")],
         note="values are percent-encoded with only A-Z a-z 0-9 - _ . ~ left as is (space is %20, never +)"),
    case("query_unicode_sort_by_decoded", "GET", "/v1/search", [("z", "1"), ("é", "2"), ("name", "中文")],
         note="sorting is by the decoded name: 'z' < 'é' although '%C3%A9' < 'z'"),
    case("query_booleans", "GET", "/v3/projects", [("enabled", True), ("is_domain", False)],
         note="booleans are written true/false"),
    case("query_sort_params", "GET", "/v1/0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e/tickets",
         [("sort_key", "expire_time"), ("sort_dir", "desc"), ("offset", 0), ("limit", 1000)],
         note="seed 001 paging and sorting parameters"),
    case("path_space", "GET", "/cloudartifact/v5/files/my%20repo/file%20name.txt",
         note="the SDK percent-encodes path parameters; canonical URI re-encodes each decoded segment"),
    case("path_unicode", "GET", "/cloudartifact/v5/files/%E4%B8%AD%E6%96%87/r%C3%A9sum%C3%A9.txt",
         note="UTF-8 percent-encoding, upper-case hex"),
    case("path_unicode_raw", "GET", "/cloudartifact/v5/files/中文/x",
         note="a raw non-ASCII path: the transport percent-encodes it on the wire"),
    case("path_encoded_slash", "GET", "/cloudartifact/v5/files/a%2Fb%2Fc",
         note="%2F is decoded before splitting: the canonical URI has real '/' separators"),
    case("path_tilde", "GET", "/v1/~user/x~y%7Ez",
         note="'~' stays unencoded; %7E on the wire decodes to '~'"),
    case("path_trailing_slash", "GET", "/v3/users/",
         note="a trailing '/' is not doubled; '/v3/users' and '/v3/users/' have the same canonical URI"),
    case("path_empty_segments", "GET", "/v1//double//slash",
         note="empty segments are kept"),
    case("path_reserved_chars", "GET", "/v1/a%2Bb/c%40d/e%3Af/g:h@i!j$k&l=m",
         note="every character outside A-Z a-z 0-9 - _ . ~ is percent-encoded in the canonical URI"),
    case("post_json_create_user", "POST", "/v3/users", headers={"Content-Type": "application/json;charset=UTF-8",
                                                                "User-Agent": USER_AGENT, "X-Domain-Id": DOMAIN_ID},
         body=json.dumps({"user": {"name": "alice", "password": "Secret#2024x", "domain_id": DOMAIN_ID}}),
         note="JSON body: payload hash is the hex SHA-256 of the body bytes"),
    case("post_json_unicode_body", "POST", "/v4/project", headers=dict(SDK_HEADERS),
         body=json.dumps({"project_name": "项目 alpha", "description": "déjà vu"}, ensure_ascii=False),
         note="the body is hashed as UTF-8 bytes"),
    case("put_json", "PUT", "/v4/projects/AbCdEf0123456789AbCdEf0123456789", headers=dict(SDK_HEADERS),
         body=json.dumps({"project_name": "renamed", "description": ""})),
    case("post_tickets_with_query_and_body", "POST", "/v1/0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e/tickets",
         [("dry_run", False)], dict(SDK_HEADERS),
         json.dumps({"embed_id": "repo-1", "expire_seconds": 60, "left_num": 5})),
    case("delete_no_body", "DELETE", "/v3.0/OS-CREDENTIAL/credentials/HPUAXG2FEJRW8QMDLK4Z",
         headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, "X-Domain-Id": DOMAIN_ID}),
    case("delete_with_json_body", "DELETE", "/v4/projects/AbCdEf0123456789AbCdEf0123456789/members",
         headers=dict(SDK_HEADERS), body=json.dumps({"user_ids": ["a" * 32, "b" * 32]})),
    case("head_request", "HEAD", "/v3/groups/" + "1" * 32 + "/users/" + "2" * 32,
         headers={"User-Agent": USER_AGENT}),
    case("post_octet_stream_unsigned_payload", "PUT", "/artifactory/generic-local/bin/data.bin",
         headers={"Content-Type": "application/octet-stream"}, body=bytes(range(256)),
         note="a non-JSON content type makes the SDK send X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD, "
              "which is signed and used as the payload hash"),
    case("post_text_plain_unsigned_payload", "POST", "/v1/notes",
         headers={"Content-Type": "text/plain; charset=utf-8"}, body="hello\nworld\n"),
    case("get_octet_stream_empty_body", "GET", "/artifactory/generic-local/bin/data.bin",
         headers={"Content-Type": "application/octet-stream"},
         note="X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD is sent and signed, but an empty body always hashes "
              "as the SHA-256 of the empty string"),
    case("explicit_content_sha256_header", "POST", "/v1/upload",
         headers={"Content-Type": "application/json", "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD"},
         body=json.dumps({"k": "v"}),
         note="with a non-empty body, a given X-Sdk-Content-Sha256 value replaces the body hash"),
    case("post_empty_json_body", "POST", "/v1/empty", headers=dict(JSON_CT), body="",
         note="an empty body hashes as e3b0c442..."),
    case("header_underscore_not_signed", "GET", "/v1/headers",
         headers={"Content-Type": "application/json", "X_Custom_Header": "skipped", "X-Custom-Header": "kept"},
         note="header names containing '_' are sent but left out of SignedHeaders"),
    case("header_unicode_and_whitespace", "GET", "/v1/headers",
         headers={"Content-Type": "application/json", "X-Display-Name": "  中文 名字  ",
                  "X-Inner-Spaces": "a   b\tc"},
         note="values are trimmed at both ends (inner whitespace kept) and signed as UTF-8"),
    case("header_explicit_host_and_mixed_case", "GET", "/v1/headers",
         headers={"host": "arca.example.com:8443", "X-MiXeD-CaSe": "Value", "Accept": "application/json"},
         note="an explicit Host is kept; header names are lower-cased and sorted in SignedHeaders"),
]


def wire_parts(req: SdkRequest):
    """Return (path, query) exactly as `requests` would put them on the request line."""
    prepared = requests.Request(req.method, req.url).prepare()
    path_url = prepared.path_url
    path, _, query = path_url.partition("?")
    return path, query


def readable_headers(header_params):
    # The SDK stores signed header values as UTF-8 bytes decoded as ISO-8859-1, which is how they travel.
    out = {}
    for k, v in header_params.items():
        try:
            out[k] = v.encode("iso-8859-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            out[k] = v
    return out


def body_fields(body):
    if body is None or body == b"" or body == "":
        return "", ""
    if isinstance(body, str):
        body = body.encode("utf-8")
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii"), "base64"


def build_request(c):
    headers = dict(c["headers"])
    headers["X-Sdk-Date"] = SDK_DATE
    return SdkRequest(method=c["method"], schema="http", host=HOST, resource_path=c["resource_path"],
                      query_params=copy.deepcopy(c["query"]), header_params=headers, body=c["body"])


def intermediates(signer, req):
    """Canonical request, string to sign and signature of `req` (already signed: headers normalised)."""
    probe = copy.deepcopy(req)
    probe.header_params = readable_headers(probe.header_params)
    probe.header_params.pop("Authorization", None)
    if isinstance(probe.body, str):
        probe.body = probe.body.encode("utf-8")
    t = signer._process_header_time(probe)
    signed_headers = signer._process_signed_headers(probe)
    canonical = signer._process_canonical_request(probe, signed_headers)
    sts = signer._process_string_to_sign(canonical, t)
    return canonical, sts, signed_headers, signer._sign_string_to_sign(sts, signer._sk)


def record(c, req, signer, valid, mutation=None):
    canonical, sts, signed_headers, signature = intermediates(signer, req)
    path, query = wire_parts(req)
    expected_query = req.uri.partition("?")[2]
    assert query == expected_query, (c["name"], query, expected_query)
    body, encoding = body_fields(req.body)
    auth = req.header_params["Authorization"]
    if valid:
        assert auth.endswith("Signature=" + signature), c["name"]
    else:
        assert not auth.endswith("Signature=" + signature), c["name"]
    v = {
        "name": c["name"] if valid else c["name"] + "__" + mutation[0],
        "note": c["note"] if valid else mutation[1],
        "valid": valid,
        "method": req.method,
        "path": path,
        "query": query,
        "headers": readable_headers(req.header_params),
        "body": body,
        "body_encoding": encoding,
        "ak": AK,
        "sk": SK,
        "canonical_request": canonical,
        "string_to_sign": sts,
        "signed_headers": signed_headers,
        "signature": signature,
    }
    if not valid:
        v["mutation"] = mutation[0]
    return v


def verify_from_wire(v):
    """An independent verifier that sees only what a server sees; documents the algorithm for arca."""
    m = re.fullmatch(r"SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})",
                     v["headers"]["Authorization"])
    assert m and m.group(1) == v["ak"], v["name"]
    signed = m.group(2).split(";")
    segments = [quote(seg, safe="~") for seg in unquote(v["path"]).split("/")]
    uri = "/".join(segments)
    uri = uri if uri.endswith("/") else uri + "/"
    pairs = []
    for part in v["query"].split("&") if v["query"] else []:
        k, _, val = part.partition("=")
        pairs.append((unquote(k), unquote(val)))
    query = "&".join("%s=%s" % (quote(k, safe="~"), quote(val, safe="~")) for k, val in sorted(pairs))
    lower = {k.lower(): val.strip() for k, val in v["headers"].items()}
    headers = "".join("%s:%s\n" % (h, lower[h]) for h in signed)
    body = base64.b64decode(v["body"]) if v["body_encoding"] == "base64" else v["body"].encode("utf-8")
    if not body:
        payload = hashlib.sha256(b"").hexdigest()
    else:
        payload = lower.get("x-sdk-content-sha256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join([v["method"], uri, query, headers, ";".join(signed), payload])
    sts = "SDK-HMAC-SHA256\n%s\n%s" % (lower["x-sdk-date"], hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    sig = hmac.new(v["sk"].encode(), sts.encode("utf-8"), hashlib.sha256).hexdigest()
    assert canonical == v["canonical_request"], (v["name"], canonical, v["canonical_request"])
    assert sts == v["string_to_sign"], v["name"]
    assert sig == v["signature"], v["name"]
    return hmac.compare_digest(sig, m.group(3))


def sign(c, sk=SK):
    req = build_request(c)
    Signer(BasicCredentials(AK, sk)).sign(req)
    return req


def main():
    signer = Signer(BasicCredentials(AK, SK))
    vectors = []
    by_name = {}
    for c in CASES:
        req = sign(c)
        by_name[c["name"]] = (c, req)
        vectors.append(record(c, req, signer, True))

    # Negative vectors: the request as received no longer matches its Authorization header.
    c, req = by_name["post_json_create_user"]
    bad = copy.deepcopy(req)
    bad.body = bad.body.replace(b"alice", b"mallory")
    vectors.append(record(c, bad, signer, False, ("tampered_body", "body changed after signing")))

    c, req = by_name["query_sorted_by_name"]
    bad = copy.deepcopy(req)
    bad.query_params = [("user_name", "eve"), ("page_size", 10), ("page_no", 1)]
    Signer.process_request_uri(bad)
    vectors.append(record(c, bad, signer, False, ("tampered_query", "query value changed after signing")))

    c, req = by_name["sdk_show_user_ticket"]
    bad = copy.deepcopy(req)
    bad.header_params["X-Project-Id"] = "f" * 32
    vectors.append(record(c, bad, signer, False, ("tampered_signed_header",
                                                  "a signed header (X-Project-Id) changed after signing")))

    c, req = by_name["path_space"]
    bad = copy.deepcopy(req)
    bad.resource_path = "/cloudartifact/v5/files/my%20repo/other.txt"
    Signer.process_request_uri(bad)
    vectors.append(record(c, bad, signer, False, ("tampered_path", "path changed after signing")))

    c, _ = by_name["sdk_show_user_ticket"]
    bad = sign(c, sk=OTHER_SK)
    vectors.append(record(c, bad, signer, False, ("wrong_secret", "signed with another secret key")))

    for v in vectors:
        assert verify_from_wire(v) == v["valid"], v["name"]

    doc = {
        "readme": "SDK-HMAC-SHA256 vectors produced by huaweicloudsdkcore 3.1.219's Signer. Regenerate with "
                  "`.venv-e2e/bin/python tests/vectors/gen_signature_vectors.py`; field meanings are in that "
                  "script's docstring. X-Sdk-Date is fixed in the past: replay with the clock window disabled "
                  "or 'now' set to it.",
        "algorithm": "SDK-HMAC-SHA256",
        "sdk": "huaweicloudsdkcore==3.1.219",
        "x_sdk_date": SDK_DATE,
        "ak": AK,
        "sk": SK,
        "vectors": vectors,
    }
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print("wrote %d vectors to %s" % (len(vectors), OUT), file=sys.stderr)


if __name__ == "__main__":
    main()
