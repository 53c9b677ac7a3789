/**
 * What the switch allocates per inquiry, and what garbage collection costs it. The switch runs in this
 * process (default configuration, logs at info to /dev/null, embedded PostgreSQL in a temporary directory); `jht-switch load` drives
 * it from a process of its own at a fixed rate. A first run times the young-generation collections (a
 * PerformanceObserver); a second attributes allocations to functions with V8's sampling heap profiler, told
 * to keep the objects collections free (it slows collections down, hence the separate runs).
 * Run by hand:
 *
 *   node --import tsx scripts/bench/alloc-profile.ts [--rate 2000] [--duration 5] [--top 20]
 */
import { createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import os from 'node:os';
import path from 'node:path';
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSwitch } from '../../src/channels/atm/jht-switch.js';
import { freePort, runLoadProcess } from './processes.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '5' },
    top: { type: 'string', default: '20' },
  },
});

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

const ROOT_URL = new URL('../../', import.meta.url).href;

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'} ${url.replace(ROOT_URL, '') || '(native)'}:${lineNumber + 1}`;
}

/** Bytes by allocating function, and by the innermost frame of the project's own code above it. */
function attribute(head: ProfileNode): { total: number; bySelf: Map<string, number>; byProjectFrame: Map<string, number> } {
  const bySelf = new Map<string, number>();
  const byProjectFrame = new Map<string, number>();
  let total = 0;
  const walk = (node: ProfileNode, projectFrame: string): void => {
    const name = frameName(node);
    const frame = name.includes(' src/') ? name : projectFrame;
    if (node.selfSize > 0) {
      total += node.selfSize;
      bySelf.set(name, (bySelf.get(name) ?? 0) + node.selfSize);
      byProjectFrame.set(frame, (byProjectFrame.get(frame) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, frame);
  };
  walk(head, '(outside the project)');
  return { total, bySelf, byProjectFrame };
}

function printTop(title: string, bytes: Map<string, number>, inquiries: number): void {
  process.stdout.write(`${title}\n`);
  const top = [...bytes].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
  for (const [name, size] of top) process.stdout.write(`  ${(size / inquiries).toFixed(0).padStart(7)} B/inquiry  ${name}\n`);
}

const workDir = await mkdtemp(path.join(os.tmpdir(), 'jht-alloc-'));
await chmod(workDir, 0o755); // as root, the embedded postgres runs as another user
const port = await freePort();
const defaults = loadConfig({ env: {}, overrides: { host: '127.0.0.1', port, dataDir: path.join(workDir, 'pg') } });
// Logging at info as deployed, so pino's share is counted; the lines themselves go nowhere.
const log = createLogger({ level: 'info', destination: createWriteStream('/dev/null') });
const running = await startSwitch({ ...defaults, database: { ...defaults.database, embeddedPort: await freePort() } }, log);
const session = new Session();
session.connect();
const pauses: number[] = [];
const gc = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
    if (detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) pauses.push(entry.duration);
  }
});
try {
  const load = ['--port', String(port), '--connections', '4', '--rate', values.rate];
  await runLoadProcess([...load, '--duration', '2']); // warm-up: JIT, connections, prepared statements
  gc.observe({ entryTypes: ['gc'] });
  const timed = await runLoadProcess([...load, '--duration', values.duration]);
  gc.disconnect();
  await session.post('HeapProfiler.enable');
  // Without these two, the profile only keeps objects still alive when it stops: not what is allocated.
  const sampling = { samplingInterval: 1024, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true };
  await session.post('HeapProfiler.startSampling', sampling as unknown as Parameters<Session['post']>[1]);
  const report = await runLoadProcess([...load, '--duration', values.duration]);
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  const inquiries = report.answered + report.warmup.answered;
  const { total, bySelf, byProjectFrame } = attribute(profile.head);
  pauses.sort((a, b) => a - b);
  const at = (q: number): string => (pauses[Math.min(pauses.length - 1, Math.floor(q * pauses.length))] ?? 0).toFixed(2);
  process.stdout.write(`${inquiries} inquiries at ${values.rate}/s: ${(total / inquiries / 1024).toFixed(1)} KB allocated per inquiry\n`);
  process.stdout.write(`young-generation collections: ${pauses.length} in ${timed.generator.elapsedS.toFixed(1)} s, ` +
    `pause p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms\n\n`);
  printTop('by allocating function:', bySelf, inquiries);
  printTop('\nby the innermost project function above it:', byProjectFrame, inquiries);
} finally {
  session.disconnect();
  await running.stop();
  await rm(workDir, { recursive: true, force: true });
}
