import { existsSync } from 'node:fs';
import path from 'node:path';
import { KeyLoadError, readKeyFile, type KeyText } from './keys/index.js';
import { MacKey } from './mac-key.js';
import { MacKeyRing } from './mac-key-ring.js';

/** Where a partner's MAC keys are (config/schema.ts, `mac` with algorithm x9.19): files and check values only. */
export interface MacKeyFiles {
  readonly keyFile?: string | undefined;
  readonly kcv: string;
  readonly previousKeyFile?: string | undefined;
  readonly previousKcv?: string | undefined;
}

/** systemd's credential of a partner's MAC key: LoadCredential=mac-bank-a:/etc/jht-switch/mac-bank-a. */
export function macCredentialName(partnerId: string): string {
  return `mac-${partnerId}`;
}

/** The variable a partner's MAC key may come from: JHT_MAC_KEY_BANK_A for partner bank-a. */
export function macKeyVariable(partnerId: string): string {
  return `JHT_MAC_KEY_${partnerId.toUpperCase().replaceAll('-', '_')}`;
}

/**
 * Keys taken from the environment, per environment object: a variable is deleted once read (no child process
 * inherits it), and a reload reads the configuration again, so the value read first is kept here. Such a key
 * changes only with a restart; a key file changes on `reload`.
 */
const fromEnvironment = new WeakMap<NodeJS.ProcessEnv, Map<string, string>>();

/**
 * A partner's MAC keys, each checked against its KCV (SECURITY.md, "Keys"): the current key from
 * `mac.keyFile`, else $CREDENTIALS_DIRECTORY/mac-<partner id>, else JHT_MAC_KEY_<PARTNER_ID>; the previous
 * one, during a key change, from `mac.previousKeyFile` with `mac.previousKcv`. Files are mode-checked as
 * data key files are; the one format is hex (32 digits, a double-length DES key).
 * @throws KeyLoadError (no key, file mode or owner, two sources) or MacKeyError (format, weak key, KCV).
 */
export function loadMacKeys(partnerId: string, files: MacKeyFiles, env: NodeJS.ProcessEnv = process.env): MacKeyRing {
  const current = new MacKey(currentKeyText(partnerId, files, env).text.trim(), files.kcv);
  if (files.previousKeyFile === undefined) return new MacKeyRing(current);
  if (files.previousKcv === undefined) throw new KeyLoadError('KEY_MISSING', 'mac.previousKeyFile needs mac.previousKcv, the old key\'s check value');
  return new MacKeyRing(current, new MacKey(readKeyFile(files.previousKeyFile).text.trim(), files.previousKcv));
}

function currentKeyText(partnerId: string, files: MacKeyFiles, env: NodeJS.ProcessEnv): KeyText {
  const variable = macKeyVariable(partnerId);
  let remembered = fromEnvironment.get(env);
  if (env[variable] !== undefined) {
    if (!remembered) fromEnvironment.set(env, (remembered = new Map()));
    remembered.set(variable, env[variable]);
    delete env[variable];
  }
  const inline = remembered?.get(variable)?.trim() ? remembered.get(variable) : undefined;
  const credential = env.CREDENTIALS_DIRECTORY ? path.join(env.CREDENTIALS_DIRECTORY, macCredentialName(partnerId)) : undefined;
  const sources = [
    files.keyFile,
    credential && existsSync(credential) ? credential : undefined,
    inline === undefined ? undefined : variable,
  ].filter((source): source is string => source !== undefined);
  if (sources.length === 0) {
    throw new KeyLoadError('KEY_MISSING', `no MAC key: give mac.keyFile, $CREDENTIALS_DIRECTORY/${macCredentialName(partnerId)} or ${variable}`);
  }
  if (sources.length > 1) throw new KeyLoadError('KEY_AMBIGUOUS', `the MAC key is given in ${sources.length} places (${sources.join(', ')}): give it in one`);
  return sources[0] === variable ? { text: inline!, source: variable } : readKeyFile(sources[0]!);
}
