import type { IsoMessage, Packager } from '../iso8583/index.js';
import { maskPan } from '../iso8583/index.js';
import type { MacKey } from '../security/index.js';
import type { JournalWriter } from '../journal/index.js';
import type { Logger } from '../observability/logger.js';
import type { Connection } from '../transport/connection.js';
import type { MessageHandler, Reply } from '../transport/connection-types.js';
import type { SwitchObserver } from '../observability/observer.js';
import { Field, expectsResponse } from '../iso8583/vocabulary/index.js';
import { journalEntryOf, latencyMicros } from './journal-entry.js';
import type { OutboundRequests } from './outbound-requests.js';
import { mustBeDurable, ownsClaim, processRequest, storedAnswerOf, unavailableResponse } from './pipeline.js';
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

  async function answer(tx: Transaction, connection: Connection): Promise<Reply> {
    const outcome = await processRequest(tx, services);
    if (outcome.kind === 'garbage') {
      const { code, field, offset } = outcome.error;
      connectionLog.warn({ code, field, offset, bytes: tx.raw.length }, 'undecodable message (MTI or bitmap): no answer');
      connection.recordGarbage(); // at the limit the connection ends, and logs why
      return null;
    }
    // A malformed frame answered 30 counts toward the garbage limit as well, so that a peer cannot flood the
    // log and the journal with them. Its answer still goes out before the connection ends.
    if (tx.kind === 'format-error') connection.recordGarbage();
    if (outcome.kind === 'ignore') {
      const message = tx.request!;
      // An answer to the switch's own 0800 counts only with a good MAC; otherwise it never arrived.
      const macOk = !session.macKeys || session.macKeys.verify(tx.raw, message, packager).verdict === 'ok';
      if (!expectsResponse(message.mti) && macOk && deps.outbound?.resolve(message)) return null;
      connectionLog.info({ mti: message.mti, stan: message.get(Field.Stan) }, outcome.reason);
      return null;
    }
    let response = outcome.response;
    let packed: Buffer;
    try {
      packed = pack(response, tx.macChecked, tx.macKey);
    } catch (error) {
      connectionLog.error({ err: error, mti: response.mti }, 'cannot pack the response: no answer');
      if (ownsClaim(tx)) services.transactionKeys.abandon(tx.txnKeyId);
      journal.record(journalEntryOf(tx, undefined, session.id));
      return null;
    }
    if (mustBeDurable(tx)) {
      const answer = storedAnswerOf(tx);
      try {
        await journal.commit(journalEntryOf(tx, response, session.id), answer);
        if (answer) services.transactionKeys.recordResponse(answer.txnKeyId, answer.response);
      } catch (error) {
        // Nothing of it was written: that answer must not leave. 91 needs no database; the claim stays
        // unanswered, so a retransmission finds the outcome unknown and is processed anew.
        connectionLog.error({ err: error, stan: tx.request!.get(Field.Stan) }, 'journal: answer not durable; answering 91 instead');
        if (ownsClaim(tx)) services.transactionKeys.abandon(tx.txnKeyId);
        response = unavailableResponse(tx);
        packed = pack(response, tx.macChecked, tx.macKey);
        journal.record(journalEntryOf(tx, response, session.id));
      }
    } else {
      // A 91 after a claim keeps no answer: a retransmission will find the outcome unknown.
      if (ownsClaim(tx)) services.transactionKeys.abandon(tx.txnKeyId);
      journal.record(journalEntryOf(tx, response, session.id));
    }
    const latency = latencyMicros(tx);
    logTransaction(connectionLog, tx, response, latency);
    observer.transaction(session.partner.id, tx.request!.mti, response.get(Field.ResponseCode)!, latency / 1e6);
    return packed;
  }

  // The transport logs the connection's close with its counters; nothing to add here.
  return { onMessage };
}

/** One JSON line per transaction: partner, MTI, STAN, masked PAN, response code, latency. */
function logTransaction(log: Logger, tx: Transaction, response: IsoMessage, latencyUs: number): void {
  const request = tx.request!;
  const pan = request.get(Field.Pan);
  log.info(
    {
      kind: tx.kind,
      mti: request.mti,
      stan: request.get(Field.Stan),
      rrn: request.get(Field.Rrn),
      acquirer: request.get(Field.AcquirerId),
      maskedPan: pan === undefined ? undefined : maskPan(pan),
      processingCode: request.get(Field.ProcessingCode),
      responseCode: response.get(Field.ResponseCode),
      latencyUs,
      note: tx.note,
    },
    'transaction',
  );
}
