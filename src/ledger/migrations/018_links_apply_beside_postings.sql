-- 018_links_apply_beside_postings: a links file and a postings file can be applied at the same time (issue 11).
--
-- Why: an initial load is about 10 minutes of PostgreSQL work at 10 million participants, and the links and the
-- postings, which do not depend on each other, took turns on one core while the other was idle (README,
-- "National scale"). They could not overlap because a links --initial load dropped instrument_link's foreign
-- keys: dropping a foreign key locks the table it references (participant, data_key) in ACCESS EXCLUSIVE mode
-- until the transaction ends, and the postings read participant and register their data key.
-- * instrument_link's foreign key to participant goes, as jht_posting's did in 015. It guarded nothing the ledger
--   does not guarantee: a participant is never deleted (every one has a jht_balance row, which references it and
--   cannot be deleted, jht_balance_guard), and a link's participant_id only ever comes from a join with
--   participant (the importer's insert and move). Without it, a links file no longer checks every row against
--   participant, live or not.
-- * instrument_link's foreign key to data_key stays, live and in a bulk load: it is what says which key made a
--   hash (key retirement, 016), and checking it locks the one data_key row in KEY SHARE mode only.
-- The bulk load of links keeps dropping and re-building only instrument_link's own unique key and index.

ALTER TABLE instrument_link DROP CONSTRAINT instrument_link_participant_id_fkey;

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
    WHEN 'postings' THEN
      CREATE INDEX jht_posting_participant_idx ON jht_posting (participant_id, value_date);
  END CASE;
END
$$;
