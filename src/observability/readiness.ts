
/** Each check is `true` when fine, or a short reason why not. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly checks: Readonly<Record<string, boolean | string>>;
}

export type ReadinessCheck = () => Promise<ReadinessReport>;

export interface ReadinessCheckOptions {
  /** The switch's status (src/channels/atm/control.ts), as far as readiness reads it. */
  control: { status(): { accepting: boolean; breaker: string } };
  /** A trivial query on the ledger database (`SELECT 1`); resolves when the database answered. */
  pingLedger: () => Promise<unknown>;
  /** The same budget as a ledger read: a database slower than that cannot answer ATMs either. */
  ledgerTimeoutMs?: number;
}

export const DEFAULT_LEDGER_PING_TIMEOUT_MS = 250;

async function ledgerCheck(pingLedger: () => Promise<unknown>, timeoutMs: number): Promise<true | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      pingLedger().then(
        () => true as const,
        (error: unknown) => `unreachable: ${error instanceof Error ? error.message : String(error)}`,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ready means a load balancer may send ATMs here: the switch accepts connections, the ledger database answers
 * within the budget, and the breaker is not open (an open breaker answers 91 without trying).
 */
export function createReadinessCheck(options: ReadinessCheckOptions): ReadinessCheck {
  const timeoutMs = options.ledgerTimeoutMs ?? DEFAULT_LEDGER_PING_TIMEOUT_MS;
  return async () => {
    const status = options.control.status();
    const checks: Record<string, boolean | string> = {
      listening: status.accepting || 'not accepting (draining or stopping)',
      ledger: await ledgerCheck(options.pingLedger, timeoutMs),
      breaker: status.breaker !== 'open' || 'open',
    };
    return { ready: Object.values(checks).every((value) => value === true), checks };
  };
}
