-- Embedded durable queue. Times are Unix milliseconds.
CREATE TABLE queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body BLOB NOT NULL,
    attributes TEXT NOT NULL,
    -- When the message can next be delivered: publish time or not_before, then the lease expiry
    -- while leased, then the retry time after a nack.
    visible_at INTEGER NOT NULL,
    -- Deliveries so far.
    attempts INTEGER NOT NULL DEFAULT 0,
    -- The attempt number of the current lease; NULL when not leased.
    lease_token INTEGER
);
CREATE INDEX queue_messages_ready ON queue_messages (queue, visible_at, id);

CREATE TABLE queue_dead_letters (
    id INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    body BLOB NOT NULL,
    attributes TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    reason TEXT NOT NULL,
    dead_at INTEGER NOT NULL
);
CREATE INDEX queue_dead_letters_by_queue ON queue_dead_letters (queue, id);
