import type { IsoMessage, Packager } from '../../iso8583/index.js';
import type { MacKey } from '../../security/index.js';
import type { Logger } from '../../observability/logger.js';
import type { JournalWriter } from '../../journal/index.js';
import type { Connection } from '../../transport/connection.js';
import type { MessageHandler, Reply } from '../../transport/connection-types.js';
import type { SwitchObserver } from '../../observability/observer.js';
import { Field } from '../../iso8583/vocabulary/index.js';
import { answerDecided, type AnswerDeps } from './after-decision.js';
import type { OutboundRequests } from './outbound-requests.js';
import { processRequest } from './pipeline.js';
import type { Session } from './session.js';
import { Transaction, type SwitchServices } from './transaction.js';

export interface ConnectionHandlerDeps {
  readonly packager: Packager;
  readonly services: SwitchServices;
  readonly journal: JournalWriter;
  readonly log: Logger;
  readonly observer: SwitchObserver;
  /** Packs a response, adding its MAC when the partner uses one and `sign` is true: under `key`, else the current key. */
  readonly packResponse?: (response: IsoMessage, sign: boolean, key: MacKey | undefined) => Buffer;
  /** The switch's own requests on this connection (dial-out): answers to them are routed here. */
  readonly outbound?: OutboundRequests;
}

/**
 * Binds one partner connection to the pipeline: each frame becomes a Transaction, its answer is packed
 * and sent as soon as it is ready (in any order), journaled, and logged as one line without card data.
 */
export function createConnectionHandler(session: Session, deps: ConnectionHandlerDeps): MessageHandler {
  const { packager, services, journal, log, observer } = deps;
  const connectionLog = log.child({ partner: session.partner.id, connection: session.id });
  const pack = deps.packResponse ?? ((response: IsoMessage) => packager.pack(response));
  const answering: AnswerDeps = { services, journal, log: connectionLog, observer, pack, connectionId: session.id };

  async function onMessage(body: Buffer, _reply: unknown, connection: Connection): Promise<Reply> {
    const tx = new Transaction(session, packager, body);
    session.inFlight++;
    session.load.inFlight++;
    observer.inFlightChanged(1);
    try {
      return await answer(tx, connection);
    } finally {
      session.inFlight--;
      session.load.inFlight--;
      observer.inFlightChanged(-1);
    }
  }

  async function answer(raw: Transaction, connection: Connection): Promise<Reply> {
    const outcome = await processRequest(raw, services);
    if (outcome.kind === 'garbage') {
      const { code, field, offset } = outcome.error;
      connectionLog.warn({ code, field, offset, bytes: raw.raw.length }, 'undecodable message (MTI or bitmap): no answer');
      connection.recordGarbage(); // at the limit the connection ends, and logs why
      return null;
    }
    const { tx } = outcome;
    // A malformed frame answered 30 counts toward the garbage limit as well, so that a peer cannot flood the
    // log and the journal with them. Its answer still goes out before the connection ends.
    if (tx.kind === 'format-error') connection.recordGarbage();
    if (outcome.kind === 'ignore') {
      const message = tx.request;
      // An answer to the switch's own 0800 counts only with a good MAC; otherwise it never arrived.
      const macOk = !session.macKeys || tx.mac?.verdict === 'ok';
      if (macOk && deps.outbound?.resolve(message)) return null;
      connectionLog.info({ mti: message.mti, stan: message.get(Field.Stan) }, outcome.reason);
      return null;
    }
    return (await answerDecided(tx, answering)) ?? null;
  }

  // The transport logs the connection's close with its counters; nothing to add here.
  return { onMessage };
}
