import { z } from 'zod';
import type { RecentSnapshot } from '../observability/recent-stats.js';
import type { ReloadResult, SwitchStatus } from '../channels/atm/control.js';

/**
 * What travels over the admin socket, in both directions. net-ipc carries JSON; everything received is
 * `unknown` until one of these schemas has accepted it. Answer schemas accept unknown keys (and drop them),
 * so an older CLI still reads a newer switch's status.
 */
export const ADMIN_COMMANDS = ['status', 'drain', 'reload'] as const;
export type AdminCommand = (typeof ADMIN_COMMANDS)[number];

export const AdminErrorCode = {
  /** Not an object with a `command` string, or with keys the protocol does not know. */
  BadRequest: 'ADMIN_BAD_REQUEST',
  UnknownCommand: 'ADMIN_UNKNOWN_COMMAND',
  /** A drain or reload is already running; commands that change the switch run one at a time. */
  Busy: 'ADMIN_BUSY',
  /** The switch failed to carry the command out (and had no more precise code). */
  CommandFailed: 'ADMIN_COMMAND_FAILED',
  /** The operator audit log could not be written: commands that must be audited are refused. */
  AuditUnavailable: 'ADMIN_AUDIT_UNAVAILABLE',
} as const;
export type AdminErrorCode = (typeof AdminErrorCode)[keyof typeof AdminErrorCode];

/** The envelope first, the command name second: a misspelt command gets a better answer than "invalid". */
export const adminRequestSchema = z.object({
  command: z.string().min(1).max(64),
  /** The client's SUDO_UID, when it has one: recorded in the audit log beside the kernel's uid, never trusted. */
  sudoUid: z.string().regex(/^\d{1,10}$/).optional(),
}).strict();

export function isAdminCommand(name: string): name is AdminCommand {
  return (ADMIN_COMMANDS as readonly string[]).includes(name);
}

const sessionStatusSchema = z.object({
  id: z.string(),
  remote: z.string(),
  signedOn: z.boolean(),
  inFlight: z.number().int().min(0),
  openedAt: z.string(),
  direction: z.enum(['inbound', 'dial-out']),
});

export const switchStatusSchema = z.object({
  instanceId: z.string(),
  startedAt: z.string(),
  accepting: z.boolean(),
  listeners: z.array(z.object({ host: z.string(), port: z.number().int(), partners: z.array(z.string()) })),
  partners: z.array(z.object({ id: z.string(), name: z.string(), endpoint: z.string(), sessions: z.array(sessionStatusSchema) })),
  breaker: z.enum(['closed', 'open', 'half-open']),
  journalQueueDepth: z.number().int().min(0),
  inFlight: z.number().int().min(0),
});

export const recentSnapshotSchema = z.object({
  windowSeconds: z.number().min(0),
  count: z.number().int().min(0),
  tps: z.number().min(0),
  p50Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  maxMs: z.number().nullable(),
});

export interface StatusReport {
  readonly switch: SwitchStatus;
  /** Null when the switch runs without metrics. */
  readonly recent: RecentSnapshot | null;
}

export const statusReportSchema = z.object({ switch: switchStatusSchema, recent: recentSnapshotSchema.nullable() });

/** The switch once drained: no longer accepting, and what is still in flight (0 unless the grace ran out). */
export interface DrainResult {
  readonly accepting: boolean;
  readonly inFlight: number;
}

export const drainResultSchema = z.object({ accepting: z.boolean(), inFlight: z.number().int().min(0) });

export const reloadResultSchema = z.object({
  kept: z.array(z.string()),
  added: z.array(z.string()),
  changed: z.array(z.string()),
  removed: z.array(z.string()),
});

export interface AdminErrorBody {
  readonly code: string;
  readonly message: string;
}

export const adminErrorSchema = z.object({ code: z.string().min(1), message: z.string() });

export const adminAnswerSchema = z.union([
  z.object({ ok: z.literal(true), command: z.literal('status'), result: statusReportSchema }),
  z.object({ ok: z.literal(true), command: z.literal('drain'), result: drainResultSchema }),
  z.object({ ok: z.literal(true), command: z.literal('reload'), result: reloadResultSchema }),
  z.object({ ok: z.literal(false), error: adminErrorSchema }),
]);
export type AdminAnswer =
  | { readonly ok: true; readonly command: 'status'; readonly result: StatusReport }
  | { readonly ok: true; readonly command: 'drain'; readonly result: DrainResult }
  | { readonly ok: true; readonly command: 'reload'; readonly result: ReloadResult }
  | { readonly ok: false; readonly error: AdminErrorBody };

/** The result each command answers with. */
export interface AdminResults {
  status: StatusReport;
  drain: DrainResult;
  reload: ReloadResult;
}

// What a schema accepts must be a valid value of its interface: a field added to an interface (control.ts)
// and not to its schema fails to compile here.
type Fits<A extends B, B> = A;
type _AnswerSchemaFits = Fits<z.output<typeof adminAnswerSchema>, AdminAnswer>;
