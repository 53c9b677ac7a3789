-- 013_relink_grant: the importer may move a link to the current data key (SECURITY.md, "Key rotation").
--
-- Why:
-- * A rotation ends when every link hashed under the old key has been imported again under the new one.
--   The importer reads the bank's clear card number from its file, hashes it under both keys, and moves the
--   old key's row to the new hash and key id in place (src/ledger/data-keys.ts, relinkUnderCurrentKey): the
--   link keeps its id, status and participant, and no DELETE is needed, which the importer's role does not
--   have (an import never removes a participant's link; the ledger keeps its history).
-- * Only these two columns: a link's participant is never changed by an import.

GRANT UPDATE (instrument_hash, key_id) ON instrument_link TO jht_importer;
