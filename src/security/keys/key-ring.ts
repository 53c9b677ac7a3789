import type { DataKey, KeyPurpose } from './data-key.js';
import { DataKeyError } from './errors.js';

/**
 * The data keys the switch holds, by role in a rotation (SECURITY.md, "Key rotation"):
 * - `current` makes every new hash and digest;
 * - `previous`, during a rotation window only, is still tried by lookups, because links hashed under it have
 *   not all been imported again under the new key;
 * - `verifyOnly` keys are tried by nothing that finds a participant; they only verify what was written under
 *   them (request digests within the key retention, journal search), until they retire.
 */
export interface KeyRingKeys {
  current: DataKey;
  previous?: DataKey;
  verifyOnly?: readonly DataKey[];
}

export class KeyRing {
  readonly current: DataKey;
  readonly previous: DataKey | undefined;
  readonly verifyOnly: readonly DataKey[];
  readonly #lookup: readonly DataKey[];
  readonly #byId: ReadonlyMap<string, DataKey>;

  /** @throws DataKeyError DATA_KEY_DUPLICATE when one key is given twice. */
  constructor(keys: KeyRingKeys) {
    this.current = keys.current;
    this.previous = keys.previous;
    this.verifyOnly = keys.verifyOnly ?? [];
    this.#lookup = this.previous ? [this.current, this.previous] : [this.current];
    const all = [...this.#lookup, ...this.verifyOnly];
    this.#byId = new Map(all.map((key) => [key.id, key]));
    if (this.#byId.size !== all.length) throw new DataKeyError('DATA_KEY_DUPLICATE', 'the same data key is configured twice');
  }

  /** The keys a lookup tries, current first: one during normal operation, two during a rotation window. */
  lookupKeys(): readonly DataKey[] {
    return this.#lookup;
  }

  /** The hash of `value` under every lookup key, current first: what a lookup matches against. */
  lookupHashes(purpose: KeyPurpose, value: string | Buffer): Buffer[] {
    return this.#lookup.map((key) => key.hmac(purpose, value));
  }

  /** Any key held, lookup or verify-only: the key that made a stored hash, by the id stored beside it. */
  byId(id: string): DataKey | undefined {
    return this.#byId.get(id);
  }

  /** Every key id held. */
  ids(): string[] {
    return [...this.#byId.keys()];
  }

  toJSON(): { current: string; previous?: string; verifyOnly: string[] } {
    return {
      current: this.current.id,
      ...(this.previous ? { previous: this.previous.id } : {}),
      verifyOnly: this.verifyOnly.map((key) => key.id),
    };
  }
}
