import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import net from 'node:net';
import { waitFor } from './wait.js';

export interface HaproxyBackend {
  readonly name: string;
  /** The switch's ISO 8583 listener. */
  readonly port: number;
  /** Its metrics listener, whose /readyz is the health check. */
  readonly checkPort: number;
}

export interface RunningHaproxy {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * The real HAProxy (Debian's package) in TCP mode in front of switch instances, health-checked on /readyz
 * every 200 ms (tests want fast verdicts; ops/ says what production uses). `on-marked-down
 * shutdown-sessions` ends the connections to a drained or dead instance, so the ATM host reconnects.
 */
export async function startHaproxy(binary: string, dir: string, port: number, backends: readonly HaproxyBackend[]): Promise<RunningHaproxy> {
  const config = [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode tcp',
    '  retries 3',
    '  option redispatch',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend atm',
    `  bind 127.0.0.1:${port}`,
    '  default_backend switches',
    'backend switches',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    '  default-server inter 200ms fall 1 rise 2 on-marked-down shutdown-sessions',
    ...backends.map((b) => `  server ${b.name} 127.0.0.1:${b.port} check port ${b.checkPort}`),
    '',
  ].join('\n');
  const file = path.join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  const child: ChildProcess = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  await waitFor(async () => {
    if (exited) throw new Error(`haproxy exited: ${stderr}`);
    return new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => { socket.destroy(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
  }, { what: 'haproxy to listen', timeoutMs: 10_000 });
  return {
    port,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
