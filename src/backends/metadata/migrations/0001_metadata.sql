-- Metadata of the gateway. Times are Unix milliseconds; ids are the protocol's strings or bytes.
CREATE TABLE config_items (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- Our own (self-issued) identity certificates; every unexpired one is a trust anchor.
CREATE TABLE own_certificates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_id TEXT NOT NULL,
    issuer_id TEXT NOT NULL,
    der BLOB NOT NULL UNIQUE,
    not_after INTEGER NOT NULL
);
CREATE INDEX own_certificates_by_subject ON own_certificates (subject_id, not_after);

-- Private keys are sealed (AES-256-GCM) before they reach this database.
CREATE TABLE identity_keys (
    node_id TEXT PRIMARY KEY NOT NULL,
    sealed_key BLOB NOT NULL
);

CREATE TABLE session_keys (
    key_id BLOB PRIMARY KEY NOT NULL,
    owner_node_id TEXT NOT NULL,
    peer_id TEXT,
    created_at INTEGER NOT NULL,
    sealed_key BLOB NOT NULL
);
CREATE INDEX session_keys_by_owner_peer ON session_keys (owner_node_id, peer_id, created_at);

-- The latest session key each peer sent us, with the creation date of the carrying message.
CREATE TABLE peer_session_keys (
    peer_id TEXT PRIMARY KEY NOT NULL,
    key_id BLOB NOT NULL,
    spki_der BLOB NOT NULL,
    creation_date INTEGER NOT NULL
);

-- Internet-bound parcels taken from private gateways: dedup and PCAs to send back.
CREATE TABLE parcel_collections (
    parcel_id TEXT NOT NULL,
    pg_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    expiry INTEGER NOT NULL,
    PRIMARY KEY (parcel_id, pg_id, recipient_id, sender_id)
);
CREATE INDEX parcel_collections_by_pg ON parcel_collections (pg_id, expiry);
CREATE INDEX parcel_collections_by_expiry ON parcel_collections (expiry);

-- CCAs already used (single use until they expire).
CREATE TABLE cca_fulfilments (
    pg_id TEXT NOT NULL,
    cca_id TEXT NOT NULL,
    expiry INTEGER NOT NULL,
    PRIMARY KEY (pg_id, cca_id)
);
CREATE INDEX cca_fulfilments_by_expiry ON cca_fulfilments (expiry);

-- Parcels stored for private gateways. A replaced parcel gets a new sequence number (REPLACE
-- deletes and reinserts), so collectors paging by sequence see it again.
CREATE TABLE parcel_index (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    pg_id TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    sender_id TEXT NOT NULL,
    parcel_id_digest TEXT NOT NULL,
    object_key TEXT NOT NULL,
    expiry INTEGER NOT NULL,
    size INTEGER NOT NULL,
    UNIQUE (pg_id, recipient_id, sender_id, parcel_id_digest)
);
CREATE INDEX parcel_index_by_pg ON parcel_index (pg_id, sequence);
CREATE INDEX parcel_index_by_expiry ON parcel_index (expiry);
