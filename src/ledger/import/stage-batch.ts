import { createHmac } from 'node:crypto';
import type { DataKey, KeyPurpose } from '../../security/keys/index.js';
import { copyRow } from './copy-text.js';
import { columnIndex, recordOf, type CsvRow } from './csv-records.js';
import type { RowError } from './errors.js';
import type { FileKind, StageKey, StageKeys } from './file-kind.js';

/**
 * One batch of rows checked, hashed and encoded for COPY: the same function in the importer's thread (a small
 * file) and in a staging worker (stage-pool.ts). Only hashes, masked forms and non-secret fields leave it.
 */
export interface StagedBatch {
  /** COPY text of the valid rows, in the batch's order. */
  copy: string;
  errors: RowError[];
}

export function stageBatch(kind: FileKind, columns: readonly string[], rows: readonly CsvRow[], keys: StageKeys): StagedBatch {
  const header = new Set(columns);
  const index = columnIndex(columns);
  let copy = '';
  const errors: RowError[] = [];
  for (const row of rows) {
    const staged = kind.stage(recordOf(index, row), header, keys);
    if ('errors' in staged) errors.push(...staged.errors);
    else copy += copyRow(row.line, staged.row);
  }
  return { copy, errors };
}

/** The purposes staging hashes with: a worker is given these purpose keys, never the data key itself. */
type StagingPurpose = Extract<KeyPurpose, 'instrument' | 'contact'>;

/** A data key's staging purpose keys, as a staging worker receives them (structured clone, this process only). */
export interface HashingKeys {
  id: string;
  keys: Record<StagingPurpose, Buffer>;
}

export function hashingKeys(key: DataKey): HashingKeys {
  return { id: key.id, keys: { instrument: key.keyFor('instrument'), contact: key.keyFor('contact') } };
}

/** DataKey.hmac over the purpose keys a worker was given: the same HMACs, and no other purpose. */
export function stageKeyOf(hashing: HashingKeys): StageKey {
  return {
    id: hashing.id,
    hmac(purpose: KeyPurpose, value: string | Buffer): Buffer {
      const key = (hashing.keys as Partial<Record<KeyPurpose, Buffer>>)[purpose];
      if (!key) throw new Error(`staging hashes no ${purpose} values`);
      const hmac = createHmac('sha256', key);
      return (typeof value === 'string' ? hmac.update(value, 'utf8') : hmac.update(value)).digest();
    },
  };
}
