import { pino, type Logger, type LoggerOptions } from 'pino';
import { IsoMessage, maskedFields } from '../iso8583/index.js';

export type { Logger };

/**
 * Paths that may carry card or key material if someone logs a whole object by mistake.
 * Redaction is the safety net; the first line of defence is never putting clear PANs in log objects.
 */
export const REDACTED_PATHS: readonly string[] = [
  'pan', 'track2', 'pinBlock', 'key', 'macKey', 'cardKey', 'password',
  'fields.2', 'fields.35', 'fields.45', 'fields.52', 'fields.55',
  'request.fields.2', 'request.fields.35', 'request.fields.52', 'response.fields.2',
];
// Static paths only: a wildcard ('*.pan') makes pino walk every key of every line, about 5% of the switch's
// CPU at full load. Log objects here are flat, and test/channels/atm/log-hygiene.test.ts scans what is written.

/** An ISO 8583 message anywhere in a log object is written masked; anything else as it is. */
function maskMessage(value: unknown): unknown {
  return value instanceof IsoMessage ? maskedFields(value) : value;
}

/**
 * Serializers are the safety net for objects: pino redacts paths before JSON.stringify calls an object's
 * toJSON, so `request.fields.2` never matches an IsoMessage (its values are private) and a redact path cannot
 * protect one. These keys turn messages into their masked form first; errors go through pino's own error
 * serializer, then any message among their properties (or their causes') is masked the same way.
 */
export const LOG_SERIALIZERS: Readonly<Record<string, (value: unknown) => unknown>> = {
  err: serializeError,
  error: serializeError,
  request: maskMessage,
  response: maskMessage,
  message: maskMessage,
  answer: maskMessage,
  partial: maskMessage,
};

function serializeError(value: unknown): unknown {
  if (!(value instanceof Error)) return maskMessage(value);
  const serialized = pino.stdSerializers.err(value) as unknown as Record<string, unknown>;
  return maskInside(serialized, 0);
}

const MAX_ERROR_DEPTH = 8;

/**
 * Copies of the plain objects inside a serialized error, with messages masked. Only plain objects (and
 * pino's serialized errors) are copied: a Buffer or a Date stays as it is, and the caller's objects are
 * never changed.
 */
function maskInside(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  const errorProto: unknown = Object.getPrototypeOf(value);
  for (const [key, inner] of Object.entries(value)) {
    if (inner instanceof IsoMessage) value[key] = maskedFields(inner);
    else if (inner !== null && typeof inner === 'object' && depth < MAX_ERROR_DEPTH) {
      const proto: unknown = Object.getPrototypeOf(inner);
      if (Array.isArray(inner)) value[key] = inner.map((item: unknown) => (item instanceof IsoMessage ? maskedFields(item) : item));
      else if (proto === Object.prototype || proto === null || proto === errorProto) {
        value[key] = maskInside({ ...(inner as Record<string, unknown>) }, depth + 1);
      }
    }
  }
  return value;
}

/**
 * JSON lines are written in chunks of at least this many bytes, or every LOG_FLUSH_INTERVAL_MS, whichever
 * comes first. pino's default stdout stream hands every line (or the few that piled up during the last
 * write) to a libuv worker thread: at 2,000 inquiries/s that was about 1,500 thread hand-offs a second,
 * each waking the event loop again when done. Buffering keeps the writes off the hot path; on exit pino
 * flushes what is buffered synchronously.
 */
export const LOG_BUFFER_BYTES = 8 * 1024;
export const LOG_FLUSH_INTERVAL_MS = 100;

export interface LoggerSettings {
  level?: string;
  /** Human-readable output through pino-pretty (development). */
  pretty?: boolean;
  /** Where JSON lines go; defaults to stdout. Tests pass a stream to scan what was logged. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: 'jht-switch' },
    redact: { paths: [...REDACTED_PATHS], censor: '[REDACTED]' },
    serializers: { ...LOG_SERIALIZERS },
  };
  if (settings.destination) return pino(options, settings.destination);
  if (settings.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: { translateTime: 'SYS:standard' } } });
  }
  // sonic-boom's periodicFlush writes out a partial chunk on a timer (unref'd: it never keeps the process up).
  return pino(options, pino.destination({ dest: 1, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_INTERVAL_MS, sync: false }));
}

/** A logger that drops everything: for library callers and tests that do not care about logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
