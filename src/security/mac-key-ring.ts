import type { IsoMessage, Packager } from '../iso8583/index.js';
import { MacKeyError } from './errors.js';
import type { MacKey } from './mac-key.js';
import { verifyMessage, type MacVerdict } from './message-mac.js';

/**
 * A partner's MAC keys: the current one, and during a key change the previous one too. A key change with a
 * bank is never simultaneous on both sides, so for a window both keys are accepted; the switch signs its own
 * requests with the current key, and each answer with the key that verified the request it answers, so the
 * bank can check every answer with the key it used.
 */
export class MacKeyRing {
  constructor(readonly current: MacKey, readonly previous?: MacKey) {
    if (previous && previous.kcv === current.kcv) {
      throw new MacKeyError('MAC_KEY_DUPLICATE', `the previous MAC key is the current one (KCV ${current.kcv})`);
    }
  }

  /** 'ok' with the key that verified the message (current first), or why neither did. */
  verify(packed: Buffer, message: IsoMessage, packager: Packager): { verdict: MacVerdict; key?: MacKey } {
    const first = verifyMessage(packed, message, packager, this.current);
    if (first === 'ok') return { verdict: 'ok', key: this.current };
    if (first === 'wrong' && this.previous && verifyMessage(packed, message, packager, this.previous) === 'ok') {
      return { verdict: 'ok', key: this.previous };
    }
    return { verdict: first };
  }

  /** The check values, for logs and for telling two rings apart: `KCV` or `KCV (previous KCV)`. */
  get kcvs(): string {
    return this.previous ? `${this.current.kcv} (previous ${this.previous.kcv})` : this.current.kcv;
  }

  toJSON(): { kcv: string; previousKcv?: string } {
    return { kcv: this.current.kcv, ...(this.previous ? { previousKcv: this.previous.kcv } : {}) };
  }
}
