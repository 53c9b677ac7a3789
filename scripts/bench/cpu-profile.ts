/**
 * Where a process spent its CPU, from a V8 .cpuprofile (node --cpu-prof): self time by area of the code
 * and by function. Used by e2e.ts --cpu-prof, or by hand:
 *
 *   node --import tsx scripts/bench/cpu-profile.ts FILE.cpuprofile [--top 30]
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface CpuShare {
  readonly name: string;
  readonly ms: number;
  readonly percent: number;
}

export interface CpuSummary {
  readonly totalMs: number;
  /** Time not idle: what the process actually used. */
  readonly busyMs: number;
  readonly byArea: CpuShare[];
  readonly byFunction: CpuShare[];
  /** Time with the function anywhere on the stack (callees included), for the project's own code. */
  readonly inclusive: CpuShare[];
}

/** The part of the code a frame belongs to: a directory of src/, a package, node itself, or V8's pseudo-frames. */
function areaOf(url: string, functionName: string): string {
  if (url === '') return `(${functionName.replace(/[()]/g, '') || 'native'})`;
  const src = /\/src\/([^/]+)\//.exec(url);
  if (src) return `src/${src[1]}`;
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  return url.replace(/^file:\/\//, '');
}

function shares(times: Map<string, number>, busyMs: number, top: number): CpuShare[] {
  return [...times]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, ms]) => ({ name, ms: Math.round(ms), percent: Math.round((1000 * ms) / busyMs) / 10 }));
}

export function summarize(profile: CpuProfile, top = 25): CpuSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfMs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i: charge it to that sample's node.
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of selfMs) {
    const { functionName, url } = byId.get(id)!.callFrame;
    totalMs += ms;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const fn = frameName(byId.get(id)!);
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  return {
    totalMs: Math.round(totalMs), busyMs: Math.round(busyMs),
    byArea: shares(areas, busyMs, top), byFunction: shares(functions, busyMs, top),
    inclusive: shares(inclusiveTimes(profile, selfMs), busyMs, top),
  };
}

function frameName(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url === '' ? '' : ` ${url.replace(/^.*\/(src|node_modules)\//, '$1/')}:${lineNumber + 1}`;
  return `${functionName || '(anonymous)'}${where}`;
}

/** Each sample's time goes to every distinct src/ function on its stack. */
function inclusiveTimes(profile: CpuProfile, selfMs: ReadonlyMap<number, number>): Map<string, number> {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const times = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at)!;
      if (!node.callFrame.url.includes('/src/')) continue;
      const name = frameName(node);
      if (seen.has(name)) continue;
      seen.add(name);
      times.set(name, (times.get(name) ?? 0) + ms);
    }
  }
  return times;
}

export function formatSummary(s: CpuSummary): string {
  const row = (c: CpuShare): string => `  ${c.percent.toFixed(1).padStart(5)} %  ${String(c.ms).padStart(7)} ms  ${c.name}`;
  return [
    `CPU profile: ${s.busyMs} ms busy of ${s.totalMs} ms (${((100 * s.busyMs) / Math.max(1, s.totalMs)).toFixed(0)} %); self time, share of busy`,
    'by area:', ...s.byArea.map(row),
    'by function:', ...s.byFunction.map(row),
    'project code, inclusive (callees included):', ...s.inclusive.map(row),
  ].join('\n');
}

export async function summarizeFile(file: string, top?: number): Promise<CpuSummary> {
  return summarize(JSON.parse(await readFile(file, 'utf8')) as CpuProfile, top);
}

/** node writes one profile per thread (tsx's loader has one): the main thread is the busiest. */
export async function mainThreadProfile(dir: string): Promise<{ file: string; summary: CpuSummary } | undefined> {
  let busiest: { file: string; summary: CpuSummary } | undefined;
  for (const name of (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'))) {
    const file = path.join(dir, name);
    const summary = await summarizeFile(file);
    if (!busiest || summary.busyMs > busiest.summary.busyMs) busiest = { file, summary };
  }
  return busiest;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  if (positionals.length !== 1) {
    process.stderr.write('usage: cpu-profile.ts FILE.cpuprofile [--top N]\n');
    process.exit(2);
  }
  process.stdout.write(`${formatSummary(await summarizeFile(positionals[0]!, Number(values.top)))}\n`);
}
