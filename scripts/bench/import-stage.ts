/**
 * The importer's first step alone, by hand: `npm run bench:import-stage -- N [--runs 3]`. Reads, checks, hashes
 * and encodes for COPY the participants, links and openings files of bench:scale (N participants), without a
 * database, in this thread only and with the staging pool (stage-pool.ts, `--workers`), alternately, and
 * prints wall time, CPU time (every thread) and rows/s for each, with the ratio of the medians.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { FILE_KINDS } from '../../src/ledger/import/file-kinds.js';
import { DEFAULT_STAGE_WORKERS } from '../../src/ledger/import/stage-pool.js';
import { FileStaging } from '../../src/ledger/import/staged-chunks.js';
import { DataKey } from '../../src/security/keys/index.js';
import { writeScaleFiles } from './scale-files.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '3' }, workers: { type: 'string' } } });
const n = Number(positionals[0] ?? 200_000);
const runs = Number(values.runs);
/** The pool's size: `--workers`, or the importer's default, at least 1 (the default is 0 on 2 cores). */
const poolSize = Number(values.workers ?? Math.max(1, DEFAULT_STAGE_WORKERS));
const key = new DataKey(randomBytes(32));
const workDir = await mkdtemp(path.join(os.tmpdir(), 'jht-stage-'));
const files = await writeScaleFiles(workDir, n, 1);

async function timed(kind: keyof typeof FILE_KINDS, file: string, workers: number): Promise<{ wallMs: number; cpuMs: number; rows: number }> {
  let errors = 0;
  const staging = new FileStaging(FILE_KINDS[kind], { current: key }, () => void (errors += 1), undefined, workers);
  const cpu = process.cpuUsage();
  const started = performance.now();
  let bytes = 0;
  try {
    for await (const chunk of staging.chunks(createReadStream(file))) bytes += chunk.length;
  } finally {
    await staging.close();
  }
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  if (errors > 0 || bytes === 0) throw new Error(`${kind}: ${errors} errors, ${bytes} bytes`);
  return { wallMs, cpuMs: (used.user + used.system) / 1000, rows: staging.rows };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
process.stdout.write(`import staging, N=${n}, ${runs} alternating runs, ${os.availableParallelism()} cores, pool of ${poolSize} (importer default ${DEFAULT_STAGE_WORKERS}), ` +
  `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
try {
  for (const [kind, file] of [['participants', files.participants], ['links', files.links], ['postings', files.openings]] as const) {
    const wall: Record<'inline' | 'pool', number[]> = { inline: [], pool: [] };
    const cpu: Record<'inline' | 'pool', number[]> = { inline: [], pool: [] };
    let rows = 0;
    for (let i = 0; i < runs; i += 1) {
      for (const [name, workers] of [['inline', 0], ['pool', poolSize]] as const) {
        const result = await timed(kind, file, workers);
        wall[name].push(result.wallMs);
        cpu[name].push(result.cpuMs);
        rows = result.rows;
      }
    }
    const line = (name: 'inline' | 'pool'): string =>
      `${(median(wall[name]) / 1000).toFixed(2)} s wall (${Math.round(rows / (median(wall[name]) / 1000))} rows/s), ${(median(cpu[name]) / 1000).toFixed(2)} s CPU`;
    process.stdout.write(`  ${kind.padEnd(12)} ${rows} rows: inline ${line('inline')} | pool ${line('pool')} | ` +
      `wall pool/inline ${(median(wall.pool) / median(wall.inline)).toFixed(2)}\n`);
  }
  process.stdout.write(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
} finally {
  await rm(workDir, { recursive: true, force: true });
}
