/**
 * Tiny measurement helpers for the hand-run benchmarks: median of repeated batches (robust on a noisy
 * 2-core machine), and heap bytes allocated per operation measured across a batch with GC held off.
 */
export interface Measurement {
  medianNs: number;
  p10Ns: number;
  p90Ns: number;
  bytesPerOp: number | undefined;
}

declare const gc: (() => void) | undefined;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export function measure(operation: () => void, options: { batch?: number; samples?: number; warmup?: number } = {}): Measurement {
  const batch = options.batch ?? 2_000;
  const samples = options.samples ?? 41;
  for (let i = 0; i < (options.warmup ?? 20_000); i++) operation();
  const perOp: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) operation();
    perOp.push(Number(process.hrtime.bigint() - start) / batch);
  }
  perOp.sort((a, b) => a - b);
  return { medianNs: percentile(perOp, 0.5), p10Ns: percentile(perOp, 0.1), p90Ns: percentile(perOp, 0.9), bytesPerOp: allocatedPerOp(operation) };
}

/** Needs --expose-gc and a young generation big enough that no scavenge runs inside the batch. */
function allocatedPerOp(operation: () => void): number | undefined {
  if (typeof gc !== 'function') return undefined;
  const runs = 1_000;
  const results: number[] = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < runs; i++) operation();
    const after = process.memoryUsage().heapUsed;
    if (after > before) results.push((after - before) / runs);
  }
  results.sort((a, b) => a - b);
  return results.length ? results[Math.floor(results.length / 2)] : undefined;
}

export function formatUs(ns: number): string {
  return (ns / 1000).toFixed(2).padStart(8);
}
