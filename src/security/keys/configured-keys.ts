import type { Logger } from '../../observability/logger.js';
import { DataKey } from './data-key.js';
import { KeyRing } from './key-ring.js';
import { developmentKeyRing } from './known-keys.js';

/**
 * The key ring from the configured data key (hex), or the development ring when none is configured, with a
 * warning. (Refusing to start without a real key outside the embedded demo, and reading keys from files, is
 * the next step of SECURITY.md's "Keys".)
 */
export function configuredKeyRing(hexKey: string | undefined, log: Logger): KeyRing {
  if (!hexKey) {
    log.warn('using the DEVELOPMENT data key: card and account hashes are not secret');
    return developmentKeyRing();
  }
  return new KeyRing({ current: new DataKey(Buffer.from(hexKey, 'hex')) });
}
