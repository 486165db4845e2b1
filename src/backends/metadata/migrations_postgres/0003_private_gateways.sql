-- The registry of private gateways (admin API; revocation). Times in Unix milliseconds.
CREATE TABLE private_gateways (
    id TEXT PRIMARY KEY,
    registered_at BIGINT,
    certificate_expiry BIGINT,
    last_seen BIGINT,
    revoked_at BIGINT
);
CREATE INDEX private_gateways_revoked ON private_gateways (revoked_at);
