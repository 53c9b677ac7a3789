import type { IsoMessage } from '../../iso8583/index.js';
import type { Connection } from '../../transport/connection.js';
import { Field } from '../../iso8583/vocabulary/index.js';

/** The switch's own requests to a bank (sign-on, echo test on dial-out links), matched by STAN. */
export class OutboundRequests {
  private readonly pending = new Map<string, { resolve: (m: IsoMessage | undefined) => void; timer: NodeJS.Timeout }>();
  private stan = Math.floor(Math.random() * 900_000);

  constructor(
    private readonly connection: Connection,
    /** Packs for the partner, with its MAC when it uses one. */
    private readonly pack: (message: IsoMessage) => Buffer,
  ) {}

  nextStan(): string {
    this.stan = (this.stan % 999_999) + 1;
    return String(this.stan).padStart(6, '0');
  }

  /** Sends a request; resolves with the answer, or undefined when none came in time. */
  send(message: IsoMessage, timeoutMs: number): Promise<IsoMessage | undefined> {
    const stan = message.get(Field.Stan)!;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(stan);
        resolve(undefined);
      }, timeoutMs);
      this.pending.set(stan, { resolve, timer });
      this.connection.send(this.pack(message));
    });
  }

  /** Hands an answer from the bank to the request that waits for it; false when none does. */
  resolve(answer: IsoMessage): boolean {
    const stan = answer.get(Field.Stan);
    const waiting = stan === undefined ? undefined : this.pending.get(stan);
    if (!waiting) return false;
    this.pending.delete(stan!);
    clearTimeout(waiting.timer);
    waiting.resolve(answer);
    return true;
  }

  cancelAll(): void {
    for (const { resolve, timer } of this.pending.values()) {
      clearTimeout(timer);
      resolve(undefined);
    }
    this.pending.clear();
  }
}
