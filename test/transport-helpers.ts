/** Shared by the transport tests: a framed test peer and small waiting helpers. */
import net from 'node:net';
import tls from 'node:tls';
import { createBinary2Framing, FrameReader, type Framing, type ReplyContext } from '../src/transport/index.js';

export const binary2 = createBinary2Framing();

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The peer side of a framed connection (a partner's ATM host, or a bank host for the dialer). */
export class FramedPeer {
  readonly socket: net.Socket;
  readonly frames: Array<{ body: Buffer; context: ReplyContext }> = [];
  readonly closed: Promise<void>;
  error: NodeJS.ErrnoException | undefined;
  isClosed = false;
  private readonly framing: Framing;

  constructor(socket: net.Socket, framing: Framing = binary2) {
    this.socket = socket;
    this.framing = framing;
    const reader = new FrameReader(framing, (body, context) => this.frames.push({ body: Buffer.from(body), context: context && Buffer.from(context) }));
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => (this.error = err));
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.isClosed = true;
      resolve();
    }));
  }

  static connect(port: number, framing: Framing = binary2, host = '127.0.0.1'): Promise<FramedPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port }, () => resolve(new FramedPeer(socket, framing)));
      socket.once('error', reject);
    });
  }

  /** Connects over TLS; resolves on secureConnect (with TLS 1.3 the server may still refuse the certificate after). */
  static connectTls(port: number, options: tls.ConnectionOptions, framing: Framing = binary2): Promise<FramedPeer> {
    return new Promise((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, ...options }, () => resolve(new FramedPeer(socket, framing)));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('closed before the handshake completed')));
    });
  }

  send(body: string | Buffer, context?: ReplyContext): void {
    this.socket.write(this.framing.frame(typeof body === 'string' ? Buffer.from(body) : body, context));
  }

  async waitFrames(count: number, timeoutMs = 3000): Promise<string[]> {
    await waitFor(() => this.frames.length >= count, `${count} frames (have ${this.frames.length})`, timeoutMs);
    return this.frames.map((f) => f.body.toString('latin1'));
  }

  async waitClosed(timeoutMs = 3000): Promise<void> {
    await waitFor(() => this.isClosed, 'the connection to close', timeoutMs);
  }
}
