-- 015_posting_apply_speed: the per-row costs of a postings file, down to set-based ones (issue 11).
--
-- Why (each measured on a daily file of 200,000 postings, auto_explain with log_triggers; README "National scale"):
-- * jht_posting's foreign key to participant checked every row with a query of its own that also locks the
--   participant's row: 2.4 s of the 7.0 s apply (12 µs a row, more on a ledger of 10 million). It guarded nothing
--   the ledger does not guard already: jht_postings_apply refuses a statement whose postings name a participant
--   without a jht_balance row (JH003), every participant gets one when registered, a jht_balance row cannot be
--   deleted (jht_balance_guard) and references its participant (jht_balance_participant_id_fkey), so that no
--   participant with a balance row, hence none with a posting, can be deleted either. The constraint goes; the
--   importer's bulk load (import_bulk_begin/end) no longer drops and re-adds it.
-- * jht_balance_guard ran a PL/pgSQL function for every balance row a posting statement updates (1.3 µs a row,
--   10 million of them in an initial load) only to find that it was called from a trigger. The test moves to the
--   trigger's WHEN, evaluated without calling the function: the WHEN sees the depth of the statement that writes
--   the row (0 for a client's own statement, 1 inside jht_postings_apply or participant_open_balances), one less
--   than the function saw, so `< 1` there is 001's `< 2`. The function, called only when refusing, still refuses.
-- * jht_postings_apply counted its participants in a second pass over the transition table (a sort of every
--   posting); the count now comes from the totals the UPDATE joins, in the same statement.

ALTER TABLE jht_posting DROP CONSTRAINT jht_posting_participant_id_fkey;

DROP TRIGGER jht_balance_guard ON jht_balance;
CREATE TRIGGER jht_balance_guard
  BEFORE INSERT OR UPDATE OR DELETE ON jht_balance
  FOR EACH ROW WHEN (pg_trigger_depth() < 1) EXECUTE FUNCTION jht_balance_guard();

CREATE OR REPLACE FUNCTION jht_postings_apply() RETURNS trigger LANGUAGE plpgsql
  SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  expected bigint;
  updated  bigint;
BEGIN
  WITH totals AS MATERIALIZED (
    SELECT participant_id, sum(amount_sen)::bigint AS amount_sen, max(value_date) AS value_date
      FROM posted GROUP BY participant_id
  ), changed AS (
    UPDATE jht_balance b
       SET balance_sen = b.balance_sen + t.amount_sen,
           as_of       = GREATEST(b.as_of, t.value_date),
           updated_at  = now()
      FROM totals t
     WHERE b.participant_id = t.participant_id
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM totals), (SELECT count(*) FROM changed) INTO expected, updated;
  IF updated <> expected THEN
    RAISE EXCEPTION '% participant(s) of these postings have no jht_balance row', expected - updated USING ERRCODE = 'JH003';
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION import_bulk_begin(file text) RETURNS void LANGUAGE plpgsql
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
      DROP INDEX jht_posting_participant_idx;
  END CASE;
END
$$;

CREATE OR REPLACE FUNCTION import_bulk_end(file text) RETURNS void LANGUAGE plpgsql
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
  END CASE;
END
$$;
