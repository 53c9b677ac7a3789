-- 009_inquiry_channels: the channel-neutral inquiry core (src/inquiry/) and its first channel besides the
-- ATM, the REST API (src/channels/rest/).
--
-- * A kiosk proves who it asks for with the participant's NIK. The NIK is never stored in clear: only
--   HMAC-SHA256 under the key derived for purpose 'contact' (src/inquiry/contact-key.ts), and the id of that
--   key, so a rotation can tell old hashes from new. The contact columns may come from another migration
--   first: added here only when absent.
-- * Idempotency keys in a channel's own terms: (channel, requester, key), e.g. a REST client's
--   `Idempotency-Key`. ISO 8583's (32, 11, 7, 41) keeps its own table (txn_key) and its hot statements; this
--   one is for channels whose keys are opaque strings. Kept 24 hours.
-- * The journal names the channel, the requester, the participant (internal id and masked KPJ), the
--   outcome, and for staff the reason code and ticket. Existing rows and the ATM's inserts are channel 'atm'
--   by the column's default, so the ATM's statement did not change.

ALTER TABLE participant ADD COLUMN IF NOT EXISTS nik_hash bytea CHECK (octet_length(nik_hash) = 32);
ALTER TABLE participant ADD COLUMN IF NOT EXISTS nik_key_id text CHECK (length(nik_key_id) BETWEEN 1 AND 40);

CREATE TABLE inquiry_key (
  id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel        text        NOT NULL CHECK (length(channel) BETWEEN 1 AND 20),
  -- Whose key it is: for REST the OAuth client id. Keys of two clients never collide.
  requester      text        NOT NULL CHECK (length(requester) BETWEEN 1 AND 200),
  idem_key       text        NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
  -- HMAC-SHA256 of the request as the channel defines it: same key, other digest = the key was reused (422).
  request_digest bytea       NOT NULL CHECK (octet_length(request_digest) = 32),
  instance_id    text        NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT inquiry_key_channel_key UNIQUE (channel, requester, idem_key)
);
CREATE INDEX inquiry_key_created_at ON inquiry_key USING brin (created_at);

-- The outcome of a claimed key, written once with its journal row (src/inquiry/inquiry-recorder.ts), so a
-- repeat gets the same answer and the same reference. `body` is the core's outcome (src/inquiry/outcome.ts):
-- it holds no NIK and no token.
CREATE TABLE inquiry_answer (
  inquiry_key_id bigint      PRIMARY KEY,
  outcome        text        NOT NULL,
  body           jsonb       NOT NULL,
  responded_at   timestamptz NOT NULL
);

ALTER TABLE journal
  ADD COLUMN channel        text NOT NULL DEFAULT 'atm',
  -- Client id and subject (self), staff id (any), or device (kiosk): never a token.
  ADD COLUMN requester      text,
  ADD COLUMN participant_id bigint,
  ADD COLUMN masked_kpj     text CONSTRAINT journal_masked_kpj_is_masked CHECK (masked_kpj IS NULL OR masked_kpj !~ '[0-9]{5}'),
  ADD COLUMN outcome        text,
  ADD COLUMN reason_code    text,
  ADD COLUMN ticket_id      text,
  ADD COLUMN reference      text,
  ADD COLUMN inquiry_key_id bigint;
CREATE INDEX journal_reference ON journal (reference) WHERE reference IS NOT NULL;
CREATE INDEX journal_participant ON journal (participant_id, received_at) WHERE participant_id IS NOT NULL;

ALTER TABLE inquiry_key SET (autovacuum_analyze_threshold = 1000, autovacuum_analyze_scale_factor = 0.05);

-- The switch claims keys, stores and replays answers, prunes both; nothing else (SECURITY.md).
GRANT SELECT, INSERT, DELETE ON inquiry_key, inquiry_answer TO jht_switch;
GRANT SELECT ON inquiry_key, inquiry_answer TO jht_support;
