/**
 * What every channel hands the core, in channel-neutral terms: who asks (channel and requester), for whom
 * (a participant reference), and, when the channel has one, its idempotency key. The ATM's fields 32, 11, 7
 * and 41 or a REST client's `Idempotency-Key` are both just "a key in the channel's terms" here.
 */

/** Where an inquiry comes from. REST clients are mapped to one of these by their client id (never by the body). */
export const CHANNELS = ['atm', 'app', 'web', 'counter', 'call-centre', 'kiosk'] as const;
export type Channel = (typeof CHANNELS)[number];

export type Requester =
  /** A partner bank's ATM host. */
  | { readonly kind: 'partner'; readonly partnerId: string; readonly terminalId: string }
  /** An OAuth client acting for its logged-in user (the app or the website): the subject is the KPJ. */
  | { readonly kind: 'oauth'; readonly clientId: string; readonly subject: string }
  /** A member of staff at the counter or the call centre, through their desk's client. */
  | { readonly kind: 'staff'; readonly clientId: string; readonly staffId: string }
  /** A kiosk: its client id, bound to its device certificate (the certificate's SHA-256 thumbprint). */
  | { readonly kind: 'device'; readonly clientId: string; readonly certificateThumbprint: string };

export type ParticipantRef =
  | { readonly kind: 'card'; readonly pan: string }
  | { readonly kind: 'account'; readonly account: string }
  | { readonly kind: 'kpj'; readonly kpj: string }
  | { readonly kind: 'kpj+nik'; readonly kpj: string; readonly nik: string };

/** Why a member of staff looks a participant up: a code from a fixed list and the ticket it belongs to. */
export interface StaffReason {
  readonly code: string;
  readonly ticketId: string;
}

export interface Inquiry {
  readonly channel: Channel;
  readonly requester: Requester;
  readonly participant: ParticipantRef;
  /** The channel's idempotency key, if the request carried one: honoured per requester. */
  readonly idempotencyKey?: string | undefined;
  readonly reason?: StaffReason | undefined;
  readonly receivedAt: Date;
  /** performance.now() when the channel received it: latency and the ledger's budget count from here. */
  readonly startedAt: number;
  /** The peer's address, for the journal. */
  readonly remoteAddress?: string | undefined;
}

/**
 * Who the journal says asked, without anything secret (never a token) and without a KPJ in clear: the
 * subject of a participant's own token is their KPJ, so it is masked like one (participant_id says who).
 */
export function describeRequester(requester: Requester): string {
  switch (requester.kind) {
    case 'partner': return `${requester.partnerId}/${requester.terminalId}`;
    case 'oauth': return `${requester.clientId}/subject:${maskKpj(requester.subject)}`;
    case 'staff': return `${requester.clientId}/staff:${requester.staffId}`;
    case 'device': return `${requester.clientId}/device:${requester.certificateThumbprint.slice(0, 16)}`;
  }
}

/** The KPJ as the journal and the logs may show it: its last four digits only. */
export function maskKpj(kpj: string): string {
  return '*'.repeat(Math.max(0, kpj.length - 4)) + kpj.slice(-4);
}
