-- Housekeeping asks which stored bodies an entry still names (the orphan sweep).
CREATE INDEX parcel_index_by_object_key ON parcel_index (object_key);
