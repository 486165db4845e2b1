-- Internet-bound parcels queued and not yet settled by the outbound worker, per private gateway
-- (its quota). Records from before this migration count as settled.
ALTER TABLE parcel_collections ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX parcel_collections_pending ON parcel_collections (pg_id, expiry) WHERE pending = 1;
