-- 010_journal_partitions: the journal becomes a table partitioned by month on received_at (UTC months).
--
-- At a million inquiries a day the journal grows by ~365 million rows a year. Partitions let retention drop a
-- month at once (DETACH + DROP: no row-by-row DELETE, no bloat, no vacuum debt) and keep each month's indexes
-- small. docs/deployment.md ("The journal's partitions") is the operator's procedure; in short:
-- * the table as it is becomes ONE partition, `journal_before_YYYY_MM`, FOR VALUES FROM (MINVALUE) TO (the
--   first of the month after this one, UTC): attached, not copied. Attaching needs a proof that every row is
--   below the bound. Without one, this migration adds the CHECK itself and PostgreSQL scans the table under
--   the ACCESS EXCLUSIVE lock the rename took. On a big journal the DBA adds the CHECK beforehand, online:
--     ALTER TABLE journal ADD CONSTRAINT journal_partition_bound CHECK (received_at < '<month start>+00') NOT VALID;
--     ALTER TABLE journal VALIDATE CONSTRAINT journal_partition_bound;  -- scans, but writers go on
--   and this migration then takes that bound and does not scan (catalog changes only, milliseconds).
-- * every column, default, CHECK and index the journal has at this point is carried over, whatever earlier
--   migrations added (LIKE, and each index re-created on the parent, where it adopts the partition's own);
-- * the primary key on id alone cannot exist on a partitioned table (a unique key must include received_at):
--   ids stay unique by their identity sequence, which continues where the old one stopped;
-- * grants move from the old table to the parent; partitions get none (everyone goes through `journal`).
--
-- Partitions are created ahead by `journal_ensure_partitions()`, the only DDL the switch may cause: it runs
-- as jht_owner (SECURITY DEFINER) and can do nothing but attach the next empty months. Dropping old months is
-- `jht-switch journal maintain`, with the owner's credentials (src/journal/partitions.ts).

-- The partitions of the journal and their bounds (MINVALUE is -infinity), for the functions below and
-- `journal maintain`. pg_get_expr prints the bounds as literals with their offset: casting them back is exact.
CREATE FUNCTION journal_partition_bounds()
  RETURNS TABLE (partition_name text, lower_bound timestamptz, upper_bound timestamptz, detach_pending boolean)
  LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT c.relname::text,
         CASE WHEN m[1] = 'MINVALUE' THEN '-infinity' ELSE btrim(m[1], '''') END::timestamptz,
         CASE WHEN m[2] = 'MAXVALUE' THEN 'infinity' ELSE btrim(m[2], '''') END::timestamptz,
         i.inhdetachpending
    FROM pg_inherits i
    JOIN pg_class c ON c.oid = i.inhrelid
    CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), '^FOR VALUES FROM \((.*)\) TO \((.*)\)$') AS m
   WHERE i.inhparent = 'public.journal'::regclass
$$;

-- Attaches an empty partition for each month from `first_month` for `months` months that no partition covers
-- yet; returns the end of what the partitions cover. Created standalone, then ATTACHed: ATTACH PARTITION takes
-- SHARE UPDATE EXCLUSIVE on the journal, which inserts and reads do not wait for (CREATE TABLE ... PARTITION
-- OF would take ACCESS EXCLUSIVE). The lock timeout keeps it from queueing the switch's inserts behind it
-- for long if some other DDL holds the table; the next run tries again.
CREATE FUNCTION journal_create_partitions(first_month date, months integer) RETURNS timestamptz
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp SET lock_timeout = '5s' AS $$
DECLARE
  covered timestamptz;
  lower_bound timestamptz;
  upper_bound timestamptz;
  name text;
BEGIN
  IF months NOT BETWEEN 1 AND 24 THEN
    RAISE EXCEPTION 'journal partitions: % months ahead is out of range (1 to 24)', months USING ERRCODE = '22023';
  END IF;
  SELECT max(b.upper_bound) INTO covered FROM journal_partition_bounds() b;
  FOR step IN 0 .. months - 1 LOOP
    lower_bound := (first_month + make_interval(months => step))::timestamp AT TIME ZONE 'UTC';
    upper_bound := (first_month + make_interval(months => step + 1))::timestamp AT TIME ZONE 'UTC';
    CONTINUE WHEN covered IS NOT NULL AND lower_bound < covered;
    name := 'journal_' || to_char(lower_bound AT TIME ZONE 'UTC', 'YYYY_MM');
    -- Qualified: the search path starts with pg_catalog, where nothing may be created.
    EXECUTE format('CREATE TABLE public.%I (LIKE public.journal INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE '
                   'INCLUDING COMPRESSION) WITH (autovacuum_analyze_threshold = 1000, '
                   'autovacuum_analyze_scale_factor = 0.05)', name);  -- the journal's settings of migration 003
    EXECUTE format('ALTER TABLE public.journal ATTACH PARTITION public.%I FOR VALUES FROM (%L) TO (%L)', name, lower_bound, upper_bound);
    covered := upper_bound;
  END LOOP;
  RETURN covered;
END
$$;

-- What the switch runs at start and daily: this month and the next three, once across all instances. It takes
-- no argument, so a switch (or whoever holds its credentials) can only ever make the partitions the calendar
-- calls for. Returns the end of what the partitions cover.
CREATE FUNCTION journal_ensure_partitions() RETURNS timestamptz
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  -- "jht" + "part" on a phone keypad; transaction-scoped, so it cannot outlive a failed call.
  PERFORM pg_advisory_xact_lock(5487278);
  RETURN journal_create_partitions(date_trunc('month', now() AT TIME ZONE 'UTC')::date, 4);
END
$$;

REVOKE ALL ON FUNCTION journal_partition_bounds(), journal_create_partitions(date, integer),
  journal_ensure_partitions() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION journal_ensure_partitions() TO jht_switch;

DO $$
DECLARE
  pre_validated text;
  bound timestamptz;
  legacy text;
  last_id bigint;
  id_called boolean;
  index_definitions text[];
  definition text;
  item record;
BEGIN
  SELECT pg_get_constraintdef(oid) INTO pre_validated FROM pg_constraint
   WHERE conrelid = 'public.journal'::regclass AND conname = 'journal_partition_bound' AND convalidated;
  IF pre_validated IS NOT NULL THEN
    bound := (regexp_match(pre_validated, '^CHECK \(\(received_at < ''([^'']+)''::timestamp with time zone\)\)$'))[1]::timestamptz;
    IF bound IS NULL OR bound <> date_trunc('month', bound AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' THEN
      RAISE EXCEPTION 'journal_partition_bound must be CHECK (received_at < <the first of a month, UTC>), found %', pre_validated
        USING ERRCODE = '22023';
    END IF;
  ELSE
    bound := (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
  END IF;
  legacy := 'journal_before_' || to_char(bound AT TIME ZONE 'UTC', 'YYYY_MM');
  EXECUTE format('ALTER TABLE journal RENAME TO %I', legacy);

  -- Its indexes but the primary key are re-created on the parent under their names: all are renamed out of
  -- the way first (the primary key stays on this partition only, as journal_before_YYYY_MM_pkey).
  SELECT coalesce(array_agg(pg_get_indexdef(x.indexrelid)), '{}') INTO index_definitions
    FROM pg_index x WHERE x.indrelid = legacy::regclass AND NOT x.indisprimary;
  FOR item IN SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
               WHERE x.indrelid = legacy::regclass LOOP
    EXECUTE format('ALTER INDEX %I RENAME TO %I', item.relname,
                   left(legacy || '_' || regexp_replace(item.relname, '^journal_', ''), 63));
  END LOOP;

  EXECUTE format('CREATE TABLE journal (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING IDENTITY '
                 'INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION INCLUDING COMMENTS) '
                 'PARTITION BY RANGE (received_at)', legacy);
  ALTER TABLE journal DROP CONSTRAINT IF EXISTS journal_partition_bound;

  -- One identity for the whole journal: the parent's, continuing from the old sequence, under its old name.
  EXECUTE format('SELECT last_value, is_called FROM %s', pg_get_serial_sequence(legacy, 'id')) INTO last_id, id_called;
  EXECUTE format('ALTER TABLE %I ALTER COLUMN id DROP IDENTITY', legacy);
  EXECUTE format('ALTER SEQUENCE %s RENAME TO journal_id_seq', pg_get_serial_sequence('journal', 'id'));
  PERFORM setval('journal_id_seq', last_id, id_called);

  IF pre_validated IS NULL THEN
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT journal_partition_bound CHECK (received_at < %L)', legacy, bound);
  END IF;
  EXECUTE format('ALTER TABLE journal ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)', legacy, bound);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT journal_partition_bound', legacy);

  -- Each index on the parent adopts the old table's equivalent one instead of building another.
  FOREACH definition IN ARRAY index_definitions LOOP
    EXECUTE regexp_replace(definition, ' ON public\.\S+ USING ', ' ON public.journal USING ');
  END LOOP;

  -- The grants move to the parent, table and column ones alike; the partition keeps none.
  FOR item IN SELECT a.grantee::regrole::text AS grantee, a.privilege_type
                FROM pg_class c, aclexplode(c.relacl) a
               WHERE c.oid = legacy::regclass AND a.grantee <> c.relowner AND a.grantee <> 0 LOOP
    EXECUTE format('GRANT %s ON journal TO %I', item.privilege_type, item.grantee);
  END LOOP;
  FOR item IN SELECT t.attname, a.grantee::regrole::text AS grantee, a.privilege_type
                FROM pg_attribute t, aclexplode(t.attacl) a
               WHERE t.attrelid = legacy::regclass AND a.grantee <> 0 LOOP
    EXECUTE format('GRANT %s (%I) ON journal TO %I', item.privilege_type, item.attname, item.grantee);
  END LOOP;
  EXECUTE format('REVOKE ALL ON %I FROM PUBLIC, jht_switch, jht_importer, jht_support', legacy);

  -- The months after the old table's, through three months ahead.
  PERFORM journal_ensure_partitions();
END
$$;
