//! Which requests change state, and under which module and operation the audit log files them. Decided
//! from the method and path alone, before routing, so that a request refused anywhere on its way (401,
//! 403, 400) is recorded as well as one that succeeds.

use axum::http::Method;

/// Module placeholder: the format of the repository the request addresses (`maven`, `npm`, `generic`…).
pub const BY_FORMAT: &str = "";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    pub module: &'static str,
    pub operation: &'static str,
    /// The CodeArts project the path names (ProjectMan), for entries without a repository.
    pub project_id: Option<String>,
}

fn kind(module: &'static str, operation: &'static str) -> Option<Kind> {
    Some(Kind {
        module,
        operation,
        project_id: None,
    })
}

/// The audit kind of a request, or `None` when it changes nothing worth recording: reads, searches sent
/// as POST, logins (they change no one's data; failed ones are the authentication limiter's business).
pub fn classify(method: &Method, path: &str) -> Option<Kind> {
    let m = method.as_str();
    // Issuing a ticket is a GET that creates a credential.
    if m == "GET" && path == "/cloudartifact/v5/ticket" {
        return kind("ticket", "issueTicket");
    }
    if !matches!(m, "POST" | "PUT" | "PATCH" | "DELETE") {
        return None;
    }
    // Split only for changes: every artifact read passes here.
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["artifactory", "api", format, _repo, rest @ ..] => package(m, format, rest),
        ["artifactory", _repo, ..] => match m {
            "PUT" => kind(BY_FORMAT, "upload"),
            "DELETE" => kind(BY_FORMAT, "deleteFile"),
            _ => kind(BY_FORMAT, "change"),
        },
        ["cloudartifact", rest @ ..] => management(m, rest),
        ["devreposerver", rest @ ..] => release(m, rest),
        ["v2", rest @ ..] => registry(m, rest),
        ["v1", _, "tickets"] => kind("ticket", "createTicket"),
        ["v1", _, "tickets", _] => kind("ticket", "revokeTicket"),
        ["v3", "auth", ..] => None,
        ["v3" | "v3.0", rest @ ..] => iam(m, rest),
        ["v4", rest @ ..] => projectman(m, rest),
        ["ui", rest @ ..] => console(rest),
        _ => None,
    }
}

/// The web console's changes, filed as the API operations they call (signing in and out are logins).
fn console(rest: &[&str]) -> Option<Kind> {
    match rest {
        ["repositories"] => kind("repository", "createRepository"),
        ["repositories", "delete"] => kind("repository", "deleteRepository"),
        ["repositories", "restore"] => kind("trash", "restore"),
        ["me", "repo-password"] => kind("user", "resetRepoPassword"),
        ["me", "tickets"] => kind("ticket", "createTicket"),
        ["me", "tickets", "revoke"] => kind("ticket", "revokeTicket"),
        ["me", "keys"] => kind("iam", "createAccessKey"),
        ["me", "keys", "status"] => kind("iam", "updateAccessKey"),
        ["me", "keys", "delete"] => kind("iam", "deleteAccessKey"),
        ["repositories", "edit"] => kind("repository", "updateRepository"),
        ["files", "delete"] => kind("file", "deleteFile"),
        ["files", "restore"] => kind("trash", "restore"),
        ["follow"] => kind("attention", "follow"),
        ["admin", rest @ ..] => console_admin(rest),
        _ => None,
    }
}

/// The console's Administration forms, filed as the IAM and ProjectMan operations they call.
fn console_admin(rest: &[&str]) -> Option<Kind> {
    let project = |id: &str| {
        Some(Kind {
            module: "member",
            operation: "",
            project_id: Some(id.to_string()),
        })
    };
    let with = |kind: Option<Kind>, module: &'static str, operation: &'static str| {
        kind.map(|k| Kind {
            module,
            operation,
            ..k
        })
    };
    match rest {
        ["users"] => kind("iam", "createUser"),
        ["users", "enabled"] | ["users", "password"] => kind("iam", "updateUser"),
        ["users", "delete"] => kind("iam", "deleteUser"),
        ["groups"] => kind("iam", "createGroup"),
        ["groups", "delete"] => kind("iam", "deleteGroup"),
        ["groups", "members"] => kind("iam", "addGroupMember"),
        ["groups", "members", "remove"] => kind("iam", "removeGroupMember"),
        ["projects"] => kind("project", "createProject"),
        ["projects", "delete"] => kind("project", "deleteProject"),
        ["projects", id, "members"] => with(project(id), "member", "addMembers"),
        ["projects", id, "members", "role"] => with(project(id), "member", "updateMemberRoles"),
        ["projects", id, "members", "remove"] => with(project(id), "member", "removeMembers"),
        ["projects", id, "grants"] => with(project(id), "privilege", "updatePrivileges"),
        _ => kind("iam", "change"),
    }
}

fn verb(m: &str, create: &'static str, update: &'static str, delete: &'static str) -> &'static str {
    match m {
        "POST" => create,
        "DELETE" => delete,
        _ => update,
    }
}

fn management(m: &str, rest: &[&str]) -> Option<Kind> {
    match rest {
        ["v5", "tree", "repos", "artifacts"] => None,
        ["v5", "maven", "repositories"] => kind("repository", "createRepository"),
        ["v5", "maven", "project", "repository"] => kind("repository", "shareRepositories"),
        ["v5", "artifact", ..] => kind(
            "repository",
            verb(
                m,
                "createRepository",
                "updateRepository",
                "updateRepository",
            ),
        ),
        ["v5", "repositories"] => kind(
            "repository",
            verb(
                m,
                "createRepository",
                "deleteRepository",
                "deleteRepository",
            ),
        ),
        ["v5", "repositories", "tab", _] => kind("repository", "updateRepository"),
        ["v5", "repositories", _, "privileges"] => kind("privilege", "updatePrivileges"),
        ["v5", "maven", "users", "me"] => kind("user", "resetRepoPassword"),
        ["v5", "file"] => kind("file", "deleteFile"),
        ["v5", "trashes"] => kind("trash", verb(m, "restore", "restore", "purge")),
        ["v5", "attention"] => kind("attention", "follow"),
        ["v5", "domain", "ipconfig", ..] => kind(
            "setting",
            verb(m, "createIpRule", "updateIpRule", "deleteIpRule"),
        ),
        ["v5", "tree", "net", "proxy", ..] => kind(
            "setting",
            verb(m, "createNetProxy", "updateNetProxy", "deleteNetProxy"),
        ),
        _ => kind("artifact", verb(m, "create", "update", "delete")),
    }
}

/// Release repositories: uploads, the recycle bin and their settings (`list_files` is a search sent as
/// POST).
fn release(m: &str, rest: &[&str]) -> Option<Kind> {
    match rest {
        ["v5", "files", "list"] => None,
        ["v5", "release", _, "files", ..] => kind("release", "upload"),
        ["v5", "files", "status"] => kind("release", "updateFileStatus"),
        ["v5", "files", "compeletion"] => kind("release", "deleteCompletely"),
        ["v5", "release", _, "auto-deletion", "settings"] => kind("release", "updateRetention"),
        ["v5", "capacity-notice", "settings"] => kind("release", "updateCapacityNotice"),
        _ => kind("release", verb(m, "create", "update", "delete")),
    }
}

fn package(m: &str, format: &str, rest: &[&str]) -> Option<Kind> {
    match (format, rest) {
        // Logins: npm's legacy and web logins.
        ("npm", ["-", "user", ..]) | ("npm", ["-", "v1", "login", ..]) => None,
        ("npm", ["-", "package", ..]) => {
            kind("npm", verb(m, "setDistTag", "setDistTag", "removeDistTag"))
        }
        ("npm", r) if m == "DELETE" && r.contains(&"-") => kind("npm", "unpublishVersion"),
        ("npm", _) if m == "DELETE" => kind("npm", "unpublishPackage"),
        ("npm", _) => kind("npm", "publish"),
        ("pypi", ["yank"]) => kind("pypi", "yank"),
        ("pypi", ["unyank"]) => kind("pypi", "unyank"),
        ("pypi", _) => kind("pypi", "upload"),
        ("cargo", [.., "new"]) => kind("cargo", "publish"),
        ("cargo", [.., "yank"]) => kind("cargo", "yank"),
        ("cargo", [.., "unyank"]) => kind("cargo", "unyank"),
        ("cargo", [.., "owners"]) => {
            kind("cargo", verb(m, "addOwners", "addOwners", "removeOwners"))
        }
        ("cargo", _) => kind("cargo", "change"),
        ("go", [.., file]) if file.ends_with(".zip") => kind("go", "publish"),
        ("go", [.., file]) if file.ends_with(".mod") => kind("go", "uploadGoMod"),
        ("go", _) => kind("go", "change"),
        _ => None,
    }
}

/// The container registry (`/v2/<repository>/<image…>/…`): pushes and deletions; a chunk (`PATCH`) is
/// filed when its upload completes, and a session's start or cancel changes nothing stored.
fn registry(m: &str, rest: &[&str]) -> Option<Kind> {
    match (m, rest) {
        ("PUT", [.., "manifests", _]) => kind("docker", "pushManifest"),
        ("DELETE", [.., "manifests", _]) => kind("docker", "deleteManifest"),
        ("PUT", [.., "blobs", "uploads", _]) => kind("docker", "uploadBlob"),
        ("POST", [.., "blobs", "uploads"] | [.., "blobs", "uploads", ""]) => {
            kind("docker", "uploadBlob")
        }
        ("DELETE", [.., "blobs", "uploads", _]) => None,
        ("DELETE", [.., "blobs", _]) => kind("docker", "deleteBlob"),
        _ => None,
    }
}

fn iam(m: &str, rest: &[&str]) -> Option<Kind> {
    let resource = rest
        .iter()
        .rev()
        .find(|s| {
            matches!(
                **s,
                "users" | "groups" | "credentials" | "roles" | "projects" | "domains"
            )
        })
        .copied();
    // A role granted to or taken from a group is a permission change.
    if rest.len() >= 5 && rest[0] == "domains" && rest[2] == "groups" && rest[4] == "roles" {
        return kind("privilege", verb(m, "grantRole", "grantRole", "revokeRole"));
    }
    let operation = match resource {
        Some("users") if rest.contains(&"groups") => {
            verb(m, "addGroupMember", "addGroupMember", "removeGroupMember")
        }
        Some("users") => verb(m, "createUser", "updateUser", "deleteUser"),
        Some("groups") => verb(m, "createGroup", "updateGroup", "deleteGroup"),
        Some("credentials") => verb(m, "createAccessKey", "updateAccessKey", "deleteAccessKey"),
        Some("roles") => verb(m, "createPolicy", "updatePolicy", "deletePolicy"),
        Some("projects") => verb(
            m,
            "createIamProject",
            "updateIamProject",
            "deleteIamProject",
        ),
        _ => verb(m, "create", "update", "delete"),
    };
    kind("iam", operation)
}

fn projectman(m: &str, rest: &[&str]) -> Option<Kind> {
    let project_id = match rest {
        ["projects", id, ..] => Some(id.to_string()),
        _ => None,
    };
    let (module, operation) = match rest {
        ["projects", "check-name"] => return None,
        ["project"] => ("project", "createProject"),
        ["projects", _, "members", "role"] => ("member", "updateMemberRoles"),
        ["projects", _] => (
            "project",
            verb(m, "createProject", "updateProject", "deleteProject"),
        ),
        ["projects", _, "members", ..] | ["projects", _, "member", ..] => (
            "member",
            verb(m, "addMembers", "updateMemberRoles", "removeMembers"),
        ),
        _ => ("project", verb(m, "create", "update", "delete")),
    };
    Some(Kind {
        module,
        operation,
        project_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: Method, path: &str) -> Option<(&'static str, &'static str)> {
        classify(&method, path).map(|k| (k.module, k.operation))
    }

    #[test]
    fn changes_are_classified_and_reads_are_not() {
        assert_eq!(op(Method::GET, "/cloudartifact/v5/repositories/x"), None);
        assert_eq!(op(Method::POST, "/devreposerver/v5/files/list"), None);
        assert_eq!(
            op(Method::PUT, "/devreposerver/v5/release/p/files/a/b.zip"),
            Some(("release", "upload"))
        );
        assert_eq!(
            op(Method::DELETE, "/devreposerver/v5/files/compeletion"),
            Some(("release", "deleteCompletely"))
        );
        assert_eq!(
            op(Method::POST, "/cloudartifact/v5/tree/repos/artifacts"),
            None
        );
        assert_eq!(op(Method::POST, "/v3/auth/tokens"), None);
        assert_eq!(op(Method::POST, "/ui/sign-in"), None);
        assert_eq!(
            op(Method::POST, "/ui/repositories/delete"),
            Some(("repository", "deleteRepository"))
        );
        assert_eq!(
            op(Method::POST, "/ui/me/tickets"),
            Some(("ticket", "createTicket"))
        );
        assert_eq!(
            op(Method::POST, "/ui/me/keys/delete"),
            Some(("iam", "deleteAccessKey"))
        );
        assert_eq!(
            op(Method::POST, "/ui/files/restore"),
            Some(("trash", "restore"))
        );
        assert_eq!(
            op(Method::POST, "/ui/admin/projects/p1/members/role"),
            Some(("member", "updateMemberRoles"))
        );
        assert_eq!(
            classify(&Method::POST, "/ui/admin/projects/p1/grants").and_then(|k| k.project_id),
            Some("p1".to_string())
        );
        assert_eq!(op(Method::GET, "/ui/repositories/edit"), None);
        assert_eq!(
            op(Method::POST, "/cloudartifact/v5/artifact/"),
            Some(("repository", "createRepository"))
        );
        assert_eq!(
            op(Method::DELETE, "/cloudartifact/v5/repositories"),
            Some(("repository", "deleteRepository"))
        );
        assert_eq!(
            op(Method::PUT, "/cloudartifact/v5/trashes"),
            Some(("trash", "restore"))
        );
        assert_eq!(
            op(Method::PUT, "/artifactory/r/g/a/1/a-1.jar"),
            Some((BY_FORMAT, "upload"))
        );
        assert_eq!(
            op(
                Method::PUT,
                "/artifactory/api/npm/r/-/user/org.couchdb.user:x"
            ),
            None
        );
        assert_eq!(
            op(Method::PUT, "/artifactory/api/npm/r/@s%2fp"),
            Some(("npm", "publish"))
        );
        assert_eq!(
            op(
                Method::DELETE,
                "/artifactory/api/npm/r/p/-/p-1.0.0.tgz/-rev/3"
            ),
            Some(("npm", "unpublishVersion"))
        );
        assert_eq!(
            op(
                Method::DELETE,
                "/artifactory/api/cargo/r/api/v1/crates/c/1.0.0/yank"
            ),
            Some(("cargo", "yank"))
        );
        assert_eq!(
            op(
                Method::PUT,
                "/artifactory/api/go/r/example.com/!a/@v/v1.0.0.zip"
            ),
            Some(("go", "publish"))
        );
        assert_eq!(
            op(
                Method::PUT,
                "/artifactory/api/go/r/example.com/a/@v/v1.0.0.mod"
            ),
            Some(("go", "uploadGoMod"))
        );
        let id = "0123456789abcdef0123456789abcdef";
        for (method, path, expected) in [
            (
                Method::PUT,
                "/v2/r/a/b/manifests/1.0",
                Some(("docker", "pushManifest")),
            ),
            (
                Method::DELETE,
                "/v2/r/a/manifests/1.0",
                Some(("docker", "deleteManifest")),
            ),
            (
                Method::POST,
                "/v2/r/a/blobs/uploads/",
                Some(("docker", "uploadBlob")),
            ),
            (Method::PATCH, &format!("/v2/r/a/blobs/uploads/{id}"), None),
            (
                Method::PUT,
                &format!("/v2/r/a/blobs/uploads/{id}"),
                Some(("docker", "uploadBlob")),
            ),
            (Method::DELETE, &format!("/v2/r/a/blobs/uploads/{id}"), None),
            (
                Method::DELETE,
                "/v2/r/a/blobs/sha256:00",
                Some(("docker", "deleteBlob")),
            ),
            (Method::GET, "/v2/token", None),
            (
                Method::POST,
                "/cloudartifact/v5/repositories",
                Some(("repository", "createRepository")),
            ),
            (
                Method::DELETE,
                "/cloudartifact/v5/repositories",
                Some(("repository", "deleteRepository")),
            ),
        ] {
            assert_eq!(op(method, path), expected, "{path}");
        }
        assert_eq!(
            op(Method::PUT, "/v3/domains/d/groups/g/roles/r"),
            Some(("privilege", "grantRole"))
        );
        assert_eq!(
            op(Method::POST, "/v4/projects/p/members/role"),
            Some(("member", "updateMemberRoles"))
        );
        assert_eq!(
            classify(&Method::DELETE, "/v4/projects/p1")
                .unwrap()
                .project_id,
            Some("p1".into())
        );
    }
}
