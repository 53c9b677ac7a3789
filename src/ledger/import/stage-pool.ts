import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CsvRow } from './csv-records.js';
import type { FileKind } from './file-kind.js';
import { hashingKeys, stageBatch, type StagedBatch } from './stage-batch.js';
import type { StageRequest, StageWorkerData } from './stage-worker.js';
import type { DataKey } from '../../security/keys/index.js';

/**
 * Checking and hashing is the importer's bottleneck on one thread (issue 11: 28-76 µs a row), so a file of more
 * than one batch is staged by a small pool of worker threads while this thread reads the CSV. Batches come back
 * in the order they were read (each worker answers its own in order; results are taken in submission order), so
 * the COPY order, hence the insertion order and every error's line, is that of the file. At most `depth`
 * batches are in flight: memory stays flat whatever the file's size.
 */

/**
 * One thread reads the CSV and PostgreSQL takes the COPY: two cores are theirs, the rest hash, four at most.
 * On two cores the pool was measured slower than staging inline (bench:import-stage, README: cloning the
 * batches to and from a worker costs more than the overlap gains when no core is free), hence 0 there.
 */
export const DEFAULT_STAGE_WORKERS = Math.min(4, Math.max(0, availableParallelism() - 2));

// The CLI runs TypeScript through tsx's loader (bin/jht-switch.js), which a worker does not inherit: its
// entry registers the loader, then imports the worker module.
const BOOT = `const { workerData } = require('node:worker_threads');
import(workerData.loader).then(({ register }) => { register(); return import(workerData.entry); });`;
const LOADER = import.meta.resolve('tsx/esm/api');
const ENTRY = new URL('./stage-worker.ts', import.meta.url).href;

/** The data keys of an import (ImportOptions): a worker gets their staging purpose keys. */
export interface StagerKeys {
  current: DataKey;
  previous?: DataKey | undefined;
}

export class BatchStager {
  readonly #workers: StageWorker[] = [];
  #batches = 0;

  constructor(private readonly kind: FileKind, private readonly keys: StagerKeys,
    private readonly size = DEFAULT_STAGE_WORKERS) {}

  /** How many batches may be in flight before the reader waits for the oldest. */
  get depth(): number {
    return Math.max(1, this.size * 2);
  }

  /** The first batch is staged here (a small file, the demo seed, never waits for a worker to start). */
  stage(columns: readonly string[], rows: readonly CsvRow[]): Promise<StagedBatch> {
    const n = this.#batches++;
    if (n === 0 || this.size === 0) return Promise.resolve(stageBatch(this.kind, columns, rows, this.keys));
    if (this.#workers.length < this.size) this.#workers.push(new StageWorker(this.#workerData()));
    return this.#workers[(n - 1) % this.#workers.length]!.stage({ columns, rows });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.close()));
  }

  #workerData(): StageWorkerData {
    return {
      kind: this.kind.name,
      current: hashingKeys(this.keys.current),
      ...(this.keys.previous ? { previous: hashingKeys(this.keys.previous) } : {}),
    };
  }
}

class StageWorker {
  readonly #worker: Worker;
  readonly #waiting: { resolve: (batch: StagedBatch) => void; reject: (error: Error) => void }[] = [];
  #failed: Error | undefined;

  constructor(data: StageWorkerData) {
    this.#worker = new Worker(BOOT, { eval: true, workerData: { ...data, loader: LOADER, entry: ENTRY } });
    this.#worker.on('message', (batch: StagedBatch) => this.#waiting.shift()?.resolve(batch));
    this.#worker.on('error', (error) => this.#fail(error));
    this.#worker.on('exit', (code) => this.#fail(new Error(`a staging worker stopped (exit code ${code})`)));
  }

  stage(request: StageRequest): Promise<StagedBatch> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    this.#failed ??= new Error('the staging pool is closed');
    await this.#worker.terminate();
  }

  #fail(error: Error): void {
    this.#failed ??= error;
    for (const waiting of this.#waiting.splice(0)) waiting.reject(this.#failed);
  }
}
