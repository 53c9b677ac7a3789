import type { IsoMessage, Packager } from '../../../iso8583/index.js';
import { requestDigest, type RequestDigest } from '../../../journal/index.js';
import type { KeyRing } from '../../../security/keys/index.js';
import { LedgerUnavailableError } from '../../../ledger/index.js';
import { Field, ResponseCode } from '../../../iso8583/vocabulary/index.js';
import { CONTINUE, refuse, type DecodedTransaction, type Step, type TransactionKey } from '../transaction.js';
import { instrumentOf } from './lookup-participant.js';

/** The duplicate-detection key: acquirer, STAN, transmission date-time and terminal (32 + 11 + 7 + 41). */
export function transactionKeyOf(tx: DecodedTransaction): TransactionKey {
  const request = tx.request;
  return {
    acquirerId: request.get(Field.AcquirerId)!,
    stan: request.get(Field.Stan)!,
    transmissionAt: request.get(Field.TransmissionDateTime)!,
    terminalId: request.get(Field.TerminalId)!,
  };
}

/**
 * Fields left out of the digest. The MAC covers the MTI, so a repeat's MAC differs. Sensitive authentication
 * data (tracks 2, 3 and 1, the PIN block, ICC data) must not be retained after the answer in any form, a
 * keyed hash included (PCI DSS 3.3.1), and the digest is kept for 3 days: two requests that differ only
 * there count as the same request, which the PAN and the other fields still pin down.
 */
export const DIGEST_EXCLUDED_FIELDS: readonly number[] = [Field.Track2, 36, 45, 52, 55, Field.Mac, Field.Mac2];

/**
 * HMAC of the request as re-packed with the repeat digit cleared (0201 is the same request as 0200) and
 * without the fields of {@link DIGEST_EXCLUDED_FIELDS}. The codec is lossless, so equal digests mean
 * byte-identical content in every other field.
 */
export function requestDigestOf(request: IsoMessage, packager: Packager, keys: KeyRing): RequestDigest {
  const canonical = request.clone();
  for (const field of DIGEST_EXCLUDED_FIELDS) canonical.delete(field);
  canonical.mti = canonical.mti.slice(0, 3) + '0';
  return requestDigest(keys, packager.pack(canonical));
}

/** The claim shares the ledger's time budget; a database failure behind it is the ledger being unavailable. */
async function withinBudget<T>(work: Promise<T>, budgetMs: number, onLate: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate();
      reject(new LedgerUnavailableError('timeout', 'duplicate check'));
    }, budgetMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } catch (error) {
    if (error instanceof LedgerUnavailableError) throw error;
    throw new LedgerUnavailableError('database-error', 'duplicate check', { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Claims the transaction key in the shared database. A byte-identical repeat gets the original answer
 * (journaled as a retransmission, not processed twice); the same key with other content gets 94. A new
 * request's ledger read rides in the claim's statement: one round trip for both.
 */
export const detectDuplicate: Step = async (tx, services) => {
  // The keys live in the ledger's database: when the breaker says it is away, answer 91 now rather than
  // wait for a connection that will not come.
  if (services.ledger.state === 'open') throw new LedgerUnavailableError('breaker-open');
  const keys = services.transactionKeys;
  const claiming = keys.claim(transactionKeyOf(tx), requestDigestOf(tx.request, tx.packager, services.keys), tx.request.mti, instrumentOf(tx, services));
  // A claim that lands after the ATM got its 91 has no answer, and never will from here: a retransmission
  // finds its outcome unknown and processes it anew (see below), rather than being told 91 again.
  const abandonLateClaim = (): void => {
    claiming.then((late) => {
      if (late.kind === 'new') keys.abandon(late.id);
    }, () => undefined);
  };
  const claim = await withinBudget(claiming, services.ledgerTimeoutMs, abandonLateClaim);
  tx.keyId = claim.id;
  if (claim.kind === 'new') {
    tx.lookup = claim.lookup;
    return CONTINUE;
  }
  if (claim.kind === 'duplicate') {
    tx.kind = 'duplicate';
    return refuse(ResponseCode.DuplicateTransmission, 'same 32+11+7+41 as an earlier request, other content');
  }
  tx.kind = 'retransmission';
  // The original's answer comes within its budget and one commit; a claim older than this wait without an
  // answer will not get one (its instance died, e.g. before a restart): no need to wait for it again.
  const waitMs = services.ledgerTimeoutMs * 4;
  let original = claim.response ??
    (claim.claimAgeMs < waitMs ? await keys.awaitResponse(claim.id, waitMs - claim.claimAgeMs) : undefined);
  if (!original) {
    // Claimed, never answered: its instance died (or its answer never became durable) before it answered.
    // A balance inquiry is safe to run again; one instance takes the claim over, atomically.
    const taken = await withinBudget(keys.reclaim(claim.id, claim.claimedBy, instrumentOf(tx, services)), services.ledgerTimeoutMs, () => undefined);
    if (taken.won) {
      tx.kind = 'reprocessed';
      tx.lookup = taken.lookup;
      tx.note = 'the original\'s outcome was unknown: processed anew';
      return CONTINUE;
    }
    original = await keys.awaitResponse(claim.id, waitMs); // another instance took it over just now
  }
  if (!original) return refuse(ResponseCode.SystemError, 'retransmission of a request whose answer is not known yet');
  return { answer: 'replay', stored: original };
};
