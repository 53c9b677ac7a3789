import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { KeyLoadError } from './errors.js';

/**
 * The one format of a key, in a file or a variable: hexadecimal, upper or lower case, surrounding white space
 * ignored, so `openssl rand -hex 32 > data-key` makes a data key and `echo 0123…CDEF > mac-bank-b` a MAC key.
 * One format only: a file that might be hex or raw bytes could be read either way, and a key read the wrong
 * way is a different key.
 */
const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

/** Where a key came from, for messages: a path or a variable's name, never the key. */
export interface KeyText {
  readonly text: string;
  readonly source: string;
}

/** Parses hex key text; an empty value counts as missing (KEY_MISSING), as an unset variable would. */
export function parseHexKey({ text, source }: KeyText, minBytes: number): Buffer {
  const hex = text.trim();
  if (hex === '') throw new KeyLoadError('KEY_MISSING', `${source} is empty`);
  // The reason never quotes the text: a malformed key may be a real key with a typo.
  if (!HEX.test(hex)) throw new KeyLoadError('KEY_MALFORMED', `${source}: a key is hexadecimal digits (e.g. \`openssl rand -hex ${minBytes}\`)`);
  const key = Buffer.from(hex, 'hex');
  if (key.length < minBytes) throw new KeyLoadError('KEY_TOO_SHORT', `${source}: the key must be at least ${minBytes} bytes (${minBytes * 2} hex digits)`);
  return key;
}

/**
 * Reads a key file after checking who may read it: refused when its group or others have any access, or when
 * it belongs to neither this process's user nor root (systemd's LoadCredential= gives the service's user a
 * 0400 copy under $CREDENTIALS_DIRECTORY; a root-owned 0400 file is what a root service sees). The checks
 * run on the opened descriptor, so the file checked is the file read.
 */
export function readKeyFile(path: string): KeyText {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new KeyLoadError('KEY_FILE_UNREADABLE', `key file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new KeyLoadError('KEY_FILE_UNREADABLE', `key file ${path}: not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new KeyLoadError('KEY_FILE_EXPOSED', `key file ${path}: mode ${(stat.mode & 0o777).toString(8)} lets its group or others read it: chmod 600 (or 400) it`);
    }
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid && stat.uid !== 0) {
      throw new KeyLoadError('KEY_FILE_OWNER', `key file ${path}: owned by uid ${stat.uid}, not by this process's user (${uid}) or root`);
    }
    return { text: readFileSync(fd, 'utf8'), source: `key file ${path}` };
  } finally {
    closeSync(fd);
  }
}
