-- Metadata of the gateway, PostgreSQL dialect of ../migrations/0001_metadata.sql.
-- Times are Unix milliseconds; ids are the protocol's strings or bytes.
CREATE TABLE config_items (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE own_certificates (
    id BIGSERIAL PRIMARY KEY,
    subject_id TEXT NOT NULL,
    issuer_id TEXT NOT NULL,
    der BYTEA NOT NULL UNIQUE,
    not_after BIGINT NOT NULL
);
CREATE INDEX own_certificates_by_subject ON own_certificates (subject_id, not_after);

CREATE TABLE identity_keys (
    node_id TEXT PRIMARY KEY NOT NULL,
    sealed_key BYTEA NOT NULL
);

CREATE TABLE session_keys (
    key_id BYTEA PRIMARY KEY NOT NULL,
    owner_node_id TEXT NOT NULL,
    peer_id TEXT,
    created_at BIGINT NOT NULL,
    sealed_key BYTEA NOT NULL,
    inserted BIGSERIAL NOT NULL
);
CREATE INDEX session_keys_by_owner_peer ON session_keys (owner_node_id, peer_id, created_at);

CREATE TABLE peer_session_keys (
    peer_id TEXT PRIMARY KEY NOT NULL,
    key_id BYTEA NOT NULL,
    spki_der BYTEA NOT NULL,
    creation_date BIGINT NOT NULL
);

CREATE TABLE parcel_collections (
    parcel_id TEXT NOT NULL,
    pg_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    expiry BIGINT NOT NULL,
    inserted BIGSERIAL NOT NULL,
    PRIMARY KEY (parcel_id, pg_id, recipient_id, sender_id)
);
CREATE INDEX parcel_collections_by_pg ON parcel_collections (pg_id, expiry);
CREATE INDEX parcel_collections_by_expiry ON parcel_collections (expiry);

CREATE TABLE cca_fulfilments (
    pg_id TEXT NOT NULL,
    cca_id TEXT NOT NULL,
    expiry BIGINT NOT NULL,
    PRIMARY KEY (pg_id, cca_id)
);
CREATE INDEX cca_fulfilments_by_expiry ON cca_fulfilments (expiry);

-- An upsert takes a new value from this sequence, so a replaced parcel is listed again.
CREATE SEQUENCE parcel_index_sequence;
CREATE TABLE parcel_index (
    sequence BIGINT PRIMARY KEY DEFAULT nextval('parcel_index_sequence'),
    pg_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    parcel_id_digest TEXT NOT NULL,
    object_key TEXT NOT NULL,
    expiry BIGINT NOT NULL,
    size BIGINT NOT NULL,
    UNIQUE (pg_id, recipient_id, sender_id, parcel_id_digest)
);
CREATE INDEX parcel_index_by_pg ON parcel_index (pg_id, sequence);
CREATE INDEX parcel_index_by_expiry ON parcel_index (expiry);
