import type { Socket } from 'node:net';
import { silentLogger, type Logger } from '../observability/logger.js';
import {
  CONNECTION_DEFAULTS,
  type CloseInfo,
  type CloseReason,
  type ConnectionOptions,
  type ConnectionStats,
  type MessageHandler,
  type Reply,
} from './connection-types.js';
import { FramingError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, FrameReader } from './frame-reader.js';
import type { Framing, ReplyContext } from './framing/framing.js';
import { OpeningScreen } from './opening-screen.js';
import { describePeer, peerOf, type PeerInfo } from './peer.js';

/** Errors that are a peer going away, not a fault worth a warning. */
const ROUTINE_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED']);

let nextConnectionId = 1;
const SILENT = silentLogger();

type State = 'new' | 'open' | 'ending' | 'closed';

/**
 * One framed, persistent connection: a socket plus a framing. Hands each message body to the handler,
 * writes replies as they become ready (no head-of-line blocking), and pushes back on the peer by
 * pausing reads when replies pile up. Never throws for what the peer does; every way it ends is
 * logged once, with counters, and reported through `closed` and the handler's onClose.
 */
export class Connection {
  readonly id: string;
  readonly socket: Socket;
  readonly peer: PeerInfo;
  /** Settles (never rejects) once the socket has closed. */
  readonly closed: Promise<CloseInfo>;

  private readonly framing: Framing;
  private readonly reader: FrameReader;
  private readonly log: Logger;
  private readonly maxFrameBytes: number;
  private readonly maxInFlight: number;
  private readonly maxBufferedWriteBytes: number;
  private readonly maxGarbageFrames: number;
  private readonly endGraceMs: number;
  private readonly frameDeadlineMs: number;
  private frameTimer: NodeJS.Timeout | undefined;
  private readonly openingScreen: OpeningScreen | undefined;
  private readonly openedAt = Date.now();
  private handler: MessageHandler | undefined;
  private state: State = 'new';
  private reason: CloseReason | undefined;
  private errorCode: string | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private resolveClosed!: (info: CloseInfo) => void;

  private framesIn = 0;
  private framesOut = 0;
  private bytesIn = 0;
  private bytesOut = 0;
  private inFlight = 0;
  private readPauses = 0;
  private garbageFrames = 0;
  private repliesDropped = 0;
  private framesDiscarded = 0;

  /** `relayedFor`: the client address a trusted proxy's PROXY header carried (see proxy-protocol.ts). */
  constructor(socket: Socket, options: ConnectionOptions, relayedFor?: { address: string; port: number }) {
    this.id = `conn-${nextConnectionId++}`;
    this.socket = socket;
    this.peer = peerOf(socket, relayedFor);
    this.framing = options.framing;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxInFlight = options.maxInFlight ?? CONNECTION_DEFAULTS.maxInFlight;
    this.maxBufferedWriteBytes = options.maxBufferedWriteBytes ?? CONNECTION_DEFAULTS.maxBufferedWriteBytes;
    this.maxGarbageFrames = options.maxGarbageFrames ?? 0;
    this.endGraceMs = options.endGraceMs ?? CONNECTION_DEFAULTS.endGraceMs;
    this.frameDeadlineMs = options.frameDeadlineMs ?? 0;
    this.openingScreen = options.refusedOpening !== undefined ? new OpeningScreen(options.refusedOpening) : undefined;
    this.log = (options.logger ?? SILENT).child({ conn: this.id, peer: describePeer(this.peer) });
    this.reader = new FrameReader(this.framing, this.onFrame, this.maxFrameBytes);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));

    // Listeners that keep a bad peer from crashing the process go on first, before anything can fail.
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onDrain);
    socket.on('end', this.onPeerEnd);
    socket.on('timeout', this.onIdle);
    socket.setNoDelay(true);
    if ((options.idleTimeoutMs ?? 0) > 0) socket.setTimeout(options.idleTimeoutMs!);
  }

  /** Starts reading; messages go to `handler`. Separate from the constructor so the handler can know the connection. */
  start(handler: MessageHandler): void {
    if (this.state !== 'new') return;
    this.handler = handler;
    this.state = 'open';
    this.socket.on('data', this.onData);
    this.socket.resume(); // a listener that read a PROXY header left the socket paused
    this.log.info({ tlsSubject: this.peer.tlsSubject, tlsProtocol: this.peer.tlsProtocol }, 'connection open');
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get stats(): ConnectionStats {
    return {
      framesIn: this.framesIn, framesOut: this.framesOut, bytesIn: this.bytesIn, bytesOut: this.bytesOut,
      inFlight: this.inFlight, readPauses: this.readPauses, garbageFrames: this.garbageFrames,
      repliesDropped: this.repliesDropped, framesDiscarded: this.framesDiscarded,
    };
  }

  /**
   * Frames and writes one message: a reply (pass the request's replyContext) or one the switch
   * originates (sign-on, echo). Returns false if the connection can no longer write (the message is
   * dropped and counted).
   * @throws FramingError FRAME_TOO_LARGE / FRAME_EMPTY: a bug on this side, not the peer's.
   */
  send(body: Buffer, replyContext?: ReplyContext): boolean {
    if (this.state === 'closed' || this.socket.destroyed || this.socket.writableEnded) {
      this.repliesDropped++;
      this.log.debug({ bytes: body.length }, 'message dropped: connection no longer writable');
      return false;
    }
    const payload = this.framing.headerLength - this.framing.lengthFieldBytes + body.length;
    if (payload > this.maxFrameBytes) {
      throw new FramingError('FRAME_TOO_LARGE', 0, `refusing to send ${payload} bytes, more than the ${this.maxFrameBytes} allowed`);
    }
    const frame = this.framing.frame(body, replyContext);
    this.framesOut++;
    this.bytesOut += frame.length;
    // Replies settle in bursts (a ledger batch answers many at once): corked until the loop turns, they
    // leave in one writev instead of one syscall each.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(this.uncork);
    }
    if (!this.socket.write(frame)) this.updateFlow();
    return true;
  }

  private corked = false;
  private readonly uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  /**
   * The switch calls this for each message it could not decode. Returns whether the connection stays
   * open: at maxGarbageFrames it ends (gracefully: replies already in flight still go out).
   */
  recordGarbage(): boolean {
    this.garbageFrames++;
    if (this.maxGarbageFrames > 0 && this.garbageFrames >= this.maxGarbageFrames && this.state === 'open') {
      this.log.warn({ garbageFrames: this.garbageFrames }, 'closing: too many undecodable messages');
      this.beginEnding('TOO_MUCH_GARBAGE', this.endGraceMs);
    }
    return this.state === 'open';
  }

  /**
   * Graceful close: stop taking messages, let in-flight replies be written, flush, send FIN, wait for
   * the peer's FIN. Destroys the socket if that takes longer than `graceMs`.
   */
  end(graceMs = this.endGraceMs, reason: CloseReason = 'LOCAL_END'): Promise<CloseInfo> {
    this.beginEnding(reason, graceMs);
    return this.closed;
  }

  /** Immediate close; queued writes are lost. */
  destroy(reason: CloseReason = 'LOCAL_DESTROY'): void {
    this.reason ??= reason;
    this.socket.destroy();
  }

  private readonly onData = (received: Buffer): void => {
    this.bytesIn += received.length;
    if (this.state !== 'open') return; // ending: draining the peer's bytes until its FIN
    const chunk = this.openingScreen === undefined ? received : this.openingScreen.screen(received);
    if (chunk === undefined) return;
    if (chunk === 'refused') {
      this.log.info('closing: the stream opened with bytes refused on this listener');
      this.destroy('REFUSED_OPENING');
      return;
    }
    try {
      this.reader.push(chunk);
      this.watchFrameDeadline();
    } catch (err) {
      if (err instanceof FramingError) {
        this.errorCode = err.code;
        this.log.warn({ code: err.code, offset: err.offset, reason: err.reason }, 'closing: framing error');
        this.beginEnding('FRAMING_ERROR', this.endGraceMs);
        return;
      }
      // A bug on this side; thrown from a socket event it would take the whole process down.
      this.log.error({ errName: (err as { name?: unknown }).name }, 'internal error reading a frame; closing');
      this.destroy();
    }
  };

  /** A frame begun starts the clock; each complete frame stops it (onFrame), the next one starts it again. */
  private watchFrameDeadline(): void {
    if (this.frameDeadlineMs <= 0 || this.frameTimer !== undefined || !this.reader.midFrame || this.state !== 'open') return;
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      if (!this.reader.midFrame || this.state !== 'open') return;
      this.log.info({ frameDeadlineMs: this.frameDeadlineMs, bufferedBytes: this.reader.bufferedBytes }, 'closing: frame not complete within its deadline');
      this.beginEnding('FRAME_DEADLINE', this.endGraceMs);
      // Whoever trickles a frame also trickles its FIN: nothing is owed to it, so its socket goes at once.
      if (this.inFlight === 0) this.socket.destroy();
    }, this.frameDeadlineMs);
    this.frameTimer.unref();
  }

  private readonly onFrame = (body: Buffer, replyContext: ReplyContext): void => {
    if (this.frameTimer !== undefined) {
      clearTimeout(this.frameTimer);
      this.frameTimer = undefined;
    }
    if (this.state !== 'open') {
      this.framesDiscarded++;
      return;
    }
    this.framesIn++;
    this.inFlight++;
    let result: Reply | Promise<Reply>;
    try {
      result = this.handler!.onMessage(body, replyContext, this);
    } catch (err) {
      this.handlerFailed(err);
      return;
    }
    if (isThenable(result)) {
      result.then(
        (reply) => this.settle(reply, replyContext),
        (err: unknown) => this.handlerFailed(err),
      );
      this.updateFlow();
    } else {
      this.settle(result, replyContext);
    }
  };

  private settle(reply: Reply, replyContext: ReplyContext): void {
    this.inFlight--;
    if (reply instanceof Buffer) {
      try {
        this.send(reply, replyContext);
      } catch (err) {
        this.log.error({ code: (err as { code?: unknown }).code, bytes: reply.length }, 'reply not sent');
      }
    }
    this.afterSettle();
  }

  private handlerFailed(err: unknown): void {
    this.inFlight--;
    // The error's message is the handler's; it must not carry card data, but log only name and code to be safe.
    const e = err as { name?: unknown; code?: unknown };
    this.log.error({ errName: e.name, code: e.code }, 'message handler failed; message unanswered');
    this.afterSettle();
  }

  private afterSettle(): void {
    if (this.state === 'ending') this.finishEndingIfIdle();
    else this.updateFlow();
  }

  /** Pauses reading while replies pile up; resumes once they have drained. */
  private updateFlow(): void {
    if (this.state !== 'open') return;
    const blocked =
      this.inFlight >= this.maxInFlight ||
      (this.socket.writableNeedDrain && this.socket.writableLength >= this.maxBufferedWriteBytes);
    if (blocked) {
      if (this.reader.paused) return;
      this.reader.pause();
      this.socket.pause();
      this.readPauses++;
      this.log.debug({ inFlight: this.inFlight, writableLength: this.socket.writableLength }, 'backpressure: reading paused');
    } else if (this.reader.paused) {
      this.reader.resume(); // hands up frames held while paused; may pause again
      if (!this.reader.paused && this.state === 'open') this.socket.resume();
    }
  }

  private readonly onDrain = (): void => this.updateFlow();

  private readonly onPeerEnd = (): void => {
    this.log.debug({ inFlight: this.inFlight }, 'peer ended its side');
    this.beginEnding('PEER_ENDED', this.endGraceMs);
  };

  private readonly onIdle = (): void => {
    this.log.info({ inFlight: this.inFlight }, 'closing: idle timeout');
    this.beginEnding('IDLE_TIMEOUT', this.endGraceMs);
  };

  private beginEnding(reason: CloseReason, graceMs: number): void {
    if (this.state === 'ending' || this.state === 'closed') return;
    this.reason ??= reason;
    this.state = 'ending';
    if (this.reader.bufferedBytes > 0) this.log.debug({ bytes: this.reader.bufferedBytes }, 'ending: unprocessed input discarded');
    this.reader.pause();
    this.socket.pause();
    this.graceTimer = setTimeout(() => {
      this.log.info({ inFlight: this.inFlight, writableLength: this.socket.writableLength }, 'graceful close overran; destroying');
      this.socket.destroy();
    }, graceMs);
    this.graceTimer.unref();
    this.finishEndingIfIdle();
  }

  private finishEndingIfIdle(): void {
    if (this.inFlight > 0 || this.socket.writableEnded || this.socket.destroyed) return;
    this.socket.end();
    // Keep reading (and discarding) so the peer's FIN is seen; closing with unread input would reset
    // the connection and could lose the replies still in the kernel's send buffer.
    this.socket.resume();
  }

  private readonly onSocketError = (err: NodeJS.ErrnoException): void => {
    this.errorCode ??= err.code ?? err.name;
    this.reason ??= 'SOCKET_ERROR';
    const fields = { code: this.errorCode };
    if (err.code !== undefined && ROUTINE_SOCKET_ERRORS.has(err.code)) this.log.debug(fields, 'socket error');
    else this.log.warn(fields, 'socket error');
  };

  private readonly onSocketClose = (): void => {
    if (this.state === 'closed') return;
    const wasNew = this.state === 'new';
    this.state = 'closed';
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    if (this.frameTimer !== undefined) clearTimeout(this.frameTimer);
    const info: CloseInfo = {
      reason: this.reason ?? 'PEER_ENDED',
      ...(this.errorCode !== undefined ? { errorCode: this.errorCode } : {}),
      durationMs: Date.now() - this.openedAt,
      stats: this.stats,
    };
    if (!wasNew) {
      this.log.info({ reason: info.reason, errorCode: info.errorCode, durationMs: info.durationMs, ...info.stats }, 'connection closed');
    }
    try {
      this.handler?.onClose?.(info, this);
    } catch (err) {
      this.log.error({ errName: (err as { name?: unknown }).name }, 'onClose handler failed');
    }
    this.resolveClosed(info);
  };
}

function isThenable(value: Reply | Promise<Reply>): value is Promise<Reply> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
