import type { Pool, PoolClient } from 'pg';

/**
 * The demo marker (migration 005_deployment.sql): whether this database is the embedded demo or holds real
 * data. Security decisions that are relaxed for the demo (the public development data key, the development
 * token issuer, seeding demo cards) ask {@link readDeployment}; everything that brings real data calls
 * {@link markReal}, which is final.
 */

export type DeploymentKind = 'demo' | 'real';

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** 'demo' only when the marker says so; no marker yet counts as real (fail closed). */
export async function readDeployment(db: Queryable): Promise<DeploymentKind> {
  const { rows } = await db.query<{ kind: DeploymentKind }>('SELECT kind FROM deployment');
  return rows[0]?.kind ?? 'real';
}

/** True when nothing has decided yet: a cluster that was just created (or migrated before 005 existed). */
export async function deploymentUndecided(db: Queryable): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM deployment');
  return rows.length === 0;
}

/** Sets the demo marker; only in the transaction that seeds the demo into an undecided embedded cluster. */
export async function markDemo(db: Queryable, reason: string): Promise<void> {
  await db.query(`INSERT INTO deployment (kind, reason) VALUES ('demo', $1) ON CONFLICT (singleton) DO NOTHING`, [reason]);
}

/** Clears the demo marker for good: this database now holds (or may hold) real data. */
export async function markReal(db: Queryable, reason: string): Promise<void> {
  await db.query(
    `INSERT INTO deployment (kind, reason) VALUES ('real', $1)
     ON CONFLICT (singleton) DO UPDATE SET kind = 'real', reason = EXCLUDED.reason, changed_at = now()
     WHERE deployment.kind <> 'real'`,
    [reason],
  );
}
