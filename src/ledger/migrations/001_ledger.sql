-- 001_ledger: participants, the cards / accounts linked to them, and the JHT ledger.
--
-- Why it looks like this:
-- * No PAN or account number is ever stored in clear. A linked card or account is identified by
--   HMAC-SHA256(card key, digits), computed by the switch (src/ledger/card-hash.ts); only the last four
--   characters are kept, for support staff. A dump of this database alone does not reveal card numbers.
-- * Cards and accounts share one table, instrument_link, with a kind column: they carry the same data and
--   the ATM inquiry resolves both with the same query. Unique on (kind, hash).
-- * jht_posting is the ledger and is append-only: contributions (iuran), development (hasil pengembangan),
--   claims and corrections. A mistake is fixed by a new CORRECTION posting, never by editing history, so
--   UPDATE, DELETE and TRUNCATE on jht_posting are rejected by triggers.
-- * jht_balance is a projection of the postings, maintained by an AFTER INSERT trigger in the same
--   transaction as the posting. The ATM path reads one row instead of summing history, and can never see a
--   balance that disagrees with the committed postings. Each participant gets a zero balance row when
--   registered; a posting UPDATEs it, so concurrent postings for one participant serialise on that row and
--   a claim can never take the balance below zero. jht_balance itself can only be written by triggers. The view jht_balance_drift lists any participant whose balance differs from its postings
--   (it should always be empty; operators and tests check it).
-- * Amounts are bigint sen (1 IDR = 100 sen). as_of is the latest value date of the postings.

CREATE TABLE participant (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kpj_number        char(11)    NOT NULL UNIQUE CHECK (kpj_number ~ '^[0-9]{11}$'),
  name              text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  membership_status text        NOT NULL DEFAULT 'ACTIVE'
                                CHECK (membership_status IN ('ACTIVE', 'BLOCKED', 'CLOSED')),
  created_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE instrument_link (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind            text        NOT NULL CHECK (kind IN ('CARD', 'ACCOUNT')),
  instrument_hash bytea       NOT NULL CHECK (octet_length(instrument_hash) = 32),
  last4           varchar(4)  NOT NULL CHECK (length(last4) BETWEEN 1 AND 4),
  participant_id  bigint      NOT NULL REFERENCES participant (id),
  link_status     text        NOT NULL DEFAULT 'ACTIVE' CHECK (link_status IN ('ACTIVE', 'BLOCKED')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT instrument_link_kind_hash_key UNIQUE (kind, instrument_hash)
);
CREATE INDEX instrument_link_participant_idx ON instrument_link (participant_id);

CREATE TABLE jht_posting (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  participant_id bigint      NOT NULL REFERENCES participant (id),
  kind           text        NOT NULL CHECK (kind IN ('CONTRIBUTION', 'DEVELOPMENT', 'CLAIM', 'CORRECTION')),
  amount_sen     bigint      NOT NULL CHECK (amount_sen <> 0),
  value_date     date        NOT NULL,
  -- The source system's identifier of the posting: loading the same batch twice posts nothing twice.
  source_ref     text        NOT NULL UNIQUE CHECK (length(source_ref) BETWEEN 1 AND 100),
  posted_at      timestamptz NOT NULL DEFAULT now(),
  CHECK (kind <> 'CONTRIBUTION' OR amount_sen > 0),
  CHECK (kind <> 'CLAIM' OR amount_sen < 0)
);
CREATE INDEX jht_posting_participant_idx ON jht_posting (participant_id, value_date);

CREATE TABLE jht_balance (
  participant_id bigint      PRIMARY KEY REFERENCES participant (id),
  balance_sen    bigint      NOT NULL CHECK (balance_sen >= 0),
  as_of          date,       -- NULL until the first posting
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- Every participant gets its balance row when registered, so that a posting only ever UPDATEs it: the
-- row lock serialises concurrent postings of one participant, and the CHECK sees the resulting balance.
-- (An INSERT ... ON CONFLICT DO UPDATE would check the CHECK against the posting's own amount first,
-- refusing any negative posting.)
CREATE FUNCTION participant_open_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO jht_balance (participant_id, balance_sen, as_of) VALUES (NEW.id, 0, NULL);
  RETURN NULL;
END
$$;

CREATE TRIGGER participant_open_balance
  AFTER INSERT ON participant
  FOR EACH ROW EXECUTE FUNCTION participant_open_balance();

-- Keeps jht_balance equal to the sum of the postings, in the posting's own transaction.
-- GREATEST ignores NULL, so the first posting sets as_of.
CREATE FUNCTION jht_posting_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE jht_balance
     SET balance_sen = balance_sen + NEW.amount_sen,
         as_of       = GREATEST(as_of, NEW.value_date),
         updated_at  = now()
   WHERE participant_id = NEW.participant_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'participant % has no jht_balance row', NEW.participant_id USING ERRCODE = 'JH003';
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER jht_posting_apply
  AFTER INSERT ON jht_posting
  FOR EACH ROW EXECUTE FUNCTION jht_posting_apply();

-- SQLSTATE JH001 lets callers recognise the refusal without parsing the message.
CREATE FUNCTION jht_posting_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'jht_posting is append-only: % refused, post a CORRECTION instead', TG_OP
    USING ERRCODE = 'JH001';
END
$$;

CREATE TRIGGER jht_posting_append_only
  BEFORE UPDATE OR DELETE ON jht_posting
  FOR EACH ROW EXECUTE FUNCTION jht_posting_reject_change();

CREATE TRIGGER jht_posting_no_truncate
  BEFORE TRUNCATE ON jht_posting
  FOR EACH STATEMENT EXECUTE FUNCTION jht_posting_reject_change();

-- Writes to jht_balance are legitimate only from the triggers above (trigger depth 2).
CREATE FUNCTION jht_balance_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'jht_balance is derived from jht_posting: % refused, insert a posting instead', TG_OP
      USING ERRCODE = 'JH002';
  END IF;
  IF TG_OP = 'DELETE' THEN
    RETURN OLD;
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER jht_balance_guard
  BEFORE INSERT OR UPDATE OR DELETE ON jht_balance
  FOR EACH ROW EXECUTE FUNCTION jht_balance_guard();

CREATE TRIGGER jht_balance_no_truncate
  BEFORE TRUNCATE ON jht_balance
  FOR EACH STATEMENT EXECUTE FUNCTION jht_balance_guard();

CREATE VIEW jht_balance_drift AS
SELECT p.id AS participant_id,
       b.balance_sen,
       coalesce(s.total_sen, 0) AS postings_sen,
       b.as_of,
       s.last_value_date
  FROM participant p
  LEFT JOIN jht_balance b ON b.participant_id = p.id
  LEFT JOIN (SELECT participant_id, sum(amount_sen)::bigint AS total_sen, max(value_date) AS last_value_date
               FROM jht_posting GROUP BY participant_id) s ON s.participant_id = p.id
 WHERE coalesce(b.balance_sen, 0) IS DISTINCT FROM coalesce(s.total_sen, 0)
    OR b.as_of IS DISTINCT FROM s.last_value_date;
