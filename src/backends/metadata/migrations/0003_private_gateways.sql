-- The registry of private gateways (admin API; revocation). Times in Unix milliseconds.
CREATE TABLE private_gateways (
    id TEXT PRIMARY KEY,
    registered_at INTEGER,
    certificate_expiry INTEGER,
    last_seen INTEGER,
    revoked_at INTEGER
);
CREATE INDEX private_gateways_revoked ON private_gateways (revoked_at);
