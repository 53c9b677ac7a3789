import type { Command } from 'commander';
import type { Pool } from 'pg';
import { databaseUrlProblem } from '../config/database-url.js';
import { loadConfig } from '../config/load-config.js';
import { createPool, dataKeyUsage, readDeployment, retireDataKey, type DataKeyUsage } from '../ledger/index.js';
import { currentOperator } from '../ledger/operator.js';
import { createLogger } from '../observability/logger.js';
import { DEVELOPMENT_KEY_ID, KEY_PURPOSES, readConfiguredKeys, type KeyPurpose, type KeyRing } from '../security/keys/index.js';
import { CliError } from './cli-error.js';

interface KeysOptions {
  config?: string;
  databaseUrl?: string;
  json?: boolean;
}

type KeyRole = 'current' | 'previous' | 'verify-only' | 'not held';

/** One line of `keys status`: ids, check values and counts, never key material. */
export interface KeyStatusRow {
  id: string;
  role: KeyRole;
  /** The public development key: the embedded demo's, protecting nothing. */
  development?: true;
  /** Per purpose; empty for a key registered in the database that this process does not hold. */
  checkValues: Partial<Record<KeyPurpose, string>>;
  /** Undefined without a database to ask. */
  database?: { registered: boolean; retired: boolean; links: number };
}

/** The held keys by role, then the registered keys nobody here holds. */
export function keyStatus(ring: KeyRing, usage: readonly DataKeyUsage[] | undefined): KeyStatusRow[] {
  const held: [KeyRole, KeyRing['current']][] = [
    ['current', ring.current],
    ...(ring.previous ? [['previous', ring.previous] as [KeyRole, KeyRing['current']]] : []),
    ...ring.verifyOnly.map((key) => ['verify-only', key] as [KeyRole, KeyRing['current']]),
  ];
  const byId = new Map(usage?.map((row) => [row.keyId, row]));
  const dbOf = (id: string): KeyStatusRow['database'] => {
    if (!usage) return undefined;
    const row = byId.get(id);
    return { registered: row !== undefined, retired: row?.retiredAt != null, links: row?.links ?? 0 };
  };
  const rows: KeyStatusRow[] = held.map(([role, key]) => ({
    id: key.id,
    role,
    ...(key.id === DEVELOPMENT_KEY_ID ? { development: true as const } : {}),
    checkValues: Object.fromEntries(KEY_PURPOSES.map((purpose) => [purpose, key.checkValue(purpose)])),
    ...(usage ? { database: dbOf(key.id) } : {}),
  }));
  for (const row of usage ?? []) {
    if (!ring.byId(row.keyId)) rows.push({ id: row.keyId, role: 'not held', checkValues: { instrument: row.checkValue }, database: dbOf(row.keyId) });
  }
  return rows;
}

function formatStatus(rows: readonly KeyStatusRow[]): string {
  const header = ['id', 'role', ...KEY_PURPOSES, 'database', 'links'];
  const lines = rows.map((row) => [
    row.id, row.development ? `${row.role} (development key)` : row.role, ...KEY_PURPOSES.map((purpose) => row.checkValues[purpose] ?? '-'),
    row.database ? (row.database.registered ? (row.database.retired ? 'retired' : 'registered') : 'not registered') : '(no database)',
    row.database ? String(row.database.links) : '-',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)));
  return [header, ...lines].map((line) => line.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/**
 * `jht-switch keys status | retire <id>` (SECURITY.md, "Key rotation"). Both read the data keys as `serve`
 * does and talk to the database given by --database-url or DATABASE_URL: status as the switch or support
 * role (reads data_key and counts links), retire as the importer role. Without a database, status shows
 * the keys held only.
 */
export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('the data keys: ids, check values, rotation (never the keys)');
  const common = (command: Command): Command => command
    .option('-c, --config <file>', 'configuration, JSON or YAML (or JHT_CONFIG): where the data keys are')
    .option('--database-url <url>', 'the database (or DATABASE_URL)');

  common(keys.command('status'))
    .description("each data key's id, role and check value per purpose; registered here, and its link count")
    .option('--json', 'print JSON')
    .action(async (options: KeysOptions) => {
      const { configured, url } = prepare(options);
      const pool = url ? open(url) : undefined;
      try {
        const deployment = pool ? await readDeployment(pool) : 'demo';
        // An external database is real whatever its marker says: the development key is shown for the demo only.
        const ring = configured.ringFor(pool ? 'real' : deployment);
        const rows = keyStatus(ring, pool ? await dataKeyUsage(pool) : undefined);
        process.stdout.write(options.json ? `${JSON.stringify(rows, null, 2)}\n` : formatStatus(rows));
      } finally {
        await pool?.end();
      }
    });

  common(keys.command('retire'))
    .description('mark a data key retired once no link uses it (the importer role): switches then start without it')
    .argument('<id>', 'the key id, as `keys status` shows it')
    .action(async (id: string, options: KeysOptions) => {
      if (!/^[0-9a-f]{8}$/.test(id)) throw new CliError('a key id is 8 lower-case hex digits, as `jht-switch keys status` shows it');
      const { url } = prepare(options);
      if (!url) throw new CliError('keys retire needs the database: --database-url or DATABASE_URL (the importer role)');
      const pool = open(url);
      try {
        const operator = currentOperator();
        const retired = await retireDataKey(pool, id, operator);
        process.stdout.write(retired ? `data key ${id} retired (journaled, uid ${operator.uid}): no link uses it; keep it as a verify-only key for the 3 days of request digests\n` : `data key ${id} was retired already\n`);
      } finally {
        await pool.end();
      }
    });
}

function prepare(options: KeysOptions): { configured: ReturnType<typeof readConfiguredKeys>; url: string | undefined } {
  const config = loadConfig({ file: options.config });
  const url = options.databaseUrl ?? config.database.url;
  const problem = url ? databaseUrlProblem(url) : undefined;
  if (problem) throw new CliError(`--database-url: ${problem}`);
  return { configured: readConfiguredKeys(config.keys), url };
}

function open(url: string): Pool {
  return createPool({ connectionString: url }, { max: 1 }, createLogger({ level: 'warn', destination: process.stderr }));
}
