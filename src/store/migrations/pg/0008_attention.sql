-- Artifacts a user follows (create_attention / list_attentions). A follow names the repository and the
-- path, not the file row: a redeploy replaces the row, and the follow stays on the artifact.
CREATE TABLE attentions (
    user_id     TEXT NOT NULL,
    repo_id     TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, repo_id, path)
);
