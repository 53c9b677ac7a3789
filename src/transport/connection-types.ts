import type { Logger } from '../observability/logger.js';
import type { Framing, ReplyContext } from './framing/framing.js';
import type { Connection } from './connection.js';

/** A response body to write, or nothing (the message needs no answer, or the handler sends it itself). */
export type Reply = Buffer | null | undefined | void;

export interface MessageHandler {
  /**
   * One message body (no length header, no TPDU; a view the handler may keep). Return, or resolve to,
   * the response body: it is framed with `replyContext` and written as soon as it is ready, whatever
   * the order of other pending messages. Until it settles the message counts as in flight, which is
   * what backpressure measures. Must not throw for a peer's sake; if it does, the error is logged
   * and the message goes unanswered.
   */
  onMessage(body: Buffer, replyContext: ReplyContext, connection: Connection): Reply | Promise<Reply>;
  /** After the socket has closed, once. */
  onClose?(info: CloseInfo, connection: Connection): void;
}

export type CloseReason =
  /** The peer ended its side (FIN); in-flight replies were still sent. */
  | 'PEER_ENDED'
  /** A socket error (ECONNRESET, EPIPE, TLS alert …); `errorCode` says which. */
  | 'SOCKET_ERROR'
  | 'IDLE_TIMEOUT'
  /** A bad length header: the stream cannot be resynchronised. */
  | 'FRAMING_ERROR'
  /** The switch reported too many undecodable messages (Connection.recordGarbage). */
  | 'TOO_MUCH_GARBAGE'
  /** end(): graceful, in-flight replies sent first. */
  | 'LOCAL_END'
  /** A frame begun was not complete within frameDeadlineMs (a peer trickling bytes). */
  | 'FRAME_DEADLINE'
  /** The partner's connection did not sign on within its deadline (the switch ends it). */
  | 'SIGN_ON_DEADLINE'
  /** The stream opened with `refusedOpening` (a PROXY header from a peer that is not a trusted proxy). */
  | 'REFUSED_OPENING'
  /** Closed to make room under the per-source cap on connections not signed on. */
  | 'EVICTED'
  /** destroy(). (A graceful end that overruns its grace period is destroyed but keeps its first reason.) */
  | 'LOCAL_DESTROY';

export interface ConnectionStats {
  readonly framesIn: number;
  readonly framesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Messages handed to the handler and not yet settled. */
  readonly inFlight: number;
  /** How many times reading was paused for backpressure. */
  readonly readPauses: number;
  readonly garbageFrames: number;
  /** Replies that could not be written because the socket had closed. */
  readonly repliesDropped: number;
  /** Frames received while ending, not handed to the handler. */
  readonly framesDiscarded: number;
}

export interface CloseInfo {
  readonly reason: CloseReason;
  /** The socket or framing error code behind SOCKET_ERROR / FRAMING_ERROR. */
  readonly errorCode?: string;
  readonly durationMs: number;
  readonly stats: ConnectionStats;
}

export interface ConnectionOptions {
  readonly framing: Framing;
  readonly logger?: Logger;
  /** Largest frame accepted or sent, counting what follows the length field. Default 8192. */
  readonly maxFrameBytes?: number;
  /** Close after this long without traffic either way; 0 disables. Default 0. */
  readonly idleTimeoutMs?: number;
  /** Stop reading while this many messages await their reply. Default 64. */
  readonly maxInFlight?: number;
  /**
   * Stop reading while the socket refuses writes (write() returned false) and at least this many bytes
   * wait in its buffer. Default 64 KiB. With maxInFlight this bounds what a peer that never reads can
   * make the switch hold: about maxBufferedWriteBytes + maxInFlight × maxFrameBytes.
   */
  readonly maxBufferedWriteBytes?: number;
  /** recordGarbage() closes the connection at this count; 0 never. Default 0. */
  readonly maxGarbageFrames?: number;
  /** Bytes the stream may not open with; a stream that does is destroyed (REFUSED_OPENING) before any frame is cut. */
  readonly refusedOpening?: Buffer;
  /** A frame whose first byte has arrived must be complete within this; 0 never. Default 0. */
  readonly frameDeadlineMs?: number;
  /** How long a graceful end waits for in-flight replies and the peer's FIN before destroying. Default 5000. */
  readonly endGraceMs?: number;
}

export const CONNECTION_DEFAULTS = {
  maxInFlight: 64,
  maxBufferedWriteBytes: 64 * 1024,
  endGraceMs: 5000,
} as const;
