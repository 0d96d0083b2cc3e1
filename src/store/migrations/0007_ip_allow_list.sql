-- An account's IP allow-list (list_domain_ip_config): when it has rules, requests for the account are
-- accepted only from the addresses they cover. `value` is normalised: an address, or a network in CIDR
-- form with its host bits cleared.
CREATE TABLE domain_ip_rules (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    domain_id    TEXT NOT NULL REFERENCES domains(id),
    value        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    modified_at  INTEGER NOT NULL,
    modified_by  TEXT NOT NULL
);
CREATE UNIQUE INDEX domain_ip_rules_value ON domain_ip_rules(domain_id, value);
