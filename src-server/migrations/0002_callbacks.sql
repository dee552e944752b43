-- Callbacks booked into slots. A slot holds at most the configured capacity
-- of scheduled or in-progress callbacks; writers are serialised, so the
-- count-then-insert in routes/callbacks.rs cannot overbook.
CREATE TABLE callbacks (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES users (id),
    channel TEXT NOT NULL CHECK (channel IN ('voice', 'video')),
    phone TEXT,
    topic TEXT NOT NULL,
    order_id TEXT REFERENCES orders (id),
    time_zone TEXT NOT NULL,
    slot_start BIGINT,
    slot_end BIGINT,
    status TEXT NOT NULL,
    outcome_note TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX callbacks_customer ON callbacks (customer_id);
CREATE INDEX callbacks_slot ON callbacks (slot_start);
