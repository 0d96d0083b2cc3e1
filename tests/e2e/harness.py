"""The end-to-end harness: start the real `arca` binary and drive it with the official Huawei Cloud SDKs.

`conftest.py` turns this into pytest fixtures; test modules import the helpers and constants from here.
Everything a test needs from a server hangs off an `Arca` instance: its base URL and bootstrap identity,
SDK clients for any access key, raw signed requests (for what the SDK cannot express), tokens, and a few
management shortcuts (users with keys, groups with policies, CodeArts projects and their members).
"""

import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import sqlite3
import string
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials, Credentials, GlobalCredentials
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.region.cache import EnvRegionCache
from huaweicloudsdkcore.region.region import Region
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkcodeartsartifact.v2 import (
    CodeArtsArtifactClient, CreateArtifactoryRequest, CreateMavenRepoRequest, CreateNotMavenRepoDO, IDERepositoryDO,
    PrivilegeParam, ResetUserPasswordRequest, RolePrivilegeV5, ShowUserTicketRequest, UpdateRepoRolesPrivilegeRequest,
)
from huaweicloudsdkiam.v3 import (
    AuthScope, AuthScopeDomain, AuthScopeProject, CreateCloudServiceCustomPolicyRequest,
    CreateCloudServiceCustomPolicyRequestBody, CreateCredentialOption, CreatePermanentAccessKeyRequest,
    CreatePermanentAccessKeyRequestBody, IamClient, KeystoneAddUserToGroupRequest,
    KeystoneAssociateGroupWithDomainPermissionRequest, KeystoneCreateGroupOption, KeystoneCreateGroupRequest,
    KeystoneCreateGroupRequestBody, KeystoneCreateUserOption, KeystoneCreateUserRequest,
    KeystoneCreateUserRequestBody, KeystoneCreateUserTokenByPasswordRequest,
    KeystoneCreateUserTokenByPasswordRequestBody, PwdAuth, PwdIdentity, PwdPassword, PwdPasswordUser,
    PwdPasswordUserDomain, ServicePolicy, ServicePolicyRoleOption, ServiceStatement,
)
from huaweicloudsdkprojectman.v4 import (
    AddMemberRequestV4, AddMemberV4Request, CreateProjectV4Request, CreateProjectV4RequestBody,
    ProjectManClient,
)

REGION = "local-1"
# ARCA_TEST_DB=pg: every launched arca keeps its metadata in a fresh database of the PostgreSQL cluster that
# ARCA_TEST_PG_URL names (scripts/pg-server.sh starts one); otherwise in SQLite in its data directory.
PG_ADMIN_URL = os.environ.get("ARCA_TEST_PG_URL", "") if os.environ.get("ARCA_TEST_DB") == "pg" else ""
# The database of each data directory, so a server restarted on a data directory finds its metadata again.
_PG_DATABASES = {}
HEALTH_TIMEOUT_S = 30
SHUTDOWN_TIMEOUT_S = 10

HEX32 = re.compile(r"^[0-9a-f]{32}$")
ALNUM32 = re.compile(r"^[A-Za-z0-9]{32}$")
AK_RE = re.compile(r"^[A-Z0-9]{20}$")
SK_RE = re.compile(r"^[A-Za-z0-9]{40}$")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
ARCA_CODE = r"ARCA\.\d{8}"
INSIGHT_CODE = r"DataArtsInsight\.\d{8}"
AUTH_CODE = r"APIGW\.0301"
AUTH_MSG_PREFIX = "Incorrect IAM authentication information"
TICKET_RE = re.compile(r"^ticket_(\d{13}):([A-Za-z0-9]{32}):([0-9a-f]{32})$")
DISPLAY_TZ = timezone(timedelta(hours=8))
EXPIRE_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(GMT\+08:00\)$")
DATETIME_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")

# SPEC §5 operations catalog, index = position.
OPERATIONS = ["download", "upload", "editRepository", "delete", "restore", "physicdelete",
              "createRepository", "clearall", "managePrivileges"]
# SPEC §10: ProjectMan numeric role ids -> built-in role (English name, Chinese name).
PROJECTMAN_ROLES = {
    3: ("Project manager", "项目经理"),
    4: ("Developer", "开发人员"),
    5: ("Test manager", "测试经理"),
    6: ("Tester", "测试人员"),
    7: ("Participant", "参与者"),
    8: ("Viewer", "浏览者"),
    9: ("Operation manager", "运维经理"),
    10: ("Product manager", "产品经理"),
    11: ("System engineer", "系统工程师"),
    12: ("Committer", "Committer"),
}
ROLE_CREATOR = -1
ROLE_PROJECT_MANAGER = 3
ROLE_DEVELOPER = 4
ROLE_VIEWER = 8

BOOTSTRAP_KEYS = {"domain_id", "domain_name", "user_id", "user_name", "password", "access_key", "secret_key",
                  "region", "iam_project_id"}


# Figures tests measured, printed in pytest's terminal summary (conftest.py).
FIGURES = []


def unique(prefix: str) -> str:
    return "%s_%s" % (prefix, secrets.token_hex(4))


def new_password() -> str:
    return "Aa1!" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(16))


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def decode_ticket(ticket: str) -> re.Match:
    """Decode an issued ticket (base64 text) and match it against `ticket_<ms>:<32 alnum>:<user_id>`."""
    decoded = base64.b64decode(ticket, validate=True).decode("ascii")
    m = TICKET_RE.match(decoded)
    assert m, "ticket does not decode to ticket_<ms>:<32 alnum>:<user_id>: %r" % decoded
    return m


def parse_expire_time(value: str) -> datetime:
    assert EXPIRE_TIME_RE.match(value), value
    return datetime.strptime(value[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=DISPLAY_TZ)


def clear_sdk_caches():
    """The SDK caches project ids (per AK+region) and domain ids (per AK) process-wide."""
    for cls in (Credentials, BasicCredentials, GlobalCredentials):
        cls._CACHE.clear()
    EnvRegionCache()._value.clear()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http_config() -> HttpConfig:
    config = HttpConfig.get_default_config()
    config.timeout = (10, 60)
    return config


# ---------------------------------------------------------------------------------------------------------
# Assertions shared by the test modules
# ---------------------------------------------------------------------------------------------------------

def assert_error(resp: requests.Response, status: int, code: str = ARCA_CODE) -> dict:
    """Assert the SPEC §3 error envelope: status, code pattern, a message, trace id == X-Request-Id."""
    assert resp.status_code == status, "expected %d, got %d: %s" % (status, resp.status_code, resp.text[:500])
    body = resp.json()
    assert body.get("status") == "error", body
    assert re.fullmatch(code, body.get("error_code", "")), body
    assert isinstance(body.get("error_msg"), str) and body["error_msg"].strip(), body
    assert body.get("trace_id"), body
    assert resp.headers.get("X-Request-Id") == body["trace_id"], (resp.headers.get("X-Request-Id"), body)
    return body


def assert_auth_error(resp: requests.Response) -> dict:
    body = assert_error(resp, 401, AUTH_CODE)
    assert body["error_msg"].startswith(AUTH_MSG_PREFIX), body["error_msg"]
    return body


def assert_sdk_error(exc, status: int, code: str = ARCA_CODE):
    """Assert the fields the SDK's ClientRequestException exposes for an arca error."""
    assert exc.status_code == status, (exc.status_code, exc.error_code, exc.error_msg)
    assert re.fullmatch(code, exc.error_code or ""), (exc.error_code, exc.error_msg)
    assert exc.error_msg, exc
    assert exc.request_id, "X-Request-Id missing from the error response"


# ---------------------------------------------------------------------------------------------------------
# Signing raw requests
# ---------------------------------------------------------------------------------------------------------

class _Creds:
    def __init__(self, ak, sk):
        self.ak, self.sk = ak, sk


class _SelectiveSigner(Signer):
    """The SDK signer, optionally leaving some headers out of SignedHeaders (to test server rules)."""

    def __init__(self, credentials, drop=()):
        super().__init__(credentials)
        self._drop = {h.lower() for h in drop}

    def _process_signed_headers(self, request):
        return [h for h in Signer._process_signed_headers(request) if h not in self._drop]

    @classmethod
    def _process_content_header(cls, request):
        # A test that declares X-Sdk-Content-Sha256 itself keeps its value (the SDK would overwrite it with
        # UNSIGNED-PAYLOAD for a non-JSON body).
        if Signer._get_header_ignore_case(request, "X-Sdk-Content-Sha256") is None:
            Signer._process_content_header(request)


def sdk_date(offset: timedelta = timedelta(0)) -> str:
    return (datetime.now(timezone.utc) + offset).strftime("%Y%m%dT%H%M%SZ")


@dataclass
class User:
    user_id: str
    name: str
    password: str
    ak: Optional[str] = None
    sk: Optional[str] = None


class Arca:
    """One running arca process."""

    def __init__(self, proc: subprocess.Popen, base_url: str, data_dir: Path, log_path: Path, bootstrap: dict):
        self.proc = proc
        self.base_url = base_url
        self.host = base_url.split("://", 1)[1]
        self.data_dir = data_dir
        self.log_path = log_path
        self.adopt(bootstrap)

    def adopt(self, bootstrap: dict):
        """Acts as the account `bootstrap` describes (a node of a cluster uses the one another node made)."""
        self.bootstrap = bootstrap
        if not bootstrap:
            self.domain_id = self.domain_name = self.iam_project_id = self.root = None
            return
        self.domain_id = bootstrap["domain_id"]
        self.domain_name = bootstrap["domain_name"]
        self.iam_project_id = bootstrap["iam_project_id"]
        self.root = User(bootstrap["user_id"], bootstrap["user_name"], bootstrap["password"],
                         bootstrap["access_key"], bootstrap["secret_key"])

    # -- process ------------------------------------------------------------------------------------------

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int = 0, lines: int = 60) -> str:
        """The last `lines` lines the server logged after byte `offset` of its log."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", errors="replace")
        except OSError as e:
            return "(no log: %s)" % e
        return "\n".join(text.splitlines()[-lines:])

    def log_tail(self, lines: int = 60) -> str:
        return self.log_since(0, lines)

    def stop(self) -> Optional[int]:
        """SIGTERM, then wait; returns the exit code, or None if the process had to be killed."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    # -- plain HTTP ---------------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def get(self, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 60)
        return requests.get(self.url(path), **kw)

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 60)
        return requests.request(method, self.url(path), **kw)

    def signed(self, method: str, path: str, *, query=None, headers=None, body=None, ak=None, sk=None,
               date: Optional[str] = None, project_header: bool = True, drop_signed=(), tamper=None,
               wire_uri=None, timeout=60, session=None) -> requests.Response:
        """Send a request signed with SDK-HMAC-SHA256 exactly as the SDK does, then optionally tampered.

        `path` is the resource path as it goes on the wire (already percent-encoded); `query` a list of
        (name, value) pairs or a dict; `body` a dict (sent as JSON), str or bytes; `date` an X-Sdk-Date
        value (default now); `drop_signed` header names left out of SignedHeaders; `tamper(req)` may
        change the signed SdkRequest before it is sent; `wire_uri(uri)` may rewrite the request target
        (path and query exactly as they go on the wire) after signing; `session` a requests session to send
        it with.
        """
        ak = ak or self.root.ak
        sk = sk or self.root.sk
        hdrs = {"Content-Type": "application/json", "User-Agent": "arca-e2e"}
        if project_header:
            hdrs["X-Project-Id"] = self.iam_project_id
        hdrs.update(headers or {})
        if date is not None:
            hdrs["X-Sdk-Date"] = date
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(query, dict):
            query = list(query.items())
        req = SdkRequest(method=method, schema="http", host=self.host, resource_path=path,
                         query_params=list(query or []), header_params=hdrs, body=body if body is not None else "")
        _SelectiveSigner(_Creds(ak, sk), drop_signed).sign(req)
        if tamper:
            tamper(req)
            Signer.process_request_uri(req)
        uri = wire_uri(req.uri) if wire_uri else req.uri
        return (session or requests).request(req.method, "http://%s%s" % (req.host, uri),
                                             headers=req.header_params, data=req.body, timeout=timeout)

    # -- SDK clients --------------------------------------------------------------------------------------

    def artifact_client(self, ak=None, sk=None, project_id=None) -> CodeArtsArtifactClient:
        """CodeArtsArtifactClient for region local-1; without project_id the SDK looks it up itself
        (GET /v3/projects?name=local-1 on this server)."""
        creds = BasicCredentials(ak or self.root.ak, sk or self.root.sk, project_id).with_iam_endpoint(self.base_url)
        return CodeArtsArtifactClient.new_builder() \
            .with_http_config(_http_config()) \
            .with_credentials(creds) \
            .with_region(Region(REGION, self.base_url)) \
            .build()

    def iam_client(self, ak=None, sk=None) -> IamClient:
        creds = GlobalCredentials(ak or self.root.ak, sk or self.root.sk, self.domain_id) \
            .with_iam_endpoint(self.base_url)
        return IamClient.new_builder() \
            .with_http_config(_http_config()) \
            .with_credentials(creds) \
            .with_endpoints([self.base_url]) \
            .build()

    def projectman_client(self, ak=None, sk=None) -> ProjectManClient:
        creds = BasicCredentials(ak or self.root.ak, sk or self.root.sk).with_iam_endpoint(self.base_url)
        return ProjectManClient.new_builder() \
            .with_http_config(_http_config()) \
            .with_credentials(creds) \
            .with_endpoints([self.base_url]) \
            .build()

    # -- tokens -------------------------------------------------------------------------------------------

    def token_response(self, user_name: str, password: str, domain_name: Optional[str] = None,
                       project_scope: Optional[str] = REGION):
        """POST /v3/auth/tokens (password method) through the IAM SDK. `project_scope` is a project name
        (or a 32-hex id); None asks for a domain-scoped token."""
        domain_name = domain_name or self.domain_name
        if project_scope is None:
            scope = AuthScope(domain=AuthScopeDomain(name=domain_name))
        elif HEX32.match(project_scope):
            scope = AuthScope(project=AuthScopeProject(id=project_scope))
        else:
            scope = AuthScope(project=AuthScopeProject(name=project_scope))
        body = KeystoneCreateUserTokenByPasswordRequestBody(auth=PwdAuth(
            identity=PwdIdentity(methods=["password"], password=PwdPassword(user=PwdPasswordUser(
                domain=PwdPasswordUserDomain(name=domain_name), name=user_name, password=password))),
            scope=scope))
        return self.iam_client().keystone_create_user_token_by_password(
            KeystoneCreateUserTokenByPasswordRequest(body=body))

    def token_for(self, user_name: str, password: str, domain_name: Optional[str] = None,
                  project_scope: Optional[str] = REGION) -> str:
        token = self.token_response(user_name, password, domain_name, project_scope).x_subject_token
        assert token, "X-Subject-Token missing from POST /v3/auth/tokens"
        return token

    def root_token(self, project_scope: Optional[str] = REGION) -> str:
        return self.token_for(self.root.name, self.root.password, project_scope=project_scope)

    # -- management shortcuts -----------------------------------------------------------------------------

    def create_user(self, name: Optional[str] = None, password: Optional[str] = None, with_key: bool = True) -> User:
        """Create an IAM user with a password (POST /v3/users) and, as root, a permanent access key."""
        iam = self.iam_client()
        name = name or unique("user")
        password = password or new_password()
        created = iam.keystone_create_user(KeystoneCreateUserRequest(body=KeystoneCreateUserRequestBody(
            user=KeystoneCreateUserOption(name=name, domain_id=self.domain_id, password=password, enabled=True))))
        user = User(created.user.id, name, password)
        if with_key:
            user.ak, user.sk = self.create_access_key(user.user_id)
        return user

    def create_access_key(self, user_id: str, ak=None, sk=None):
        resp = self.iam_client(ak, sk).create_permanent_access_key(CreatePermanentAccessKeyRequest(
            body=CreatePermanentAccessKeyRequestBody(credential=CreateCredentialOption(
                user_id=user_id, description="e2e"))))
        return resp.credential.access, resp.credential.secret

    def create_group(self, name: Optional[str] = None) -> str:
        resp = self.iam_client().keystone_create_group(KeystoneCreateGroupRequest(
            body=KeystoneCreateGroupRequestBody(group=KeystoneCreateGroupOption(
                name=name or unique("group"), domain_id=self.domain_id, description="e2e"))))
        return resp.group.id

    def add_to_group(self, group_id: str, user_id: str):
        self.iam_client().keystone_add_user_to_group(KeystoneAddUserToGroupRequest(group_id=group_id,
                                                                                    user_id=user_id))

    def create_policy(self, actions, name: Optional[str] = None):
        """A custom identity policy (POST /v3.0/OS-ROLE/roles) allowing `actions`; returns the response."""
        return self.iam_client().create_cloud_service_custom_policy(CreateCloudServiceCustomPolicyRequest(
            body=CreateCloudServiceCustomPolicyRequestBody(role=ServicePolicyRoleOption(
                display_name=name or unique("policy"), type="AX", description="e2e",
                policy=ServicePolicy(version="1.1", statement=[ServiceStatement(action=list(actions),
                                                                                effect="Allow")])))))

    def attach_policy(self, group_id: str, role_id: str):
        self.iam_client().keystone_associate_group_with_domain_permission(
            KeystoneAssociateGroupWithDomainPermissionRequest(domain_id=self.domain_id, group_id=group_id,
                                                              role_id=role_id))

    def grant(self, user: User, actions) -> str:
        """Give `user` the identity-policy `actions` through a new group; returns the group id."""
        group_id = self.create_group()
        self.attach_policy(group_id, self.create_policy(actions).role.id)
        self.add_to_group(group_id, user.user_id)
        return group_id

    def create_project(self, name: Optional[str] = None) -> str:
        """A CodeArts project (POST /v4/project) created by root; returns its 32-alnum id."""
        resp = self.projectman_client().create_project_v4(CreateProjectV4Request(body=CreateProjectV4RequestBody(
            project_name=name or unique("proj"), description="e2e", project_type="scrum")))
        return resp.project_id

    def add_member(self, project_id: str, user_id: str, role_id: int):
        self.projectman_client().add_member_v4(AddMemberV4Request(project_id=project_id, body=AddMemberRequestV4(
            user_id=user_id, role_id=role_id, domain_id=self.domain_id)))

    def issue_ticket(self, user: Optional[User] = None) -> str:
        """GET /cloudartifact/v5/ticket through the SDK, as `user` (default root); returns the ticket."""
        user = user or self.root
        resp = self.artifact_client(user.ak, user.sk).show_user_ticket(ShowUserTicketRequest())
        return resp.result

    # -- repositories -------------------------------------------------------------------------------------

    def create_maven_repo(self, project_id: str, name: Optional[str] = None, user: Optional[User] = None) -> dict:
        """A Maven release/snapshot pair (create_maven_repo); returns names and ids:
        {"release": name, "snapshot": name, "release_id": id, "snapshot_id": id}."""
        user = user or self.root
        name = name or unique("mvn")
        resp = self.artifact_client(user.ak, user.sk).create_maven_repo(CreateMavenRepoRequest(body=IDERepositoryDO(
            repository_name=name, format="maven2", project_id=project_id, type="hosted", description="e2e")))
        return {"release": name + "-release", "snapshot": name + "-snapshot",
                "release_id": resp.result.release, "snapshot_id": resp.result.snapshot}

    def create_repo(self, project_id: str, fmt: str = "generic", name: Optional[str] = None,
                    user: Optional[User] = None) -> str:
        """A repository of a non-Maven format (create_artifactory); returns its name."""
        user = user or self.root
        name = name or unique(fmt)
        self.artifact_client(user.ak, user.sk).create_artifactory(CreateArtifactoryRequest(body=CreateNotMavenRepoDO(
            format=fmt, type="hosted", repository_name=name, project_id=project_id)))
        return name

    def repo_login(self, user: Optional[User] = None):
        """A fresh repo password for `user` (reset_user_password); returns (repo user name, password)."""
        user = user or self.root
        resp = self.artifact_client(user.ak, user.sk).reset_user_password(ResetUserPasswordRequest())
        return resp.result["username"], resp.result["password"]

    # -- privileges ---------------------------------------------------------------------------------------

    def privileges(self, user: User, project_id: str) -> dict:
        """Seed 002's merged privileges `result` of `user` in `project_id` (v3, raw JSON)."""
        resp = self.signed("GET", "/cloudartifact/v3/user/%s/privileges" % project_id, ak=user.ak, sk=user.sk)
        assert resp.status_code == 200, resp.text
        return resp.json()["result"]

    def set_role_grants(self, role_id: str, entries, caller: Optional[User] = None):
        """update_repo_roles_privilege: replace a role's grants; `entries` are dicts of PrivilegeParam
        fields (project_id, granted_object_path, operations, ...)."""
        caller = caller or self.root
        body = RolePrivilegeV5(privileges=[PrivilegeParam(**e) for e in entries])
        return self.artifact_client(caller.ak, caller.sk).update_repo_roles_privilege(
            UpdateRepoRolesPrivilegeRequest(role_id=role_id, body=body))


# ---------------------------------------------------------------------------------------------------------
# Measuring a server
# ---------------------------------------------------------------------------------------------------------

def proc_status_kib(pid: int, field: str) -> int:
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("%s not in /proc/%d/status" % (field, pid))


class RssSampler:
    """Polls the server's VmRSS every 20 ms in a thread; `peak` is the largest value seen. `read` replaces
    how a sample is taken (bench/run sums a process tree: nginx's workers)."""

    def __init__(self, pid: int, read=None):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._read = read or (lambda: proc_status_kib(pid, "VmRSS"))
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._read())
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# ---------------------------------------------------------------------------------------------------------
# Starting servers
# ---------------------------------------------------------------------------------------------------------

def arca_bin() -> str:
    path = os.environ.get("ARCA_BIN") or str(Path(__file__).resolve().parents[2] / "target" / "debug" / "arca")
    if not os.access(path, os.X_OK):
        raise RuntimeError("arca binary not found or not executable: %s (set ARCA_BIN)" % path)
    return path


# ---------------------------------------------------------------------------------------------------------
# Blobs on S3: ARCA_TEST_BLOBS=s3 runs every server on a real S3 server (s3s-fs, scripts/s3-server.sh)
# ---------------------------------------------------------------------------------------------------------

REPO_ROOT = Path(__file__).resolve().parents[2]
S3_SCRIPT = REPO_ROOT / "scripts" / "s3-server.sh"


class S3Server:
    """One s3s-fs process on loopback, its data in `dir/data/<bucket>`."""

    def __init__(self, dir: Path, port: int = 0):
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._start(port)

    def restart(self):
        """Starts the server again (after `stop`) on the same data and port."""
        self._start(self.port)

    def _start(self, port: int):
        out = subprocess.run(["bash", str(S3_SCRIPT), "start", str(self.dir), str(port)],
                             capture_output=True, text=True, timeout=1800)
        if out.returncode != 0:
            raise RuntimeError("scripts/s3-server.sh start failed:\n%s" % out.stderr)
        exports = dict(line[len("export "):].split("=", 1) for line in out.stdout.splitlines()
                       if line.startswith("export "))
        self.endpoint = exports["ARCA_TEST_S3_ENDPOINT"]
        self.port = int(self.endpoint.rsplit(":", 1)[1])
        self.bucket = exports["ARCA_TEST_S3_BUCKET"]
        self.access_key = exports["AWS_ACCESS_KEY_ID"]
        self.secret_key = exports["AWS_SECRET_ACCESS_KEY"]
        self.pid = int(exports["ARCA_TEST_S3_PID"])

    def bucket_dir(self) -> Path:
        return self.dir / "data" / self.bucket

    def env(self, prefix: str) -> dict:
        """The environment that runs arca on this server under key prefix `prefix`."""
        return {
            "ARCA_BLOB_STORE": "s3",
            "ARCA_S3_ENDPOINT": self.endpoint,
            "ARCA_S3_BUCKET": self.bucket,
            "ARCA_S3_PREFIX": prefix,
            "ARCA_S3_PATH_STYLE": "true",
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }

    def stop(self):
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            # Not our child (the script started it): gone once its /proc entry is a zombie or absent.
            try:
                if ") Z " in Path("/proc/%d/stat" % self.pid).read_text():
                    return
            except OSError:
                return
            time.sleep(0.05)
        os.kill(self.pid, signal.SIGKILL)


_SESSION_S3: Optional[S3Server] = None


def blobs_on_s3() -> bool:
    mode = os.environ.get("ARCA_TEST_BLOBS", "fs")
    if mode not in ("fs", "s3"):
        raise RuntimeError("ARCA_TEST_BLOBS must be fs or s3, not %r" % mode)
    return mode == "s3"


def session_s3() -> S3Server:
    """The S3 server every server of an ARCA_TEST_BLOBS=s3 run shares, started on first use and stopped
    when the test process ends."""
    global _SESSION_S3
    if _SESSION_S3 is None:
        import atexit
        import tempfile
        _SESSION_S3 = S3Server(Path(tempfile.mkdtemp(prefix="arca-e2e-s3-")))
        atexit.register(_stop_session_s3)
    return _SESSION_S3


def _stop_session_s3():
    if _SESSION_S3 is not None:
        _SESSION_S3.stop()
        shutil.rmtree(_SESSION_S3.dir, ignore_errors=True)


def s3_env_for(data_dir: Path) -> dict:
    """Runs the server of `data_dir` on the session's S3 server, in a bucket of that data directory's own
    (a restart on the same directory finds its blobs again; servers never share blobs; s3s-fs walks a
    whole bucket to answer a listing, so one shared bucket would make every sweep slower as the suite
    goes on), under the prefix `arca`. The directory's `blobs` is a link to the prefix's blobs in the S3
    server's files, so the tests that look at stored blobs see the bucket's."""
    server = session_s3()
    bucket = "e2e-" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:16]
    blobs = server.dir / "data" / bucket / "arca" / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    link = Path(data_dir) / "blobs"
    if not link.is_symlink():
        link.symlink_to(blobs, target_is_directory=True)
    return {**server.env("arca"), "ARCA_S3_BUCKET": bucket}


def launch(workdir: Path, extra_args=(), env=None, data_dir: Optional[Path] = None,
           wait_bootstrap: bool = True) -> Arca:
    """Start `arca serve` on a free loopback port with a fresh data directory under `workdir` (or the
    given `data_dir`, which may hold a previous server's data), wait for GET /health to answer 200 and for
    bootstrap.json to appear (unless `wait_bootstrap` is false: a node joining a database another node
    bootstrapped writes none, and its `bootstrap` is then empty). Raises with the log tail on failure."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = Path(data_dir) if data_dir is not None else workdir / "data"
    log_path = workdir / "arca.log"
    port = free_port()
    base_url = "http://127.0.0.1:%d" % port
    cmd = [arca_bin(), "serve", "--listen", "127.0.0.1:%d" % port, "--data-dir", str(data_dir),
           "--region", REGION, *map(str, extra_args)]
    full_env = dict(os.environ)
    full_env.setdefault("RUST_LOG", "info")
    full_env.setdefault("NO_COLOR", "1")
    # The suite fails authentications on purpose by the hundred from one address; limiting them is
    # test_auth_rate_limit.py's subject, which turns it on with flags (they override the environment).
    full_env.setdefault("ARCA_AUTH_FAILURE_LIMIT", "0")
    if PG_ADMIN_URL:
        full_env["ARCA_DATABASE_URL"] = pg_database_url(data_dir)
    if blobs_on_s3() and "ARCA_BLOB_STORE" not in (env or {}):
        full_env.update(s3_env_for(data_dir))
    full_env.update(env or {})
    log = open(log_path, "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=full_env)
    log.close()

    def fail(why: str):
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        try:
            tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-60:])
        except OSError:
            tail = "(no log)"
        raise RuntimeError("arca did not start (%s)\ncommand: %s\n--- log tail (%s) ---\n%s"
                           % (why, " ".join(cmd), log_path, tail))

    deadline = time.monotonic() + HEALTH_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            fail("exited with code %s" % proc.returncode)
        try:
            if requests.get(base_url + "/health", timeout=2).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            fail("GET /health did not answer 200 within %ds" % HEALTH_TIMEOUT_S)
        time.sleep(0.1)

    bootstrap_path = data_dir / "bootstrap.json"
    if not wait_bootstrap and not bootstrap_path.exists():
        return Arca(proc, base_url, data_dir, log_path, {})
    while not bootstrap_path.exists():
        if time.monotonic() > deadline:
            fail("%s was not written" % bootstrap_path)
        time.sleep(0.1)
    try:
        bootstrap = json.loads(bootstrap_path.read_text())
    except ValueError as e:
        fail("bootstrap.json is not JSON: %s" % e)
    missing = BOOTSTRAP_KEYS - set(bootstrap)
    if missing:
        fail("bootstrap.json lacks %s" % sorted(missing))
    return Arca(proc, base_url, data_dir, log_path, bootstrap)


# Tables the first start fills for an account; `users.num_id` is left out so the target assigns its own.
def _psql(url: str, sql: str, *extra) -> str:
    return subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", *extra, "-d", url, "-c", sql],
                          check=True, capture_output=True, text=True).stdout


def _pg_url_of(name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit
    parts = urlsplit(PG_ADMIN_URL)
    return urlunsplit(parts._replace(path="/" + name))


def pg_database_url(data_dir: Path) -> str:
    """The PostgreSQL database of a data directory, created empty the first time it is asked for."""
    key = str(Path(data_dir).resolve())
    if key not in _PG_DATABASES:
        name = "arca_e2e_%d_%s" % (os.getpid(), secrets.token_hex(6))
        _psql(PG_ADMIN_URL, "CREATE DATABASE %s" % name)
        _PG_DATABASES[key] = _pg_url_of(name)
    return _PG_DATABASES[key]


def sql_row(srv, sql: str, *args):
    """The first row of a query (`?` placeholders) on a server's own database, SQLite or PostgreSQL; bytea
    values come back as bytes, as SQLite's BLOBs do."""
    rows = sql_rows(srv, sql, *args)
    return rows[0] if rows else None


def sql_rows(srv, sql: str, *args):
    """Every row of a query on a server's own database (`srv` needs only `data_dir`), as `sql_row`; a
    statement that changes rows is committed."""
    if not PG_ADMIN_URL:
        db = sqlite3.connect(str(Path(srv.data_dir) / "arca.db"), timeout=30)
        try:
            with db:
                return db.execute(sql, args).fetchall()
        finally:
            db.close()
    quoted = iter("'%s'" % str(a).replace("'", "''") for a in args)
    text = re.sub(r"\?", lambda _: next(quoted), sql)
    out = _psql(pg_database_url(srv.data_dir), text, "-F", "\t")
    return [tuple(bytes.fromhex(v[2:]) if v.startswith("\\x") else _pg_value(v) for v in line.split("\t"))
            for line in out.splitlines()]


def _pg_value(text: str):
    """psql's unaligned text of a value as SQLite's module would give it: integers as int."""
    return int(text) if re.fullmatch(r"-?\d+", text) else text


_ACCOUNT_TABLES = ("domains", "users", "access_keys", "iam_projects", "user_profiles")


def launch_two_domains(workdir: Path):
    """One server holding two accounts (domains), for isolation tests. arca's API creates no second account,
    so a throwaway server bootstraps one, and its rows are copied into the database of a server started
    with the same `secret.key` (access keys are stored encrypted with it). Answers (the server, as its own
    account; the same server, as the second account): both `Arca` share the process, only the first
    is to be stopped."""
    workdir = Path(workdir)
    seed = launch(workdir / "seed")
    assert seed.stop() == 0, seed.log_tail()
    data_dir = workdir / "main" / "data"
    data_dir.mkdir(parents=True)
    shutil.copy(seed.data_dir / "secret.key", data_dir / "secret.key")
    first = launch(workdir / "main")
    if PG_ADMIN_URL:
        _copy_pg_tables(pg_database_url(seed.data_dir), pg_database_url(first.data_dir), workdir)
        second = Arca(first.proc, first.base_url, first.data_dir, first.log_path, seed.bootstrap)
        return first, second
    with sqlite3.connect(first.data_dir / "arca.db", timeout=30) as db:
        db.execute("ATTACH DATABASE ? AS seed", (str(seed.data_dir / "arca.db"),))
        for table in _ACCOUNT_TABLES:
            columns = ", ".join(row[1] for row in db.execute("PRAGMA main.table_info(%s)" % table)
                                if row[1] != "num_id")
            db.execute("INSERT INTO main.%s (%s) SELECT %s FROM seed.%s" % (table, columns, columns, table))
    db.close()
    second = Arca(first.proc, first.base_url, first.data_dir, first.log_path, seed.bootstrap)
    return first, second


def _copy_pg_tables(source: str, target: str, workdir: Path):
    """launch_two_domains on PostgreSQL: the account's rows copied through CSV files, `num_id` left for the
    target's trigger to assign."""
    for table in _ACCOUNT_TABLES:
        columns = ", ".join(c for c in _psql(source, "SELECT column_name FROM information_schema.columns "
                                                      "WHERE table_schema = 'public' AND table_name = '%s' ORDER BY ordinal_position" % table
                                             ).split() if c != "num_id")
        path = Path(workdir) / ("%s.csv" % table)
        _psql(source, "\\copy (SELECT %s FROM %s) TO '%s' WITH (FORMAT csv)" % (columns, table, path))
        _psql(target, "\\copy %s (%s) FROM '%s' WITH (FORMAT csv)" % (table, columns, path))
