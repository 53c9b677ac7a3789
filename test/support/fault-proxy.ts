import net from 'node:net';

/**
 * A real TCP proxy between a client and a server that can lose an answer on purpose: the fault a bank's
 * host sees when a switch instance dies after processing a request and before its answer arrives.
 * `loseNextAnswer()` makes the next bytes from the server vanish and cuts both sides of that connection.
 */
export class FaultProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #loseNext = false;
  /** Connections accepted so far: a reconnect shows as one more. */
  accepted = 0;

  private constructor(target: { host?: string; port: number }) {
    this.#server = net.createServer((client) => this.pipe(client, target));
  }

  static async start(target: { host?: string; port: number }): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo).port;
  }

  loseNextAnswer(): void {
    this.#loseNext = true;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  private pipe(client: net.Socket, target: { host?: string; port: number }): void {
    this.accepted++;
    const upstream = net.connect({ host: target.host ?? '127.0.0.1', port: target.port });
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (this.#loseNext) {
        this.#loseNext = false;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
  }
}
