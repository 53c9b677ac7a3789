import { parentPort, workerData } from 'node:worker_threads';
import type { CsvRow } from './csv-records.js';
import { FILE_KINDS } from './file-kinds.js';
import { stageBatch, stageKeyOf, type HashingKeys } from './stage-batch.js';

/** A staging worker (stage-pool.ts): batches in, COPY text and row errors out, in the order they came. */

export interface StageWorkerData {
  kind: keyof typeof FILE_KINDS;
  current: HashingKeys;
  previous?: HashingKeys;
}

export interface StageRequest {
  columns: readonly string[];
  rows: readonly CsvRow[];
}

const data = workerData as StageWorkerData;
const kind = FILE_KINDS[data.kind];
const keys = { current: stageKeyOf(data.current), previous: data.previous ? stageKeyOf(data.previous) : undefined };

parentPort!.on('message', (request: StageRequest) => {
  parentPort!.postMessage(stageBatch(kind, request.columns, request.rows, keys));
});
