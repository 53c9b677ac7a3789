import { createHmac } from 'node:crypto';
import { Field, ResponseCode } from '../iso-codes.js';
import type { Step, Transaction, TransactionKey } from '../transaction.js';

/** The duplicate-detection key: acquirer, STAN, transmission date-time and terminal (32 + 11 + 7 + 41). */
export function transactionKeyOf(tx: Transaction): TransactionKey {
  const request = tx.request!;
  return {
    acquirerId: request.get(Field.AcquirerId)!,
    stan: request.get(Field.Stan)!,
    transmissionAt: request.get(Field.TransmissionDateTime)!,
    terminalId: request.get(Field.TerminalId)!,
  };
}

/**
 * HMAC of the request as re-packed with the repeat digit cleared (0201 is the same request as 0200).
 * The codec is lossless, so equal digests mean byte-identical content.
 */
export function requestDigestOf(tx: Transaction, key: Buffer): Buffer {
  const canonical = tx.request!.clone();
  canonical.mti = canonical.mti.slice(0, 3) + '0';
  return createHmac('sha256', key).update(tx.packager.pack(canonical)).digest();
}

/**
 * Claims the transaction key in the shared database. A byte-identical repeat gets the original answer
 * (journaled as a retransmission, not processed twice); the same key with other content gets 94.
 */
export const detectDuplicate: Step = async (tx, services) => {
  const claim = await services.transactionKeys.claim(transactionKeyOf(tx), requestDigestOf(tx, services.digestKey), tx.request!.mti);
  tx.txnKeyId = claim.id;
  if (claim.kind === 'new') return;
  if (claim.kind === 'duplicate') {
    tx.kind = 'duplicate';
    return tx.refuse(ResponseCode.DuplicateTransmission, 'same 32+11+7+41 as an earlier request, other content');
  }
  tx.kind = 'retransmission';
  const original = claim.response ?? (await services.transactionKeys.awaitResponse(claim.id, services.ledgerTimeoutMs * 4));
  if (!original) return tx.refuse(ResponseCode.SystemError, 'retransmission of a request whose answer is not known yet');
  tx.replay = original;
  tx.responseCode = original.responseCode as ResponseCode;
};
