-- The snapshot (`GET /api/v1/sync/snapshot`) pages the latest feed row of
-- each entity by (entity, entity_id): staff over every row, a customer over
-- their own. Compaction (`feed::prune`) looks for later rows the same way.
CREATE INDEX changes_entity ON changes (entity, entity_id, seq);
CREATE INDEX changes_customer_entity ON changes (customer_id, entity, entity_id, seq);
