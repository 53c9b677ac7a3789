-- 008_key_ids: every stored hash names the data key that made it (SECURITY.md, "Keys").
--
-- Why:
-- * Keys rotate. During a rotation window links hashed under the old key and the new one coexist, and the
--   switch must know which key to try for which row, and refuse a database hashed under a key it does not
--   hold, rather than answer 14 ("card not linked") to every ATM.
-- * data_key is the registry of the keys that ever wrote here: a switch compares it with the keys it holds
--   at start, in one small read, instead of scanning millions of links. Only an id and a check value are
--   stored, never key material (src/security/keys/data-key.ts says how both are derived).
-- * A retired key (retired_at set) has no rows left under it; the switch no longer needs to hold it.
-- * Links made before this migration carry no key id. On the embedded demo they are dropped here, and the
--   demo data is hashed again at the next start; elsewhere the switch refuses to start until the banks'
--   link files are imported again (there was no production database before this build).

CREATE TABLE data_key (
  key_id        text        PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{8}$'),
  check_value   text        NOT NULL CHECK (check_value ~ '^[0-9A-F]{6}$'),
  registered_at timestamptz NOT NULL DEFAULT now(),
  retired_at    timestamptz
);

ALTER TABLE instrument_link ADD COLUMN key_id text REFERENCES data_key (key_id);
-- Every new link names its key; only the rows of earlier builds may lack one (NOT VALID exempts them), and
-- the partial index finds those for the start-up check without reading the whole table.
ALTER TABLE instrument_link ADD CONSTRAINT instrument_link_key_id_present CHECK (key_id IS NOT NULL) NOT VALID;
CREATE INDEX instrument_link_unkeyed_idx ON instrument_link (id) WHERE key_id IS NULL;

-- The request digest's key, so a retransmission is compared under the key that digested its original.
ALTER TABLE txn_key ADD COLUMN digest_key_id text CHECK (digest_key_id ~ '^[0-9a-f]{8}$');

DELETE FROM instrument_link WHERE key_id IS NULL AND EXISTS (SELECT 1 FROM deployment WHERE kind = 'demo');

REVOKE ALL ON data_key FROM PUBLIC;
GRANT SELECT ON data_key TO jht_switch, jht_support;
GRANT SELECT, INSERT ON data_key TO jht_importer;
GRANT UPDATE (retired_at) ON data_key TO jht_importer;
