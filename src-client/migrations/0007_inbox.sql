-- The agent's inbox as a small table kept by triggers: per cached
-- conversation, what the inbox filters and sorts by (its status, assignee,
-- whether it is about an order, its last activity, and when the customer
-- and staff last spoke, copied from `conversation_activity`), so a page of
-- the inbox is read in the inbox's order from an index and only its rows'
-- JSON is decoded (`Store::inbox`, `store/inbox.rs`; the same answers as
-- `mostrador_core::app::filter_inbox`, see `rules/inbox.rs`). Triggers
-- keep it whichever statement writes a conversation or its activity
-- (upsert, removal, reset). The words are those of the core types:
-- `EntityKind::Conversation` is 'conversation', `ConversationStatus::
-- Resolved` is 'resolved' (the store contract's inbox scenario fails if
-- either drifts).
CREATE TABLE inbox (
    conversation_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    agent_id TEXT,
    has_order INTEGER NOT NULL,
    -- The conversation's sort key: its last message, else its update.
    last_at INTEGER NOT NULL,
    customer_at INTEGER,
    staff_at INTEGER,
    -- Since when the customer waits: their last text message has no staff
    -- reply after it, and the conversation is not resolved.
    waiting_at INTEGER GENERATED ALWAYS AS (
        CASE WHEN status <> 'resolved' AND customer_at IS NOT NULL
                  AND (staff_at IS NULL OR customer_at > staff_at)
             THEN customer_at END) VIRTUAL,
    -- The inbox's order: waiting customers first, longest waiting first
    -- (equal times: the earlier activity first), then the most recently
    -- active; then by id.
    rank_group INTEGER GENERATED ALWAYS AS (waiting_at IS NULL) VIRTUAL,
    rank_at INTEGER GENERATED ALWAYS AS (COALESCE(waiting_at, -last_at)) VIRTUAL,
    rank_tie INTEGER GENERATED ALWAYS AS (CASE WHEN waiting_at IS NULL THEN 0 ELSE last_at END) VIRTUAL
);
-- The page: this index in order, each entry checked against the filter
-- without reading the table (it holds every column the filter reads),
-- until the page is full.
CREATE INDEX inbox_order ON inbox (rank_group, rank_at, rank_tie, conversation_id,
    status, agent_id, has_order, waiting_at);

INSERT INTO inbox (conversation_id, status, agent_id, has_order, last_at, customer_at, staff_at)
SELECT c.id, json_extract(c.json, '$.status'), json_extract(c.json, '$.assigned_agent_id'),
       json_extract(c.json, '$.order_id') IS NOT NULL, c.sort_key, a.customer_at, a.staff_at
FROM entities c LEFT JOIN conversation_activity a ON a.conversation_id = c.id
WHERE c.kind = 'conversation';

CREATE TRIGGER inbox_conversation_added AFTER INSERT ON entities
WHEN NEW.kind = 'conversation' BEGIN
    INSERT OR REPLACE INTO inbox (conversation_id, status, agent_id, has_order, last_at, customer_at, staff_at)
    SELECT NEW.id, json_extract(NEW.json, '$.status'), json_extract(NEW.json, '$.assigned_agent_id'),
           json_extract(NEW.json, '$.order_id') IS NOT NULL, NEW.sort_key,
           (SELECT customer_at FROM conversation_activity WHERE conversation_id = NEW.id),
           (SELECT staff_at FROM conversation_activity WHERE conversation_id = NEW.id);
END;

CREATE TRIGGER inbox_conversation_changed AFTER UPDATE OF json, sort_key ON entities
WHEN NEW.kind = 'conversation' BEGIN
    UPDATE inbox SET status = json_extract(NEW.json, '$.status'),
        agent_id = json_extract(NEW.json, '$.assigned_agent_id'),
        has_order = json_extract(NEW.json, '$.order_id') IS NOT NULL,
        last_at = NEW.sort_key
    WHERE conversation_id = NEW.id;
END;

CREATE TRIGGER inbox_conversation_removed AFTER DELETE ON entities
WHEN OLD.kind = 'conversation' BEGIN
    DELETE FROM inbox WHERE conversation_id = OLD.id;
END;

CREATE TRIGGER inbox_activity_added AFTER INSERT ON conversation_activity BEGIN
    UPDATE inbox SET customer_at = NEW.customer_at, staff_at = NEW.staff_at
    WHERE conversation_id = NEW.conversation_id;
END;

CREATE TRIGGER inbox_activity_changed AFTER UPDATE OF customer_at, staff_at ON conversation_activity BEGIN
    UPDATE inbox SET customer_at = NEW.customer_at, staff_at = NEW.staff_at
    WHERE conversation_id = NEW.conversation_id;
END;

CREATE TRIGGER inbox_activity_removed AFTER DELETE ON conversation_activity BEGIN
    UPDATE inbox SET customer_at = NULL, staff_at = NULL
    WHERE conversation_id = OLD.conversation_id;
END;
