-- Per conversation: when the customer last wrote and when staff last
-- replied (text only), and the customer's name: kept up to date as messages
-- are applied, so the agent's inbox needs no scan of every message.
CREATE TABLE conversation_activity (
    conversation_id TEXT PRIMARY KEY,
    customer_at INTEGER,
    staff_at INTEGER,
    customer_name TEXT
);

INSERT INTO conversation_activity (conversation_id, customer_at, staff_at, customer_name)
SELECT parent_id,
    MAX(CASE WHEN json_extract(json, '$.author_role') = 'customer' THEN sort_key END),
    MAX(CASE WHEN json_extract(json, '$.author_role') <> 'customer' THEN sort_key END),
    MAX(CASE WHEN json_extract(json, '$.author_role') = 'customer' THEN json_extract(json, '$.author_name') END)
FROM entities WHERE kind = 'message' AND json_extract(json, '$.kind') = 'text'
GROUP BY parent_id;
