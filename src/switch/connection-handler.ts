import type { IsoMessage, Packager } from '../iso8583/index.js';
import { maskPan } from '../iso8583/index.js';
import type { JournalWriter } from '../journal/index.js';
import type { Logger } from '../observability/logger.js';
import type { Connection } from '../transport/connection.js';
import type { MessageHandler, Reply } from '../transport/connection-types.js';
import { Field } from './iso-codes.js';
import { journalEntryOf, latencyMicros } from './journal-entry.js';
import { processRequest } from './pipeline.js';
import type { Session } from './session.js';
import { Transaction, type SwitchServices } from './transaction.js';

export interface ConnectionHandlerDeps {
  readonly packager: Packager;
  readonly services: SwitchServices;
  readonly journal: JournalWriter;
  readonly log: Logger;
  /** Called once per answered transaction (metrics). */
  readonly onTransaction?: (tx: Transaction, response: IsoMessage) => void;
}

/**
 * Binds one partner connection to the pipeline: each frame becomes a Transaction, its answer is packed
 * and sent as soon as it is ready (in any order), journaled, and logged as one line without card data.
 */
export function createConnectionHandler(session: Session, deps: ConnectionHandlerDeps): MessageHandler {
  const { packager, services, journal, log } = deps;
  const connectionLog = log.child({ partner: session.partner.id, connection: session.id });

  async function onMessage(body: Buffer, _reply: unknown, connection: Connection): Promise<Reply> {
    const tx = new Transaction(session, packager, body);
    const outcome = await processRequest(tx, services);
    if (outcome.kind === 'garbage') {
      const { code, field, offset } = outcome.error;
      connectionLog.warn({ code, field, offset, bytes: body.length }, 'undecodable message (MTI or bitmap): no answer');
      if (connection.recordGarbage()) connectionLog.warn('too many undecodable messages: closing the connection');
      return null;
    }
    if (outcome.kind === 'ignore') {
      connectionLog.info({ mti: tx.request?.mti, stan: tx.request?.get(Field.Stan) }, outcome.reason);
      return null;
    }
    let packed: Buffer;
    try {
      packed = packager.pack(outcome.response);
    } catch (error) {
      connectionLog.error({ err: error, mti: outcome.response.mti }, 'cannot pack the response: no answer');
      journal.record(journalEntryOf(tx, undefined, session.id));
      return null;
    }
    journal.record(journalEntryOf(tx, outcome.response, session.id));
    logTransaction(connectionLog, tx, outcome.response);
    deps.onTransaction?.(tx, outcome.response);
    return packed;
  }

  // The transport logs the connection's close with its counters; nothing to add here.
  return { onMessage };
}

/** One JSON line per transaction: partner, MTI, STAN, masked PAN, response code, latency. */
function logTransaction(log: Logger, tx: Transaction, response: IsoMessage): void {
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
      latencyUs: latencyMicros(tx),
      note: tx.note,
    },
    'transaction',
  );
}
