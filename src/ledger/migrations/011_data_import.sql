-- 011_data_import: real data at national scale (`jht-switch import`, specs/DATA-FILES.md).
--
-- Why it looks like this:
-- * Contacts (NIK, MSISDN, e-mail) are stored as a keyed HMAC (the data key's `contact` purpose, computed in
--   the importer) beside the id of the key that made it, plus a masked form for support staff. The clear
--   value never reaches the database. NIKs and MSISDNs are not unique (one person, several KPJs; a family,
--   one phone): plain indexes, not unique ones. 009 may already have added the NIK hash: IF NOT EXISTS.
-- * A card keeps the partner id of the bank that issued it (links.csv's optional `issuer`).
-- * OPENING is the initial balance of a participant migrated from the core system: at most one each.
-- * The balance projection of 001 was maintained by per-row triggers: about 80 s per million postings, and
--   a million-row daily file must apply in well under a minute. The triggers are now statement-level with
--   transition tables: one set-based UPDATE of jht_balance per INSERT statement, whatever its row count.
--   The row lock on jht_balance still serialises concurrent postings of one participant, and the CHECK
--   (balance_sen >= 0) still sees the resulting balance.
-- * link_change journals every `jht-switch link block|unblock|remove` with the operator's uid.
-- * The importer stages hashed rows in TEMP tables (never WAL-logged): it needs TEMPORARY on the database,
--   which 007 revoked from PUBLIC. Only the database's owner may grant it: on the embedded cluster that is the
--   superuser, elsewhere jht_owner (docs/database.md), so the grant runs as the session's user.

ALTER TABLE participant ADD COLUMN IF NOT EXISTS nik_hash bytea;
ALTER TABLE participant ADD COLUMN IF NOT EXISTS nik_key_id text;
ALTER TABLE participant
  ADD COLUMN nik_last4     varchar(4),
  ADD COLUMN msisdn_hash   bytea,
  ADD COLUMN msisdn_key_id text,
  ADD COLUMN msisdn_last4  varchar(4),
  ADD COLUMN email_hash    bytea,
  ADD COLUMN email_key_id  text,
  ADD COLUMN email_masked  text,
  ADD CONSTRAINT participant_nik_hashed CHECK ((nik_hash IS NULL) = (nik_key_id IS NULL) AND (nik_hash IS NULL OR octet_length(nik_hash) = 32)),
  ADD CONSTRAINT participant_msisdn_hashed CHECK ((msisdn_hash IS NULL) = (msisdn_key_id IS NULL) AND (msisdn_hash IS NULL OR octet_length(msisdn_hash) = 32)),
  ADD CONSTRAINT participant_email_hashed CHECK ((email_hash IS NULL) = (email_key_id IS NULL) AND (email_hash IS NULL OR octet_length(email_hash) = 32)),
  ADD CONSTRAINT participant_email_masked CHECK (email_masked IS NULL OR length(email_masked) <= 254);
CREATE INDEX participant_msisdn_idx ON participant (msisdn_hash) WHERE msisdn_hash IS NOT NULL;
CREATE INDEX participant_email_idx ON participant (email_hash) WHERE email_hash IS NOT NULL;

ALTER TABLE instrument_link
  ADD COLUMN issuer text CHECK (issuer ~ '^[a-z0-9][a-z0-9-]{0,63}$');

ALTER TABLE jht_posting DROP CONSTRAINT jht_posting_kind_check;
ALTER TABLE jht_posting
  ADD CONSTRAINT jht_posting_kind_check CHECK (kind IN ('OPENING', 'CONTRIBUTION', 'DEVELOPMENT', 'CLAIM', 'CORRECTION')),
  ADD CONSTRAINT jht_posting_opening_positive CHECK (kind <> 'OPENING' OR amount_sen > 0);
CREATE UNIQUE INDEX jht_posting_one_opening ON jht_posting (participant_id) WHERE kind = 'OPENING';

-- Statement-level balance triggers (see above).
DROP TRIGGER participant_open_balance ON participant;
DROP TRIGGER jht_posting_apply ON jht_posting;
DROP FUNCTION participant_open_balance();
DROP FUNCTION jht_posting_apply();

CREATE FUNCTION participant_open_balances() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO jht_balance (participant_id, balance_sen, as_of) SELECT id, 0, NULL FROM registered;
  RETURN NULL;
END
$$;

CREATE TRIGGER participant_open_balances
  AFTER INSERT ON participant REFERENCING NEW TABLE AS registered
  FOR EACH STATEMENT EXECUTE FUNCTION participant_open_balances();

-- GREATEST ignores NULL, so the first posting sets as_of. Two imports never post at once (the importer holds
-- an advisory lock for its whole transaction), so the rows are locked in whatever order the join takes.
CREATE FUNCTION jht_postings_apply() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  expected bigint;
  updated  bigint;
BEGIN
  WITH totals AS (
    SELECT participant_id, sum(amount_sen)::bigint AS amount_sen, max(value_date) AS value_date
      FROM posted GROUP BY participant_id
  )
  UPDATE jht_balance b
     SET balance_sen = b.balance_sen + t.amount_sen,
         as_of       = GREATEST(b.as_of, t.value_date),
         updated_at  = now()
    FROM totals t
   WHERE b.participant_id = t.participant_id;
  GET DIAGNOSTICS updated = ROW_COUNT;
  SELECT count(DISTINCT participant_id) INTO expected FROM posted;
  IF updated <> expected THEN
    RAISE EXCEPTION '% participant(s) of these postings have no jht_balance row', expected - updated USING ERRCODE = 'JH003';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER jht_postings_apply
  AFTER INSERT ON jht_posting REFERENCING NEW TABLE AS posted
  FOR EACH STATEMENT EXECUTE FUNCTION jht_postings_apply();

-- --initial (the first load of an empty ledger, not live): the secondary indexes and foreign keys a file's
-- table maintains row by row are dropped before the load and built after it, in the same transaction, by a
-- sort rather than ~10 million random insertions and foreign-key probes. Only the owner may drop them: these
-- two functions are the importer's only way, one fixed list per file, and the re-creation is the same DDL as
-- the migrations' (test/ledger/import/initial.test.ts compares the schema before and after). A transaction that
-- began a bulk load and did not end it cannot commit (the deferred trigger below): no index is ever lost.
CREATE TABLE import_bulk_load (
  file       text        PRIMARY KEY CHECK (file IN ('participants', 'links', 'postings')),
  started_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON import_bulk_load FROM PUBLIC;

CREATE FUNCTION import_bulk_unfinished() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM import_bulk_load WHERE file = NEW.file) THEN
    RAISE EXCEPTION 'import_bulk_begin(%) was not ended by import_bulk_end: the transaction is refused', NEW.file USING ERRCODE = 'JH005';
  END IF;
  RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER import_bulk_unfinished
  AFTER INSERT ON import_bulk_load DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION import_bulk_unfinished();

CREATE FUNCTION import_bulk_begin(file text) RETURNS void LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  INSERT INTO import_bulk_load (file) VALUES (file);
  CASE file
    WHEN 'participants' THEN
      DROP INDEX participant_msisdn_idx;
      DROP INDEX participant_email_idx;
      ALTER TABLE jht_balance DROP CONSTRAINT jht_balance_participant_id_fkey;
    WHEN 'links' THEN
      ALTER TABLE instrument_link DROP CONSTRAINT instrument_link_participant_id_fkey;
      ALTER TABLE instrument_link DROP CONSTRAINT instrument_link_key_id_fkey;
      ALTER TABLE instrument_link DROP CONSTRAINT instrument_link_kind_hash_key;
      DROP INDEX instrument_link_participant_idx;
    WHEN 'postings' THEN
      ALTER TABLE jht_posting DROP CONSTRAINT jht_posting_participant_id_fkey;
      DROP INDEX jht_posting_participant_idx;
  END CASE;
END
$$;

CREATE FUNCTION import_bulk_end(file text) RETURNS void LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  DELETE FROM import_bulk_load WHERE import_bulk_load.file = import_bulk_end.file;
  CASE file
    WHEN 'participants' THEN
      CREATE INDEX participant_msisdn_idx ON participant (msisdn_hash) WHERE msisdn_hash IS NOT NULL;
      CREATE INDEX participant_email_idx ON participant (email_hash) WHERE email_hash IS NOT NULL;
      ALTER TABLE jht_balance ADD CONSTRAINT jht_balance_participant_id_fkey
        FOREIGN KEY (participant_id) REFERENCES participant (id);
    WHEN 'links' THEN
      ALTER TABLE instrument_link ADD CONSTRAINT instrument_link_kind_hash_key UNIQUE (kind, instrument_hash);
      CREATE INDEX instrument_link_participant_idx ON instrument_link (participant_id);
      ALTER TABLE instrument_link ADD CONSTRAINT instrument_link_participant_id_fkey
        FOREIGN KEY (participant_id) REFERENCES participant (id);
      ALTER TABLE instrument_link ADD CONSTRAINT instrument_link_key_id_fkey
        FOREIGN KEY (key_id) REFERENCES data_key (key_id);
    WHEN 'postings' THEN
      CREATE INDEX jht_posting_participant_idx ON jht_posting (participant_id, value_date);
      ALTER TABLE jht_posting ADD CONSTRAINT jht_posting_participant_id_fkey
        FOREIGN KEY (participant_id) REFERENCES participant (id);
  END CASE;
END
$$;

REVOKE ALL ON FUNCTION import_bulk_begin(text), import_bulk_end(text), import_bulk_unfinished() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION import_bulk_begin(text), import_bulk_end(text) TO jht_importer;

CREATE TABLE link_change (
  id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  action       text        NOT NULL CHECK (action IN ('block', 'unblock', 'remove')),
  kind         text        NOT NULL CHECK (kind IN ('CARD', 'ACCOUNT')),
  last4        varchar(4)  NOT NULL,
  key_id       text        NOT NULL,
  kpj_number   char(11)    NOT NULL,
  from_status  text        NOT NULL,
  -- The kernel's uid of the process that ran the command; SUDO_UID as it claimed, recorded, never trusted.
  operator_uid integer     NOT NULL,
  sudo_uid     text        CHECK (sudo_uid ~ '^[0-9]{1,10}$'),
  db_user      text        NOT NULL DEFAULT session_user
);

REVOKE ALL ON link_change FROM PUBLIC;
GRANT SELECT, INSERT ON link_change TO jht_importer;
GRANT SELECT ON link_change TO jht_support;
GRANT UPDATE (nik_hash, nik_key_id, nik_last4, msisdn_hash, msisdn_key_id, msisdn_last4, email_hash, email_key_id, email_masked)
  ON participant TO jht_importer;
GRANT UPDATE (participant_id, issuer) ON instrument_link TO jht_importer;
GRANT DELETE ON instrument_link TO jht_importer;

DO $$
DECLARE
  migrating text := current_user;
BEGIN
  RESET ROLE;
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO jht_importer, jht_owner', current_database());
  EXECUTE format('SET ROLE %I', migrating);
END
$$;
