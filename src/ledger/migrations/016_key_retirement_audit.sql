-- 016_key_retirement_audit: `jht-switch keys retire` is journaled with the operator's uid (SECURITY.md, "Audit").
--
-- Why:
-- * Retiring a data key is an operator action on key material's life cycle (PCI DSS 3.6/3.7, 10.2.2): who
--   retired which key and when must be on record, as `link_change` records the support commands.
-- * A table of its own, insert-only for the importer: data_key.retired_at is cleared again when a retired key
--   writes once more (registerDataKey), and the record of the earlier retirement must outlive that.
-- * No key material: the key id (an HMAC, src/security/keys/data-key.ts) names the key.

CREATE TABLE data_key_retirement (
  key_id       text        NOT NULL REFERENCES data_key (key_id),
  retired_at   timestamptz NOT NULL DEFAULT now(),
  operator_uid integer     NOT NULL,
  -- SUDO_UID as the operator's environment claimed it: recorded beside the real uid, never instead of it.
  sudo_uid     text        CHECK (sudo_uid ~ '^[0-9]{1,10}$'),
  PRIMARY KEY (key_id, retired_at)
);

REVOKE ALL ON data_key_retirement FROM PUBLIC;
GRANT SELECT, INSERT ON data_key_retirement TO jht_importer;
GRANT SELECT ON data_key_retirement TO jht_support;
