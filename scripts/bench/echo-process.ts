/**
 * The framed echo server (src/loadgen/echo-server.ts) as a process of its own: prints one JSON line
 * `{"port": N, "pid": P}` once listening, stops on SIGTERM or SIGINT.
 *
 *   node --import tsx scripts/bench/echo-process.ts [--port N]
 */
import { parseArgs } from 'node:util';
import { startEchoServer } from '../../src/loadgen/index.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } } });
const server = await startEchoServer({ host: values.host, port: Number(values.port) });
process.stdout.write(`${JSON.stringify({ port: server.port, pid: process.pid })}\n`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
