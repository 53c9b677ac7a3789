import type { FramingName } from '../transport/framing/index.js';
import { DEFAULT_PANS, type Identity } from './identities.js';
import { LoadConnection, endpointOptions } from './load-connection.js';
import { RunStats } from './stats.js';

export interface IdleConnectionsOptions {
  readonly host: string;
  readonly port: number;
  readonly count: number;
  readonly acquirerId?: string;
  readonly profile?: string;
  readonly framing?: FramingName;
  readonly timeoutMs?: number;
}

export interface IdleConnections {
  readonly count: number;
  close(): Promise<void>;
}

/** Opened this many at a time: a burst of thousands would overflow the listener's accept backlog. */
const OPEN_BATCH = 100;

/**
 * Opens `count` connections and signs each on, then leaves them idle: what a switch holds for a quiet
 * network of ATM hosts (the benchmark reads the switch's memory with them open).
 */
export async function openIdleConnections(options: IdleConnectionsOptions): Promise<IdleConnections> {
  const shared = {
    ...endpointOptions(options),
    identities: DEFAULT_PANS.map((value): Identity => ({ kind: 'pan', value })),
    expected: [],
    stats: new RunStats(0),
    timeoutMs: options.timeoutMs ?? 10_000,
    ringSize: 16,
  };
  const connections: LoadConnection[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(connections.map((c) => c.close()));
  };
  try {
    for (let first = 0; first < options.count; first += OPEN_BATCH) {
      const settled = await Promise.allSettled(Array.from({ length: Math.min(OPEN_BATCH, options.count - first) }, (_, i) =>
        LoadConnection.connect({ ...shared, terminalId: `IDL${String(first + i + 1).padStart(5, '0')}` })));
      const batch = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
      connections.push(...batch);
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      await Promise.all(batch.map((c) => c.signOn(shared.timeoutMs)));
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { count: connections.length, close };
}
