-- 007_roles: roles by duty (SECURITY.md, "Database roles"; docs/database.md).
--
-- Four NOLOGIN group roles; people and processes log in as users that are members of one of them:
-- * jht_owner    owns every table, view, sequence and function: migrations only (`jht-switch migrate`);
-- * jht_switch   the running switch: reads the ledger, claims keys, stores answers, marks reversals,
--                prunes keys, writes the journal, and nothing else;
-- * jht_importer the data commands: participants, links, postings, the deployment marker;
-- * jht_support  read-only.
-- None of them is a superuser, so none can disable the ledger's append-only triggers (only an owner can),
-- set session_replication_role, read server files (pg_read_binary_file) or run COPY ... PROGRAM.
--
-- Group roles are cluster-wide: they are created here only when missing, which needs CREATEROLE; on a
-- server where the migrating user may not create roles, the DBA creates them first (docs/database.md).
-- Every grant is explicit, table by table: a later migration that adds a table grants on it too, and the
-- test "every relation is covered" (test/ledger-roles.test.ts) fails until SECURITY.md and the grants agree.

DO $$
DECLARE
  name text;
BEGIN
  FOREACH name IN ARRAY ARRAY['jht_owner', 'jht_switch', 'jht_importer', 'jht_support'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
      EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', name);
    END IF;
  END LOOP;
END
$$;

-- The owner of what 001-006 created (whoever ran them: the embedded cluster's superuser) becomes jht_owner.
-- ALTER TABLE also moves the table's identity sequences. Later migrations run as jht_owner (migrate.ts).
DO $$
DECLARE
  item record;
BEGIN
  FOR item IN
    SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
       AND c.relowner <> 'jht_owner'::regrole
  LOOP
    EXECUTE format(CASE item.relkind WHEN 'v' THEN 'ALTER VIEW %I OWNER TO jht_owner'
                                     WHEN 'm' THEN 'ALTER MATERIALIZED VIEW %I OWNER TO jht_owner'
                                     ELSE 'ALTER TABLE %I OWNER TO jht_owner' END, item.relname);
  END LOOP;
  FOR item IN
    SELECT p.oid::regprocedure AS signature FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'public' AND p.proowner <> 'jht_owner'::regrole
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO jht_owner', item.signature);
  END LOOP;
END
$$;

-- The balance projection is written by triggers only; running them as their owner means no role needs a
-- write privilege on jht_balance (the guard trigger still refuses any direct write).
ALTER FUNCTION participant_open_balance() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION jht_posting_apply() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;

-- The database and its schema: connecting only through a role, no temporary tables, no CREATE but the owner's.
-- (On a server where the migrating user does not own the database, these print a warning and the DBA's
-- script in docs/database.md does the same.)
DO $$
BEGIN
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO jht_owner, jht_switch, jht_importer, jht_support', current_database());
END
$$;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO jht_owner;
GRANT USAGE ON SCHEMA public TO jht_switch, jht_importer, jht_support;

-- Nothing by default: then exactly the grants below (the table in SECURITY.md).
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, jht_switch, jht_importer, jht_support;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC, jht_switch, jht_importer, jht_support;

-- The switch: each privilege is used by a statement in src/ledger or src/journal (SECURITY.md names them).
GRANT SELECT ON schema_migrations, deployment, participant, instrument_link, jht_balance TO jht_switch;
GRANT SELECT, INSERT, DELETE ON txn_key TO jht_switch;
GRANT UPDATE (reversed_at, reversal_ref, instance_id) ON txn_key TO jht_switch;
GRANT SELECT, INSERT, DELETE ON txn_answer TO jht_switch;
GRANT INSERT ON journal TO jht_switch;

-- The importer: loads participants, links and postings (postings append-only), and marks the data real.
GRANT SELECT ON schema_migrations, jht_balance, jht_balance_drift TO jht_importer;
GRANT SELECT, INSERT, UPDATE ON deployment TO jht_importer;
GRANT SELECT, INSERT ON participant, instrument_link, jht_posting TO jht_importer;
GRANT UPDATE (name, membership_status) ON participant TO jht_importer;
GRANT UPDATE (link_status) ON instrument_link TO jht_importer;

-- Support: reads everything, changes nothing.
GRANT SELECT ON schema_migrations, deployment, participant, instrument_link, jht_posting, jht_balance,
  jht_balance_drift, txn_key, txn_answer, journal TO jht_support;
