import net from 'node:net';

/**
 * A bare TCP peer that writes any bytes and records the frames it gets back in arrival order: for
 * tests that need to see ordering, garbage handling and closes, below the IsoClient's matching.
 */
export class RawPeer {
  readonly frames: Buffer[] = [];
  closed = false;
  private buffered = Buffer.alloc(0);
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 2 && this.buffered.length >= 2 + this.buffered.readUInt16BE(0)) {
        const length = this.buffered.readUInt16BE(0);
        this.frames.push(this.buffered.subarray(2, 2 + length));
        this.buffered = this.buffered.subarray(2 + length);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  static connect(port: number): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawPeer(socket)));
      socket.once('error', reject);
    });
  }

  /** Writes a body behind a 2-byte length header. */
  sendFrame(body: Buffer): void {
    const header = Buffer.alloc(2);
    header.writeUInt16BE(body.length);
    this.socket.write(Buffer.concat([header, body]));
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Resolves once `count` frames have arrived, or the socket closed, or the time is up. */
  async waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
