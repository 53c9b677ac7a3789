import { existsSync } from 'node:fs';
import path from 'node:path';
import type { KeysConfig } from './config.js';
import { DataKey, MIN_DATA_KEY_BYTES } from './data-key.js';
import { KeyLoadError } from './errors.js';
import { KeyRing } from './key-ring.js';
import { parseHexKey, readKeyFile, type KeyText } from './key-file.js';
import { DEVELOPMENT_KEY_ID, developmentKeyRing, isKnownTestKey } from './known-keys.js';

/**
 * Key loading, fail closed (SECURITY.md, "Key loading"). A real data key is required everywhere but the
 * embedded demo, which keeps the public development key; the demo is the database's marker
 * (src/ledger/deployment.ts), known only once the database is open, so loading is split in two: the keys
 * are read once ({@link readConfiguredKeys}), and the ring for a deployment is asked for when the
 * deployment is known ({@link KeySource.ringFor}).
 */

/** 'demo' only for the embedded cluster holding the demo data; an external database is always 'real'. */
export type KeyDeployment = 'demo' | 'real';

/** The data keys for a deployment. */
export interface KeySource {
  /** @throws KeyLoadError KEY_MISSING or KEY_PUBLIC for 'real' without a real key. */
  ringFor(deployment: KeyDeployment): KeyRing;
}

/** systemd's credential names: LoadCredential=data-key:/etc/jht-switch/data-key. */
export const DATA_KEY_CREDENTIAL = 'data-key';
export const PREVIOUS_DATA_KEY_CREDENTIAL = 'data-key-previous';
export const DATA_KEY_FILE_ENV = 'JHT_DATA_KEY_FILE';
export const DATA_KEY_ENV = 'JHT_DATA_KEY';

const WHERE_KEYS_GO = 'keys.dataKeyFile, $CREDENTIALS_DIRECTORY/data-key, JHT_DATA_KEY_FILE or JHT_DATA_KEY';

/** The keys read from their files and variables; one object per process, since JHT_DATA_KEY is read once. */
export class ConfiguredKeys implements KeySource {
  constructor(
    /** Undefined when no data key is configured at all. */
    private readonly ring: KeyRing | undefined,
    /** Ids of configured keys that are public (known test keys): refused outside the demo. */
    private readonly publicIds: readonly string[],
  ) {}

  ringFor(deployment: KeyDeployment): KeyRing {
    if (deployment === 'demo') return this.ring ?? developmentKeyRing();
    if (!this.ring) throw new KeyLoadError('KEY_MISSING', `no data key: this database holds real data, which needs a key (${WHERE_KEYS_GO}; SECURITY.md, "Key loading")`);
    if (this.publicIds.length > 0) {
      throw new KeyLoadError('KEY_PUBLIC', `data key ${this.publicIds.join(', ')} is a public test key, for the embedded demo only: make one with \`openssl rand -hex 32\``);
    }
    return this.ring;
  }
}

/** A ring handed over in code (tests, benchmarks): used as is, except that the development key stays in the demo. */
export function fixedKeySource(ring: KeyRing): KeySource {
  return {
    ringFor(deployment) {
      if (deployment === 'real' && ring.byId(DEVELOPMENT_KEY_ID)) {
        throw new KeyLoadError('KEY_PUBLIC', 'the development data key is for the embedded demo only');
      }
      return ring;
    },
  };
}

/**
 * Reads the data keys named by `keys` and the environment. JHT_DATA_KEY is deleted from `env` as soon as it is
 * read, even when it is refused: no child process, and no later reader of the environment, sees it.
 * @throws KeyLoadError for a key that is given but unusable (file mode or owner, format, length, two sources).
 */
export function readConfiguredKeys(keys: KeysConfig, env: NodeJS.ProcessEnv = process.env): ConfiguredKeys {
  const inline = env[DATA_KEY_ENV];
  delete env[DATA_KEY_ENV];
  const credentials = env.CREDENTIALS_DIRECTORY ? env.CREDENTIALS_DIRECTORY : undefined;
  const credential = (name: string): string | undefined => {
    const file = credentials ? path.join(credentials, name) : undefined;
    return file && existsSync(file) ? file : undefined;
  };
  const current = single([
    keys.dataKeyFile && fromFile(keys.dataKeyFile),
    credential(DATA_KEY_CREDENTIAL) && fromFile(credential(DATA_KEY_CREDENTIAL)!),
    env[DATA_KEY_FILE_ENV] ? fromFile(env[DATA_KEY_FILE_ENV]) : undefined,
    inline?.trim() ? () => ({ text: inline, source: DATA_KEY_ENV }) : undefined,
  ], 'the data key');
  const previous = single([
    keys.previousDataKeyFile && fromFile(keys.previousDataKeyFile),
    credential(PREVIOUS_DATA_KEY_CREDENTIAL) && fromFile(credential(PREVIOUS_DATA_KEY_CREDENTIAL)!),
  ], 'the previous data key');
  if (!current) {
    if (previous || keys.verifyOnlyKeyFiles.length > 0) {
      throw new KeyLoadError('KEY_MISSING', `a previous or verify-only data key is configured, but no current one (${WHERE_KEYS_GO})`);
    }
    return new ConfiguredKeys(undefined, []);
  }
  const publicIds: string[] = [];
  const load = (read: () => KeyText): DataKey => {
    const material = parseHexKey(read(), MIN_DATA_KEY_BYTES);
    const key = new DataKey(material);
    if (isKnownTestKey(material)) publicIds.push(key.id);
    material.fill(0);
    return key;
  };
  const ring = new KeyRing({
    current: load(current),
    ...(previous ? { previous: load(previous) } : {}),
    verifyOnly: keys.verifyOnlyKeyFiles.map((file) => load(fromFile(file))),
  });
  return new ConfiguredKeys(ring, publicIds);
}

/**
 * The one call a command needs: the key ring for a database whose deployment is known (a data command on an
 * external database, or after reading the marker, passes 'real' unless the marker says 'demo').
 */
export function loadKeyRing(config: { keys: KeysConfig }, options: { deployment: KeyDeployment; env?: NodeJS.ProcessEnv }): KeyRing {
  return readConfiguredKeys(config.keys, options.env).ringFor(options.deployment);
}

function fromFile(file: string): () => KeyText {
  return () => readKeyFile(file);
}

function single(candidates: readonly (false | '' | undefined | (() => KeyText))[], what: string): (() => KeyText) | undefined {
  const given = candidates.filter((c): c is () => KeyText => typeof c === 'function');
  if (given.length > 1) throw new KeyLoadError('KEY_AMBIGUOUS', `${what} is given in ${given.length} places (a configured file, a credential, a variable): give it in one`);
  return given[0];
}
