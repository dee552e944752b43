-- The message fields the home screen's summaries filter on, as virtual
-- columns (computed from the JSON, stored only in the indexes below), so
-- the last text message per conversation and the unread counts are read
-- from indexes instead of running json_extract over every cached message.
-- Other kinds' rows carry NULL or whatever their JSON holds under these
-- names; every query also filters on `kind`.
ALTER TABLE entities ADD COLUMN msg_kind TEXT GENERATED ALWAYS AS (json_extract(json, '$.kind')) VIRTUAL;
ALTER TABLE entities ADD COLUMN msg_state TEXT GENERATED ALWAYS AS (json_extract(json, '$.state')) VIRTUAL;
ALTER TABLE entities ADD COLUMN author_role TEXT GENERATED ALWAYS AS (json_extract(json, '$.author_role')) VIRTUAL;
ALTER TABLE entities ADD COLUMN author_id TEXT GENERATED ALWAYS AS (json_extract(json, '$.author_id')) VIRTUAL;

-- Per conversation, its messages of a kind by time: the newest text
-- message is one seek from the end of its range.
CREATE INDEX entities_last_by_kind ON entities (kind, msg_kind, parent_id, sort_key);
-- Messages by author role and state: the unread ones from one side are
-- ranges, counted per conversation without reading a row.
CREATE INDEX entities_unread ON entities (kind, msg_kind, author_role, msg_state, parent_id, author_id);
