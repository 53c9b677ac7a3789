import { randomUUID } from 'node:crypto';
import type { AnswerToStore, JournalEntry } from '../journal/index.js';
import type { Logger } from '../observability/logger.js';
import type { KeyRing } from '../security/keys/index.js';
import { checkAfterRead, checkBeforeRead, type Credential, type ParticipantRecord } from './access-policy.js';
import type { IdempotencyStore, KeyClaim } from './idempotency-store.js';
import { describeRequester, maskKpj, type Inquiry } from './inquiry.js';
import { isFinal, replayOutcome, storeOutcome, type InquiryOutcome, type Refusal, type RefusedOutcome } from './outcome.js';
import type { ParticipantReader } from './participant-reader.js';
import type { RateLimiter } from './rate-limiter.js';

/** Counts inquiries by channel and outcome (the Prometheus side is src/inquiry/metrics.ts). */
export interface InquiryObserver {
  inquiry(channel: string, outcome: string, latencySeconds: number): void;
}

/**
 * The switch's one journal (JournalWriter), shared with the ATM: `commit` resolves once the row, and the
 * answer a repeat will get, are durable (answers that come from the ledger wait for it); `record` is best
 * effort, for answers given without the database, and counts what it could not write.
 */
export interface InquiryJournal {
  commit(entry: JournalEntry, answer?: AnswerToStore): Promise<void>;
  record(entry: JournalEntry): void;
}

export interface InquiryCoreOptions {
  reader: ParticipantReader;
  keys: IdempotencyStore;
  journal: InquiryJournal;
  /** Inquiries per participant, whoever asks: a kiosk cannot try NIKs, nor staff browse one person, unbounded. */
  participantLimiter: RateLimiter;
  /** The data keys: NIKs are compared under their `contact` key, request digests made under `request-digest`. */
  dataKeys: KeyRing;
  /** Retry-After when the ledger is unavailable: about the breaker's reset time. */
  unavailableRetryAfterSeconds: number;
  log: Logger;
  observer?: InquiryObserver;
}

/**
 * The channel-neutral balance inquiry: access policy, per-participant limit, idempotency, the ledger read
 * behind the breaker and its budget, the durable journal, metrics. Every path returns an outcome; none
 * throws. The order: scope and ownership before anything is read, so a refusal costs no ledger read.
 */
export class InquiryCore {
  constructor(private readonly options: InquiryCoreOptions) {}

  async balance(credential: Credential, inquiry: Inquiry): Promise<InquiryOutcome> {
    const reference = randomUUID();
    const before = checkBeforeRead(credential, inquiry);
    if (before.kind === 'refuse') return this.finish(inquiry, refused(before.refusal, reference, before.detail), { durable: true });

    const kpj = inquiry.participant.kind === 'kpj' || inquiry.participant.kind === 'kpj+nik' ? inquiry.participant.kpj : undefined;
    if (kpj === undefined) return this.finish(inquiry, refused('incomplete', reference, 'this channel names the participant by KPJ'), { durable: true });
    const admission = this.options.participantLimiter.take(kpj);
    if (!admission.allowed) {
      return this.finish(inquiry, { ...refused('rate-limited', reference), retryAfterSeconds: admission.retryAfterSeconds }, { durable: false });
    }

    let claim: KeyClaim | undefined;
    if (inquiry.idempotencyKey !== undefined) {
      try {
        claim = await this.options.keys.claim(inquiry.channel, requesterKey(inquiry), inquiry.idempotencyKey, this.digest(inquiry));
      } catch (error) {
        this.options.log.warn({ err: error, channel: inquiry.channel }, 'inquiry: idempotency key store unavailable');
        return this.finish(inquiry, this.unavailable(reference), { durable: false });
      }
      if (claim.kind === 'replay') return this.finish(inquiry, replayOutcome(claim.outcome), { durable: true, keyId: claim.id });
      if (claim.kind === 'in-flight') return this.finish(inquiry, refused('in-flight', reference), { durable: true, keyId: claim.id });
      if (claim.kind === 'reused') return this.finish(inquiry, refused('key-reused', reference), { durable: true, keyId: claim.id });
    }
    const keyId = claim?.id;

    const read = await this.options.reader.read(kpj, inquiry.startedAt);
    if (read.kind === 'unavailable') {
      this.options.log.warn({ channel: inquiry.channel, reason: read.reason }, 'inquiry: ledger unavailable');
      if (keyId !== undefined) this.release(keyId);
      return this.finish(inquiry, this.unavailable(reference), { durable: false });
    }
    const after = checkAfterRead(inquiry, read.record, this.options.dataKeys);
    const outcome: InquiryOutcome = after.kind === 'allow'
      ? { kind: 'answered', answer: answerOf(read.record!), reference, replayed: false }
      : { ...refused(after.refusal, reference), ...(read.record ? { participantId: read.record.id } : {}) };
    return this.finish(inquiry, outcome, { durable: true, keyId, store: keyId !== undefined });
  }

  /** Journals (durably unless told otherwise), counts and logs; a journal that cannot be written turns it into unavailable. */
  private async finish(inquiry: Inquiry, outcome: InquiryOutcome, how: { durable: boolean; keyId?: number | undefined; store?: boolean }): Promise<InquiryOutcome> {
    const respondedAt = new Date();
    const latencyMs = performance.now() - inquiry.startedAt;
    const label = outcome.kind === 'answered' ? 'answered' : outcome.refusal;
    const ref = inquiry.participant;
    const entry: JournalEntry = {
      kind: outcome.replayed ? 'retransmission' : 'request',
      channel: inquiry.channel,
      requester: describeRequester(inquiry.requester),
      participantId: outcome.kind === 'answered' ? outcome.answer.participantId : outcome.participantId,
      maskedKpj: ref.kind === 'kpj' || ref.kind === 'kpj+nik' ? maskKpj(ref.kpj) : undefined,
      outcome: label,
      reasonCode: inquiry.reason?.code,
      ticketId: inquiry.reason?.ticketId,
      reference: outcome.reference,
      inquiryKeyId: how.keyId,
      receivedAt: inquiry.receivedAt,
      respondedAt,
      latencyMicros: latencyMs * 1000,
      remoteAddress: inquiry.remoteAddress,
    };
    const answer = how.store === true && how.keyId !== undefined && isFinal(outcome) ? { inquiryKeyId: how.keyId, outcome: label, body: storeOutcome(outcome) } : undefined;
    let final = outcome;
    if (how.durable) {
      try {
        await this.options.journal.commit(entry, answer);
      } catch (error) {
        this.options.log.error({ err: error, channel: inquiry.channel, reference: outcome.reference }, 'inquiry: journal write failed; answering unavailable');
        if (how.keyId !== undefined && how.store === true) this.release(how.keyId);
        final = this.unavailable(outcome.reference);
      }
    } else {
      // Given without the ledger (rate-limited, unavailable): it cannot wait for the database.
      this.options.journal.record(entry);
    }
    const finalLabel = final.kind === 'answered' ? 'answered' : final.refusal;
    this.options.observer?.inquiry(inquiry.channel, finalLabel, latencyMs / 1000);
    this.options.log.info({ channel: inquiry.channel, outcome: finalLabel, reference: final.reference, replayed: final.replayed, ms: Math.round(latencyMs * 10) / 10 }, 'inquiry');
    return final;
  }

  private unavailable(reference: string): InquiryOutcome {
    return { ...refused('unavailable', reference), retryAfterSeconds: this.options.unavailableRetryAfterSeconds };
  }

  private release(keyId: number): void {
    this.options.keys.release(keyId).catch((error: unknown) => {
      // Left claimed: it is taken over once stale (IdempotencyStore's staleAfterMs).
      this.options.log.warn({ err: error }, 'inquiry: idempotency key not released');
    });
  }

  /** Same key, same participant and reason = the same request; the NIK is inside the HMAC, never stored. */
  private digest(inquiry: Inquiry): Buffer {
    const ref = inquiry.participant;
    const parts = [inquiry.channel, ref.kind, ref.kind === 'kpj' || ref.kind === 'kpj+nik' ? ref.kpj : '', ref.kind === 'kpj+nik' ? ref.nik : '',
      inquiry.reason?.code ?? '', inquiry.reason?.ticketId ?? ''];
    return this.options.dataKeys.current.hmac('request-digest', JSON.stringify(parts));
  }
}

function refused(refusal: Refusal, reference: string, detail?: string): RefusedOutcome {
  return detail === undefined ? { kind: 'refused', refusal, reference, replayed: false } : { kind: 'refused', refusal, reference, replayed: false, detail };
}

function answerOf(record: ParticipantRecord) {
  return { participantId: record.id, kpj: record.kpj, name: record.name, balanceSen: record.balanceSen, asOf: record.asOf };
}

/** Keys are honoured per client: two clients' keys never collide, and one client's staff share its keys. */
function requesterKey(inquiry: Inquiry): string {
  const r = inquiry.requester;
  return r.kind === 'partner' ? r.partnerId : r.clientId;
}
