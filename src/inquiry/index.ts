/** The channel-neutral inquiry core: channels (src/channels/*) import from here. */
export { ACCESS_RULE, STAFF_REASON_CODES, checkAfterRead, checkBeforeRead, checkInstrumentRead } from './access-policy.js';
export type { AccessRule, Credential, InstrumentRecord, ParticipantRecord, Verdict } from './access-policy.js';
export { IdempotencyStore } from './idempotency-store.js';
export type { KeyClaim } from './idempotency-store.js';
export { CHANNELS, describeRequester, maskKpj } from './inquiry.js';
export type { Channel, Inquiry, ParticipantRef, Requester, StaffReason } from './inquiry.js';
export { InquiryCore } from './inquiry-core.js';
export type { InquiryCoreOptions, InquiryJournal, InquiryObserver } from './inquiry-core.js';
export { createInquiryMetrics } from './metrics.js';
export type { BalanceAnswer, InquiryOutcome, Refusal } from './outcome.js';
export { ParticipantReader } from './participant-reader.js';
export type { ReadResult } from './participant-reader.js';
export { RateLimiter } from './rate-limiter.js';
export { ClaimStore } from './claims/claim-store.js';
export type { ClaimStoreOptions } from './claims/claim-store.js';
export type { ClaimOutcome, InquiryKey, ReversalMark, StoredAnswer } from './claims/claim.js';
