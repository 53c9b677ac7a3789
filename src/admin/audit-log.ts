import { constants } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { AdminAuditLogError } from './errors.js';

const AUDIT_FILE_MODE = 0o600;

/** One operator action, as one JSON line of the audit log. */
export interface AuditRecord {
  readonly command: string;
  /** When the command was received and when it ended, ISO 8601 UTC. */
  readonly startedAt: string;
  readonly endedAt: string;
  readonly outcome: 'ok' | 'failed' | 'refused';
  /** The switch's error code when it did not succeed. */
  readonly code?: string | undefined;
  /** From the kernel (see peer-credentials.ts); null when unknown, with the reason. */
  readonly uid: number | null;
  readonly pid: number | null;
  readonly uidUnknownBecause?: string | undefined;
  /** What the client said its SUDO_UID was: recorded, never trusted. */
  readonly sudoUid?: string | undefined;
}

/**
 * The operator audit log: a file opened append-only (O_APPEND, so every write lands at the end even if
 * someone else opened it too) and mode 0600, one JSON line per operation. Card data never reaches it: an
 * operation is named by its command, not its arguments. Each line is written with one write(2), so a crash
 * leaves whole lines.
 */
export class OperatorAuditLog {
  private constructor(readonly path: string, private readonly file: FileHandle) {}

  /** @throws AdminAuditLogError when the file cannot be opened for appending: the admin socket does not start. */
  static async open(path: string): Promise<OperatorAuditLog> {
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const file = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, AUDIT_FILE_MODE);
      // An existing file keeps its mode on open: tighten it, whoever created it.
      await file.chmod(AUDIT_FILE_MODE);
      return new OperatorAuditLog(path, file);
    } catch (error) {
      throw new AdminAuditLogError(path, (error as NodeJS.ErrnoException).code ?? 'error');
    }
  }

  /** @throws AdminAuditLogError when the line could not be written. */
  async record(entry: AuditRecord): Promise<void> {
    try {
      await this.file.write(`${JSON.stringify({ time: entry.endedAt, ...entry })}\n`);
      await this.file.datasync();
    } catch (error) {
      throw new AdminAuditLogError(this.path, (error as NodeJS.ErrnoException).code ?? 'error');
    }
  }

  async close(): Promise<void> {
    await this.file.close().catch(() => undefined);
  }
}
