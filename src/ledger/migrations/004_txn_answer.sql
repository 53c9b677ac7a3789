-- The answer to a claimed key moves to a table of its own, written once by INSERT. Updating the key's row
-- with its answer was the costliest statement per inquiry: planned afresh for every batch (a join on
-- txn_key), a new row version per key, and the dead versions left for autovacuum. An INSERT into a narrow
-- table is prepared once and leaves nothing behind. Rows are pruned with their keys.
CREATE TABLE txn_answer (
  txn_key_id    bigint      PRIMARY KEY,
  -- Only what the response adds: the echoed fields are rebuilt from the (byte-identical) retransmitted
  -- request, which keeps the PAN out of this table.
  response_code text        NOT NULL,
  response_54   text,
  response_48   text,
  responded_at  timestamptz NOT NULL
);

INSERT INTO txn_answer (txn_key_id, response_code, response_54, response_48, responded_at)
SELECT id, response_code, response_54, response_48, coalesce(responded_at, created_at)
  FROM txn_key WHERE response_code IS NOT NULL;

ALTER TABLE txn_key
  DROP COLUMN response_code,
  DROP COLUMN response_54,
  DROP COLUMN response_48,
  DROP COLUMN responded_at;

-- Keys are no longer updated for their answer, only (rarely) marked by a reversal: full pages again.
ALTER TABLE txn_key RESET (fillfactor);
ALTER TABLE txn_answer SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.05);
