-- 005_deployment: is this database the embedded demo, or real data?
--
-- The public development card key, demo tokens and the demo seed are acceptable only on the embedded demo:
-- a fresh embedded cluster holding nothing but the contract's demo data (specs/demo/). That fact lives in
-- the database itself, not in a flag a caller could pass, so every process that opens the database (the
-- switch, the CLI's data commands) reaches the same verdict. One row:
-- * kind 'demo' is written only in the transaction that seeds the demo data into an empty embedded cluster;
-- * kind 'real' is written by anything else that brings data (an import, an external database), and it is
--   final: the trigger refuses to turn a real database back into a demo.
-- No row yet means nothing has decided (a migration run on its own): treated as real by every reader.

CREATE TABLE deployment (
  singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  kind       text        NOT NULL CHECK (kind IN ('demo', 'real')),
  reason     text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 200),
  changed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION deployment_stays_real() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.kind = 'real' AND NEW.kind = 'demo' THEN
    RAISE EXCEPTION 'this database holds real data: it cannot become the demo again' USING ERRCODE = 'JH004';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER deployment_stays_real
  BEFORE UPDATE ON deployment
  FOR EACH ROW EXECUTE FUNCTION deployment_stays_real();

CREATE FUNCTION deployment_no_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the deployment marker cannot be removed (% refused)', TG_OP USING ERRCODE = 'JH004';
END
$$;

CREATE TRIGGER deployment_no_delete
  BEFORE DELETE OR TRUNCATE ON deployment
  FOR EACH STATEMENT EXECUTE FUNCTION deployment_no_delete();
