import type { IsoMessage } from '../../iso8583/index.js';
import type { JournalWriter } from '../../journal/index.js';
import type { Logger } from '../../observability/logger.js';
import type { SwitchObserver } from '../../observability/observer.js';
import type { MacKey } from '../../security/index.js';
import { Field, ResponseCode } from '../../iso8583/vocabulary/index.js';
import { journalEntryOf, latencyMicros, maskedPanOf } from './journal-entry.js';
import { buildResponse, replayableOf } from './respond.js';
import type { DecodedTransaction, StoredResponse, SwitchServices } from './transaction.js';
import { storedAnswerOf as toStoredAnswer } from './transaction-key.js';

/** What the steps after the decision share on one connection. */
export interface AnswerDeps {
  readonly services: SwitchServices;
  readonly journal: JournalWriter;
  /** The connection's logger (partner and connection bound). */
  readonly log: Logger;
  readonly observer: SwitchObserver;
  readonly connectionId: string;
  /** Packs a response, adding its MAC when the partner uses one and `sign` is true: under `key`, else the current key. */
  readonly pack: (response: IsoMessage, sign: boolean, key: MacKey | undefined) => Buffer;
}

/** The answer of one decided transaction as it goes through the steps after the decision. */
export interface Answer {
  readonly tx: DecodedTransaction;
  response: IsoMessage;
  /** The bytes to send; undefined once packing failed, and then nothing is sent. */
  packed: Buffer | undefined;
  /** Receive-to-send latency, measured once the answer is durable, for the log line and the metrics. */
  latencyUs: number;
}

type AfterStep = (answer: Answer, deps: AnswerDeps) => void | Promise<void>;

/**
 * Answers that come from the inquiry path (a claimed key: 00, 14, 57, 94, replays, 96 after a claim; and
 * the reversal's 0430) are sent only once their journal row is durable. The others (91, 97, 58, 63, 30, 12,
 * 0810) were given without the database or before any claim, and cannot wait for it.
 */
function mustBeDurable(tx: DecodedTransaction): boolean {
  if (tx.responseCode === ResponseCode.LedgerUnavailable) return false;
  return tx.keyId !== undefined || tx.kind === 'reversal';
}

/** The transaction holds a claim this instance won (a new request, or an unknown outcome taken over). */
function ownsClaim(tx: DecodedTransaction): tx is DecodedTransaction & { keyId: number } {
  return tx.keyId !== undefined && (tx.kind === 'request' || tx.kind === 'reprocessed');
}

/**
 * The answer a claimed key keeps for its retransmissions: the first one, of a request processed here. A 91
 * is not kept: its retransmission finds the outcome unknown and is processed anew.
 */
function storedAnswerOf(tx: DecodedTransaction): { keyId: number; response: StoredResponse } | undefined {
  if (!ownsClaim(tx) || tx.responseCode === ResponseCode.LedgerUnavailable) return undefined;
  return { keyId: tx.keyId, response: replayableOf(tx) };
}

/** The answer when the journal could not make the real one durable: 91, which needs no database. */
function unavailableResponse(tx: DecodedTransaction): IsoMessage {
  tx.lookup = undefined;
  tx.replay = undefined;
  tx.outcome = 'unavailable';
  tx.decide(ResponseCode.LedgerUnavailable, 'the answer could not be journaled durably');
  return buildResponse(tx);
}

/**
 * The response: echoes per the contract plus 39 (and 54/48). Ledger data that cannot be put on the wire
 * (e.g. a malformed KPJ) is an internal failure, not a crash: 96.
 */
function respond(tx: DecodedTransaction, log: Logger): IsoMessage {
  try {
    return buildResponse(tx);
  } catch (error) {
    log.error({ err: error, session: tx.session.id }, 'cannot build the response');
    tx.lookup = undefined;
    tx.outcome = undefined;
    tx.decide(ResponseCode.SystemError, 'response could not be built');
    return buildResponse(tx);
  }
}

/** Packs (and signs, when the request's MAC was checked, under the key that verified it). */
const sign: AfterStep = (answer, { log, pack }) => {
  try {
    answer.packed = pack(answer.response, answer.tx.macChecked, answer.tx.macKey);
  } catch (error) {
    log.error({ err: error, mti: answer.response.mti }, 'cannot pack the response: no answer');
    answer.packed = undefined;
  }
};

/**
 * Journals the transaction and stores the answer its retransmissions get. Answers that come from the
 * inquiry path are sent only once durable (pipeline.ts: mustBeDurable); when the journal cannot make one
 * durable, 91 goes out instead.
 */
const record: AfterStep = async (answer, { services, journal, log, pack, connectionId }) => {
  const { tx } = answer;
  if (answer.packed === undefined) {
    if (ownsClaim(tx)) services.transactionKeys.abandon(tx.keyId);
    journal.record(journalEntryOf(tx, undefined, connectionId));
    return;
  }
  if (!mustBeDurable(tx)) {
    // A 91 after a claim keeps no answer: a retransmission will find the outcome unknown.
    if (ownsClaim(tx)) services.transactionKeys.abandon(tx.keyId);
    journal.record(journalEntryOf(tx, answer.response, connectionId));
    return;
  }
  const stored = storedAnswerOf(tx);
  try {
    await journal.commit(journalEntryOf(tx, answer.response, connectionId), stored && { inquiryKeyId: stored.keyId, ...toStoredAnswer(stored.response) });
    if (stored) services.transactionKeys.recordResponse(stored.keyId, stored.response);
  } catch (error) {
    // Nothing of it was written: that answer must not leave. 91 needs no database; the claim stays
    // unanswered, so a retransmission finds the outcome unknown and is processed anew.
    log.error({ err: error, stan: tx.request.get(Field.Stan) }, 'journal: answer not durable; answering 91 instead');
    if (ownsClaim(tx)) services.transactionKeys.abandon(tx.keyId);
    answer.response = unavailableResponse(tx);
    answer.packed = pack(answer.response, tx.macChecked, tx.macKey);
    journal.record(journalEntryOf(tx, answer.response, connectionId));
  }
};

/** One JSON line per transaction answered: partner, MTI, STAN, masked PAN, response code, latency. */
const logLine: AfterStep = (answer, { log }) => {
  const { tx, response } = answer;
  if (answer.packed === undefined) return;
  const { request } = tx;
  log.info(
    {
      kind: tx.kind,
      mti: request.mti,
      stan: request.get(Field.Stan),
      rrn: request.get(Field.Rrn),
      acquirer: request.get(Field.AcquirerId),
      maskedPan: maskedPanOf(request),
      processingCode: request.get(Field.ProcessingCode),
      responseCode: response.get(Field.ResponseCode),
      latencyUs: answer.latencyUs,
      note: tx.note,
    },
    'transaction',
  );
};

/** The transaction counted in the metrics, by partner, MTI and response code. */
const count: AfterStep = ({ tx, response, packed, latencyUs }, { observer }) => {
  if (packed === undefined) return;
  observer.transaction(tx.session.partner.id, tx.request.mti, response.get(Field.ResponseCode)!, latencyUs / 1e6);
};

/** Measured once, after the journal: the log line and the metrics report the same latency. */
const measure: AfterStep = (answer) => {
  answer.latencyUs = latencyMicros(answer.tx);
};

/** The steps after the decision (jPOS's SendResponse and the participants after it): they always run, in order. */
const AFTER_DECISION: readonly AfterStep[] = [sign, record, measure, logLine, count];

/** Gives the decided transaction its answer: built, signed, journaled (durably when it must be), logged, counted. */
export async function answerDecided(tx: DecodedTransaction, deps: AnswerDeps): Promise<Buffer | undefined> {
  const answer: Answer = { tx, response: respond(tx, deps.services.log), packed: undefined, latencyUs: 0 };
  for (const step of AFTER_DECISION) await step(answer, deps);
  return answer.packed;
}
