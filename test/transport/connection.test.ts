import { expect } from 'chai';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/observability/logger.js';
import { startListener, type CloseInfo, type Connection, type Listener, type ListenerOptions, type MessageHandler } from '../../src/transport/index.js';
import { binary2, sleep, TestPeer, waitFor } from '../support/index.js';

/** A listener whose connections all use `handler`; records connections and how they closed. */
async function listen(handler: Partial<MessageHandler>, options: Partial<ListenerOptions> = {}) {
  const connections: Connection[] = [];
  const closes: CloseInfo[] = [];
  const listener = await startListener({
    port: 0,
    framing: binary2,
    ...options,
    onConnection(connection) {
      connections.push(connection);
      return {
        onMessage: handler.onMessage ?? (() => undefined),
        onClose: (info) => closes.push(info),
      };
    },
  });
  return { listener, connections, closes };
}

/** A logger writing JSON lines into an array, to check what is (and is not) logged. */
function capturedLogger() {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ level: 'debug', destination: stream }), lines };
}

describe('transport connection', () => {
  let listener: Listener | undefined;
  const peers: TestPeer[] = [];
  const peer = async (port: number) => {
    const p = await TestPeer.connect(port);
    peers.push(p);
    return p;
  };

  afterEach(async () => {
    for (const p of peers.splice(0)) p.socket.destroy();
    await listener?.closeAll({ graceMs: 200 });
    listener = undefined;
  });

  it('answers pipelined requests as each is ready, out of order, each reply framed to its request', async () => {
    const { logger, lines } = capturedLogger();
    const s = await listen(
      {
        async onMessage(body) {
          const n = Number(body.toString().slice(4));
          await sleep((10 - n) * 15); // the last request is ready first
          return Buffer.from(`rsp-${n}`);
        },
      },
      { logger },
    );
    listener = s.listener;
    const p = await peer(listener.port);
    // All ten in one write: they arrive coalesced and are all in flight at once.
    p.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, n) => binary2.frame(Buffer.from(`req-${n}`)))));
    const replies = await p.waitFrames(10);
    expect(replies).to.deep.equal(Array.from({ length: 10 }, (_, n) => `rsp-${9 - n}`));
    const stats = s.connections[0]!.stats;
    expect(stats).to.include({ framesIn: 10, framesOut: 10, inFlight: 0 });
    expect(stats.bytesIn).to.equal(10 * (2 + 5));
    // Logs carry lengths and addresses, never message contents.
    expect(lines.join('\n')).to.not.match(/req-\d|rsp-\d/);
    expect(lines.some((l) => l.includes('connection open'))).to.equal(true);
  });

  it('pauses reading when a peer never reads its replies, keeps its write buffer bounded, and resumes when it does', async () => {
    const reply = Buffer.alloc(8000, 0x41);
    const maxBufferedWriteBytes = 64 * 1024;
    const s = await listen({ onMessage: () => reply }, { maxBufferedWriteBytes });
    listener = s.listener;
    const requests = 2000; // 16 MB of replies: more than loopback socket buffers hold (about 4 MB here)
    const raw = await new Promise<net.Socket>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: s.listener.port }, () => resolve(socket));
    });
    raw.pause(); // never reads
    raw.write(Buffer.concat(Array.from({ length: requests }, (_, n) => binary2.frame(Buffer.from(`r${n}`.padEnd(10))))));

    await waitFor(() => s.connections[0]?.stats.readPauses !== undefined && s.connections[0].stats.readPauses > 0, { what: 'reading to pause', timeoutMs: 10_000 });
    const connection = s.connections[0]!;
    await sleep(150); // it must stay paused, not creep
    const held = connection.stats.framesIn;
    await sleep(100);
    expect(connection.stats.framesIn).to.equal(held);
    expect(held).to.be.lessThan(requests);
    expect(connection.socket.writableLength).to.be.at.most(maxBufferedWriteBytes + reply.length + 2);

    // The peer starts reading: everything is answered.
    let received = 0;
    raw.on('data', (chunk: Buffer) => (received += chunk.length));
    raw.resume();
    await waitFor(() => received === requests * (reply.length + 2), { what: 'all replies', timeoutMs: 10_000 });
    expect(connection.stats.framesOut).to.equal(requests);
    raw.destroy();
  });

  it('pauses reading at maxInFlight unanswered requests and resumes as they settle', async () => {
    const pending: Array<() => void> = [];
    const s = await listen(
      { onMessage: (body) => new Promise((resolve) => pending.push(() => resolve(Buffer.from(body)))) },
      { maxInFlight: 4 },
    );
    listener = s.listener;
    const p = await peer(listener.port);
    p.socket.write(Buffer.concat(Array.from({ length: 20 }, (_, n) => binary2.frame(Buffer.from(`m${n}`)))));
    await waitFor(() => pending.length === 4, { what: '4 in flight' });
    await sleep(50);
    expect(pending.length).to.equal(4); // the other 16 wait in the reader, not in the handler
    expect(s.connections[0]!.stats.readPauses).to.equal(1);
    while (p.frames.length < 20) {
      pending.shift()?.();
      await sleep(1);
    }
    expect(await p.waitFrames(20)).to.deep.equal(Array.from({ length: 20 }, (_, n) => `m${n}`));
  });

  it('closes an idle connection', async () => {
    const s = await listen({}, { idleTimeoutMs: 80 });
    listener = s.listener;
    const p = await peer(listener.port);
    await p.waitClosed(2000);
    await waitFor(() => s.closes.length === 1, { what: 'onClose' });
    expect(s.closes[0]!.reason).to.equal('IDLE_TIMEOUT');
  });

  it('on a framing error, answers what was already in flight, then closes with a log line', async () => {
    const { logger, lines } = capturedLogger();
    const s = await listen({ onMessage: async (body) => (await sleep(50), Buffer.from(`ok:${body.toString()}`)) }, { logger });
    listener = s.listener;
    const p = await peer(listener.port);
    p.socket.write(Buffer.concat([binary2.frame(Buffer.from('first')), Buffer.from([0x40, 0x00]), Buffer.alloc(20)]));
    expect(await p.waitFrames(1)).to.deep.equal(['ok:first']);
    await p.waitClosed();
    await waitFor(() => s.closes.length === 1, { what: 'onClose' });
    expect(s.closes[0]).to.include({ reason: 'FRAMING_ERROR', errorCode: 'FRAME_TOO_LARGE' });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'closing: framing error');
    expect(logged).to.include({ code: 'FRAME_TOO_LARGE', offset: 7 });
  });

  it('closes after maxGarbageFrames undecodable messages reported by the switch', async () => {
    const s = await listen(
      {
        onMessage(body, _ctx, connection) {
          if (body[0] === 0x58) connection.recordGarbage(); // 'X': the codec could not decode it
          else return Buffer.from('fine');
        },
      },
      { maxGarbageFrames: 3 },
    );
    listener = s.listener;
    const p = await peer(listener.port);
    p.send('X1');
    p.send('0800');
    p.send('X2');
    await p.waitFrames(1);
    expect(p.isClosed).to.equal(false);
    p.send('X3');
    await p.waitClosed();
    await waitFor(() => s.closes.length === 1, { what: 'onClose' });
    expect(s.closes[0]!.reason).to.equal('TOO_MUCH_GARBAGE');
    expect(s.closes[0]!.stats.garbageFrames).to.equal(3);
  });

  it('survives a handler that throws or rejects: the message goes unanswered, the connection lives', async () => {
    const s = await listen({
      onMessage(body) {
        const text = body.toString();
        if (text === 'throw') throw new Error('boom');
        if (text === 'reject') return Promise.reject(new Error('later boom'));
        return Buffer.from(`echo:${text}`);
      },
    });
    listener = s.listener;
    const p = await peer(listener.port);
    p.send('throw');
    p.send('reject');
    p.send('after');
    expect(await p.waitFrames(1)).to.deep.equal(['echo:after']);
    await waitFor(() => s.connections[0]!.stats.inFlight === 0, { what: 'nothing in flight' });
  });

  it('still answers requests in flight when the peer half-closes, then closes', async () => {
    const s = await listen({ onMessage: async () => (await sleep(60), Buffer.from('late reply')) });
    listener = s.listener;
    const p = await peer(listener.port);
    p.send('0200');
    p.socket.end();
    expect(await p.waitFrames(1)).to.deep.equal(['late reply']);
    await p.waitClosed();
    await waitFor(() => s.closes.length === 1, { what: 'onClose' });
    expect(s.closes[0]!.reason).to.equal('PEER_ENDED');
  });

  it('treats a connection reset as routine: cleaned up, reported, nothing thrown', async () => {
    const s = await listen({ onMessage: async () => (await sleep(30), Buffer.from('too late')) });
    listener = s.listener;
    const p = await peer(listener.port);
    p.send('0200');
    await waitFor(() => s.connections[0]?.stats.framesIn === 1, { what: 'the request' });
    p.socket.resetAndDestroy();
    await waitFor(() => s.closes.length === 1, { what: 'onClose' });
    expect(s.closes[0]).to.include({ reason: 'SOCKET_ERROR', errorCode: 'ECONNRESET' });
    await sleep(50);
    expect(s.connections[0]!.stats.repliesDropped).to.equal(1);
    expect(listener.connections.size).to.equal(0);
  });

  it('closeAll lets in-flight replies out before ending connections', async () => {
    const s = await listen({ onMessage: async () => (await sleep(80), Buffer.from('done')) });
    listener = s.listener;
    const p = await peer(listener.port);
    p.send('0200');
    await waitFor(() => s.connections[0]?.stats.inFlight === 1, { what: 'in flight' });
    await listener.closeAll({ graceMs: 2000 });
    expect(p.frames.map((f) => f.body.toString())).to.deep.equal(['done']);
    await p.waitClosed();
    expect(s.closes[0]!.reason).to.equal('LOCAL_END');
    // No longer accepting.
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port: s.listener.port });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      socket.on('connect', () => resolve('connected'));
    });
    expect(refused).to.equal('ECONNREFUSED');
  });

  it('refuses to send a reply larger than maxFrameBytes', async () => {
    const s = await listen({ onMessage: (body) => (body.toString() === 'big' ? Buffer.alloc(300) : Buffer.from('small')) }, { maxFrameBytes: 256 });
    listener = s.listener;
    const p = await peer(listener.port);
    p.send('big');
    p.send('x');
    expect(await p.waitFrames(1)).to.deep.equal(['small']);
    expect(() => s.connections[0]!.send(Buffer.alloc(257))).to.throw().with.property('code', 'FRAME_TOO_LARGE');
  });
});
