import net from 'node:net';
import tls from 'node:tls';
import { createBinary2Framing, FrameReader, FramingError, type Framing, type ReplyContext } from '../../src/transport/index.js';
import { waitFor } from './wait.js';

/** The contract's framing: a 2-byte big-endian length, then the body. */
export const binary2: Framing = createBinary2Framing();

export interface ReceivedFrame {
  body: Buffer;
  context: ReplyContext;
}

/**
 * The far side of a framed connection in tests: a partner's ATM host talking to the switch or a listener,
 * or a bank host the dialer connects to. It records the frames it gets in arrival order and how the
 * connection ended; `send` frames a body, `write` puts any bytes on the wire (garbage, broken headers).
 */
export class TestPeer {
  readonly frames: ReceivedFrame[] = [];
  /** Settles when the socket has closed, whoever closed it. */
  readonly closed: Promise<void>;
  isClosed = false;
  /** The socket's error, if any (a reset, a refused certificate). */
  error: NodeJS.ErrnoException | undefined;
  /** What the peer could not cut into frames: the other side broke the framing. */
  framingError: FramingError | undefined;

  constructor(readonly socket: net.Socket, private readonly framing: Framing = binary2) {
    const reader = new FrameReader(framing, (body, context) => this.frames.push({ body: Buffer.from(body), context: context && Buffer.from(context) }));
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        if (!(error instanceof FramingError)) throw error;
        this.framingError = error;
        socket.destroy();
      }
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (this.error = error));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      resolve();
    }));
  }

  static connect(port: number, framing: Framing = binary2, host = '127.0.0.1'): Promise<TestPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new TestPeer(socket, framing)));
      socket.once('error', reject);
    });
  }

  /** Connects over TLS; resolves on secureConnect (with TLS 1.3 the server may still refuse the certificate after). */
  static connectTls(port: number, options: tls.ConnectionOptions, framing: Framing = binary2): Promise<TestPeer> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => resolve(new TestPeer(socket, framing)));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed before the handshake completed')));
    });
  }

  /** Writes `body` in a frame of this peer's framing. */
  send(body: string | Buffer, context?: ReplyContext): void {
    this.socket.write(this.framing.frame(typeof body === 'string' ? Buffer.from(body, 'latin1') : body, context));
  }

  /** Writes bytes as they are, no framing. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** The bodies received so far, as latin1 text. */
  get texts(): string[] {
    return this.frames.map((f) => f.body.toString('latin1'));
  }

  /** Waits for at least `count` frames and returns every body received, as latin1 text. */
  async waitFrames(count: number, timeoutMs = 3_000): Promise<string[]> {
    await waitFor(() => this.frames.length >= count, { what: () => `${count} frames (have ${this.frames.length})`, timeoutMs });
    return this.texts;
  }

  async waitClosed(timeoutMs = 3_000): Promise<void> {
    await waitFor(() => this.isClosed, { what: 'the connection to close', timeoutMs });
  }

  close(): void {
    this.socket.destroy();
  }
}
