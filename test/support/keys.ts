import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The ISO 9797-1 / X9.19 published TEST key (KCV 08D7B4), which the specs' examples name by its KCV. */
export const PUBLISHED_TEST_MAC_KEY = '0123456789ABCDEFFEDCBA9876543210';
export const PUBLISHED_TEST_MAC_KCV = '08D7B4';

/** Writes a key file in `dir` as an operator would (hex, a newline, mode 0600 unless told): returns its path. */
export function writeKeyFile(dir: string, name: string, key: Buffer | string, mode = 0o600): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${typeof key === 'string' ? key : key.toString('hex')}\n`, { mode });
  return file;
}

/** A temporary directory for key files (mode 0700), removed when the process exits. */
export function keyDirectory(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jht-switch-test-keys-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs `use` with an environment whose $CREDENTIALS_DIRECTORY holds `files` (name → hex key, mode 0400, as
 * systemd's LoadCredential= gives them to a service), then removes the directory.
 */
export function withCredentials<T>(files: Record<string, string>, use: (env: NodeJS.ProcessEnv) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jht-switch-test-credentials-'));
  try {
    for (const [name, key] of Object.entries(files)) writeKeyFile(dir, name, key, 0o400);
    return use({ CREDENTIALS_DIRECTORY: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
