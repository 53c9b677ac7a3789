-- Duplicate detection and the transaction journal (src/journal/).
-- Neither table ever holds a clear PAN: txn_key stores an HMAC of the request, journal a masked PAN.

-- One row per (acquirer 32, STAN 11, transmission date/time 7, terminal 41): the key ISO 8583 uses to
-- recognise a repeat. The unique constraint is what makes detection hold across switch instances
-- sharing this database; the switch claims a key with INSERT ... ON CONFLICT DO NOTHING.
CREATE TABLE txn_key (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- Field 32 without leading zeros, so it matches the zero-padded acquirer inside field 90.
  acquirer_id     text        NOT NULL,
  stan            text        NOT NULL,
  -- Field 7 as sent, MMDDhhmmss: it has no year, so keys must be pruned long before they can recur.
  transmission_at text        NOT NULL,
  -- Field 41 as sent, padding included.
  terminal_id     text        NOT NULL,
  -- HMAC-SHA256 of the request with the repeat digit of the MTI normalised: same digest = retransmission,
  -- different digest = duplicate (94).
  request_digest  bytea       NOT NULL CHECK (octet_length(request_digest) = 32),
  mti             text        NOT NULL,
  instance_id     text        NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- The answer, kept so a retransmission gets it again. Only what the response adds: the echoed fields
  -- are rebuilt from the (byte-identical) retransmitted request, which keeps the PAN out of this table.
  response_code   text,
  response_54     text,
  response_48     text,
  responded_at    timestamptz,
  -- Set by a reversal advice (0420/0421) naming this transaction in its field 90.
  reversed_at     timestamptz,
  reversal_ref    text,
  CONSTRAINT txn_key_iso_key UNIQUE (acquirer_id, stan, transmission_at, terminal_id)
);

-- Pruning deletes by age; rows arrive in time order, so a BRIN index is enough and costs little per insert.
CREATE INDEX txn_key_created_at ON txn_key USING brin (created_at);

-- One row per message the switch received (and the answer it gave, if any). Append-only.
CREATE TABLE journal (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- request | retransmission | duplicate | reversal | network | format-error | ... (see JournalKind).
  kind               text        NOT NULL,
  partner_id         text,
  request_mti        text,
  response_mti       text,
  stan               text,          -- 11
  transmission_at    text,          -- 7, MMDDhhmmss as sent
  terminal_id        text,          -- 41
  rrn                text,          -- 37
  acquirer_id        text,          -- 32
  masked_pan         text,          -- 2, first 6 + last 4 only
  processing_code    text,          -- 3
  response_code      text,          -- 39
  received_at        timestamptz NOT NULL,
  responded_at       timestamptz,
  latency_us         integer,
  -- The txn_key row this message was matched to: its own claim for a request, the original's for a
  -- retransmission, a duplicate or a reversal. No foreign key: keys are pruned sooner than the journal.
  txn_key_id         bigint,
  connection_id      text,
  remote_address     text,
  instance_id        text        NOT NULL,
  CONSTRAINT journal_masked_pan_has_no_clear_pan CHECK (masked_pan IS NULL OR masked_pan !~ '[0-9]{7}')
);

-- What an operator asks: "what happened between 10:02 and 10:05", "find STAN 123456", "find RRN ...",
-- "everything about this transaction".
CREATE INDEX journal_received_at ON journal USING brin (received_at);
CREATE INDEX journal_stan ON journal (stan, received_at);
CREATE INDEX journal_rrn ON journal (rrn) WHERE rrn IS NOT NULL;
CREATE INDEX journal_terminal ON journal (terminal_id, received_at);
CREATE INDEX journal_txn_key ON journal (txn_key_id) WHERE txn_key_id IS NOT NULL;
