-- 017_atm_keys_channel_neutral: the ATM claims its keys in the channel-neutral key table (issues 12, 13).
--
-- Why:
-- * One key table for every channel, (channel, requester, key): ISO 8583's (32, 11, 7, 41) becomes channel
--   'atm', requester "<acquirer 32>/<terminal 41>", key "<STAN 11>/<transmission 7>". The acquirer is digits
--   only, so the first '/' splits the requester unambiguously, whatever field 41 holds.
-- * One answer table: an ATM answer keeps its field 39 as `outcome` and what else it adds (fields 54, 48) in
--   `body`; the echoed fields are rebuilt from the byte-identical retransmission, which keeps the PAN out.
-- * The journal's ATM rows name their key in `inquiry_key_id`, as the other channels' rows do. `txn_key_id`
--   stays for rows written before this migration.
--
-- Conversion (docs/deployment.md, "Upgrades"): the live keys (at most 3 days of them) and their answers are
-- copied, and the journal rows that named them are pointed at the new ids, so a retransmission after the
-- upgrade still gets its original's answer and the original's row. This migration is not expand/contract:
-- instances before it claim in txn_key, after it in inquiry_key, so stop every instance before it runs.

ALTER TABLE inquiry_key
  -- For ISO 8583 the request's MTI, repeat digit normalised; null for channels without one.
  ADD COLUMN request_type  text CHECK (request_type ~ '^[0-9]{4}$'),
  -- The data key that made request_digest (src/journal/request-digest.ts): a repeat across a rotation is
  -- digested again under it.
  ADD COLUMN digest_key_id text CHECK (digest_key_id ~ '^[0-9a-f]{8}$'),
  -- Set by a reversal advice (0420/0421) naming this transaction in its field 90.
  ADD COLUMN reversed_at   timestamptz,
  ADD COLUMN reversal_ref  text;

CREATE TEMPORARY TABLE moved_key (old_id bigint PRIMARY KEY, new_id bigint NOT NULL) ON COMMIT DROP;

WITH moved AS (
  INSERT INTO inquiry_key (channel, requester, idem_key, request_digest, digest_key_id, request_type, instance_id,
    created_at, reversed_at, reversal_ref)
  SELECT 'atm', acquirer_id || '/' || terminal_id, stan || '/' || transmission_at, request_digest, digest_key_id, mti,
    instance_id, created_at, reversed_at, reversal_ref
    FROM txn_key ORDER BY id
  RETURNING id, requester, idem_key
)
INSERT INTO moved_key (old_id, new_id)
SELECT t.id, moved.id FROM moved
  JOIN txn_key t ON moved.requester = t.acquirer_id || '/' || t.terminal_id AND moved.idem_key = t.stan || '/' || t.transmission_at;

INSERT INTO inquiry_answer (inquiry_key_id, outcome, body, responded_at)
SELECT m.new_id, a.response_code, jsonb_build_object('54', a.response_54, '48', a.response_48), a.responded_at
  FROM txn_answer a JOIN moved_key m ON m.old_id = a.txn_key_id;

UPDATE journal j SET inquiry_key_id = m.new_id
  FROM moved_key m WHERE j.txn_key_id = m.old_id AND j.channel = 'atm' AND j.inquiry_key_id IS NULL;

DROP TABLE txn_answer;
DROP TABLE txn_key;

CREATE INDEX journal_inquiry_key ON journal (inquiry_key_id) WHERE inquiry_key_id IS NOT NULL;

-- Marking a reversal, and taking over an unknown outcome (the atomic re-claim), as txn_key allowed.
GRANT UPDATE (reversed_at, reversal_ref, instance_id) ON inquiry_key TO jht_switch;
