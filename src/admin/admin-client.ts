import { resolve } from 'node:path';
import { Client } from 'net-ipc';
import type { ReloadResult } from '../channels/atm/control.js';
import { AdminCommandError, AdminConnectionError, AdminNotRunningError } from './errors.js';
import { adminAnswerSchema, type AdminCommand, type AdminResults, type DrainResult, type StatusReport } from './protocol.js';

const CONNECT_TIMEOUT_MS = 3_000;
/** Per command: a drain waits for in-flight work (the switch's grace is 10 s), a reload for new listeners. */
export const DEFAULT_COMMAND_TIMEOUT_MS: Readonly<Record<AdminCommand, number>> = { status: 5_000, drain: 60_000, reload: 30_000 };

export interface AdminClientOptions {
  connectTimeoutMs?: number;
  /** Overrides {@link DEFAULT_COMMAND_TIMEOUT_MS} for every command. */
  commandTimeoutMs?: number;
}

/** Talks to a running switch's admin socket. One connection; close() it when done. */
export class AdminClient {
  /** Set when the switch closed the connection; pending and later commands fail with it. */
  private lost: Error | undefined;
  private readonly lostListeners = new Set<(error: Error) => void>();

  private constructor(readonly socketPath: string, private readonly client: Client, private readonly options: AdminClientOptions) {
    client.on('close', () => {
      this.lost = new AdminConnectionError(socketPath, 'the switch closed the connection');
      for (const listener of this.lostListeners) listener(this.lost);
    });
  }

  /** Fails with {@link AdminNotRunningError} when nothing listens on the socket. */
  static async connect(socketPath: string, options: AdminClientOptions = {}): Promise<AdminClient> {
    const path = resolve(socketPath);
    // net-ipc's own retries would make "not running" take seconds to say; and without them its connect()
    // never settles on a refused connection, so the first 'close' is the answer.
    const client = new Client({ path, reconnect: false });
    client.on('error', () => undefined); // the same error arrives with 'close'
    const timeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((ready, fail) => {
        const onClose = (reason: unknown): void => {
          const code = (reason as NodeJS.ErrnoException | undefined)?.code;
          fail(code === 'ENOENT' || code === 'ECONNREFUSED'
            ? new AdminNotRunningError(path)
            : new AdminConnectionError(path, `cannot connect (${code ?? String(reason)})`));
        };
        client.once('close', onClose);
        timer = setTimeout(() => fail(new AdminConnectionError(path, `no answer within ${timeoutMs} ms`)), timeoutMs);
        client.connect().then(() => {
          client.off('close', onClose);
          ready();
        }, onClose);
      });
    } catch (error) {
      client.destroy();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    return new AdminClient(path, client, options);
  }

  status(): Promise<StatusReport> {
    return this.command('status');
  }

  drain(): Promise<DrainResult> {
    return this.command('drain');
  }

  /** A configuration the switch refuses fails with an {@link AdminCommandError} of code `CONFIG_INVALID`. */
  reload(): Promise<ReloadResult> {
    return this.command('reload');
  }

  async close(): Promise<void> {
    await this.client.close().catch(() => undefined);
  }

  private async command<C extends AdminCommand>(command: C): Promise<AdminResults[C]> {
    // Under sudo the kernel reports root; SUDO_UID says who ran sudo (the switch records both).
    const sudoUid = process.env.SUDO_UID;
    const payload = { command, ...(sudoUid && /^\d{1,10}$/.test(sudoUid) ? { sudoUid } : {}) };
    const raw = await this.request(payload, this.options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS[command]);
    const answer = adminAnswerSchema.safeParse(raw);
    if (!answer.success) throw new AdminConnectionError(this.socketPath, `the switch's answer to ${command} is not valid: ${answer.error.issues[0]?.message ?? ''}`);
    if (!answer.data.ok) throw new AdminCommandError(answer.data.error.code, answer.data.error.message);
    if (answer.data.command !== command) throw new AdminConnectionError(this.socketPath, `asked for ${command}, the switch answered ${answer.data.command}`);
    return answer.data.result as AdminResults[C];
  }

  /** net-ipc neither rejects a pending request when the connection closes nor types its answer. */
  private request(payload: unknown, timeoutMs: number): Promise<unknown> {
    if (this.lost) return Promise.reject(this.lost);
    return new Promise((done, fail) => {
      const onLost = (error: Error): void => fail(error);
      this.lostListeners.add(onLost);
      (this.client.request(payload, timeoutMs) as Promise<unknown>).then(done, (reason: unknown) => {
        fail(new AdminConnectionError(this.socketPath, reason === 'request timed out'
          ? `no answer within ${timeoutMs} ms`
          : `request failed (${reason instanceof Error ? reason.message : String(reason)})`));
      }).finally(() => this.lostListeners.delete(onLost));
    });
  }
}
