import { Writable } from 'node:stream';
import { switchConfigSchema, type SwitchConfig, type SwitchConfigInput } from '../../src/config/schema.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { networkRequest } from '../../src/client/atm-messages.js';
import { createLogger } from '../../src/observability/logger.js';
import { startSwitch, type RunningSwitch } from '../../src/channels/atm/jht-switch.js';
import { getTestDatabase } from './database.js';

/** Every log line the switch wrote, as text: tests scan it for card data. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(line);
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

export interface TestSwitch {
  readonly running: RunningSwitch;
  readonly port: number;
  readonly logs: LogCapture;
  /** A client connected to the switch; signed on unless told otherwise. */
  client(options?: { signOn?: boolean; timeoutMs?: number }): Promise<IsoClient>;
  stop(): Promise<void>;
}

/**
 * A real switch on 127.0.0.1 (free port) over the shared test database, with the given config on top.
 * `reloadConfig`: what `running.reload()` applies, as a changed configuration file would.
 */
export async function startTestSwitch(
  config: Partial<SwitchConfigInput> = {}, options: { reloadConfig?: () => Partial<SwitchConfigInput> } = {},
): Promise<TestSwitch> {
  const logs = new LogCapture();
  const parse = (input: Partial<SwitchConfigInput>): SwitchConfig => switchConfigSchema.parse({ ...input, listen: { host: '127.0.0.1', port: 0, ...input.listen } });
  const parsed = parse(config);
  const { reloadConfig } = options;
  const running = await startSwitch(parsed, createLogger({ level: 'debug', destination: logs }), {
    database: await getTestDatabase(),
    ...(reloadConfig ? { reloadConfig: () => parse(reloadConfig()) } : {}),
  });
  const clients: IsoClient[] = [];
  return {
    running,
    port: running.listener.port,
    logs,
    async client(options = {}) {
      const client = await IsoClient.connect({ port: running.listener.port, timeoutMs: options.timeoutMs ?? 5_000 });
      clients.push(client);
      if (options.signOn !== false) {
        const answer = await client.request(networkRequest(client.nextStan(), '001'));
        if (answer.get(39) !== '00') throw new Error(`sign-on refused with ${answer.get(39)}`);
      }
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await running.stop();
    },
  };
}

/** STANs unique across the run, so tests sharing one database never collide on (32, 11, 7, 41). */
let stanCounter = Math.floor(Math.random() * 400_000) + 100_000;
export function uniqueStan(): string {
  stanCounter = (stanCounter % 999_999) + 1;
  return String(stanCounter).padStart(6, '0');
}
