/**
 * What the journal records about a message. `request` is an inquiry processed normally; the others say
 * why it was not: answered from a previous response, refused as a duplicate (94), and so on.
 */
export type JournalKind =
  | 'request'
  | 'retransmission'
  /** A retransmission whose original's outcome was unknown (claimed, never answered): processed anew. */
  | 'reprocessed'
  | 'duplicate'
  | 'reversal'
  | 'network'
  | 'format-error'
  /** Decoded but never answered (e.g. the connection closed first, or the switch shut down). */
  | 'unanswered';

/** One request/response pair, as the switch hands it to `JournalWriter.record`. */
export interface JournalEntry {
  kind: JournalKind;
  /** The channel it came in on (src/inquiry/inquiry.ts CHANNELS): 'atm', 'app', 'counter', ... */
  channel: string;
  partnerId?: string | undefined;
  requestMti?: string | undefined;
  responseMti?: string | undefined;
  /** Field 11. */
  stan?: string | undefined;
  /** Field 7, MMDDhhmmss as sent. */
  transmissionAt?: string | undefined;
  /** Field 41. */
  terminalId?: string | undefined;
  /** Field 37, retrieval reference number. */
  rrn?: string | undefined;
  /** Field 32. */
  acquirerId?: string | undefined;
  /**
   * Field 2 as the channel masked it (first 6 + last 4): the journal never receives a clear card number, so
   * it needs no codec to mask one (the ATM's journal-entry.ts masks it before handing it over).
   */
  maskedPan?: string | undefined;
  /** Field 3. */
  processingCode?: string | undefined;
  /** Field 39 of the response. */
  responseCode?: string | undefined;
  receivedAt: Date;
  respondedAt?: Date | undefined;
  /**
   * Receive to answer-ready, in microseconds, from a monotonic clock. For an answer that waits for its durable
   * commit that wait is not in it, since the row is written by that commit: the client sees it on top.
   */
  latencyMicros?: number | undefined;
  /**
   * The `inquiry_key` row this message was matched to: the id `claim` returned for a request, the original's
   * for a retransmission or a duplicate, the one `markReversed` found for a reversal.
   */
  inquiryKeyId?: number | undefined;
  connectionId?: string | undefined;
  /** Who asked, in the core's terms (src/inquiry/inquiry.ts describeRequester): for the ATM "<partner>/<41>". */
  requester?: string | undefined;
  /** The participant the answer was about (participant.id), when the ledger found one. */
  participantId?: bigint | undefined;
  /** The participant's KPJ, last four digits only. */
  maskedKpj?: string | undefined;
  /** The core's outcome (src/inquiry/outcome.ts): 'answered' or the refusal, when the access policy decided. */
  outcome?: string | undefined;
  remoteAddress?: string | undefined;
  /** A staff inquiry's reason (src/inquiry/access-policy.ts STAFF_REASON_CODES) and ticket id: codes, never free text. */
  reasonCode?: string | undefined;
  ticketId?: string | undefined;
  /** The answer's `reference`, for channels that give one (REST): what a participant or an agent quotes. */
  reference?: string | undefined;
}
