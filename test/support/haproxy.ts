import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface HaproxyBackend {
  /** The switch's ISO 8583 listener. */
  readonly iso: number;
  /** Its metrics listener, whose /readyz (HTTPS) is the health check. */
  readonly metrics: number;
}

export interface RunningHaproxy {
  readonly port: number;
  /** What HAProxy logged so far (server UP/DOWN lines among them). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * ops/haproxy.cfg as shipped, with only what the file marks replaced: the frontend address, the switches, the
 * metrics CA, and the process settings (chroot, user, group) a test run cannot have.
 */
export async function haproxyConfig(frontend: { host: string; port: number }, backends: readonly HaproxyBackend[], caFile: string): Promise<string> {
  const shipped = await readFile(path.join(ROOT, 'ops/haproxy.cfg'), 'utf8');
  const servers = backends.map((b, i) => `    server switch${i + 1} 127.0.0.1:${b.iso} port ${b.metrics}`).join('\n');
  const replaced = shipped
    .replace(/^\s*(chroot|user|group)\s.*\n/gm, '')
    .replace(/bind 0\.0\.0\.0:8583/, `bind ${frontend.host}:${frontend.port}`)
    .replace('/etc/haproxy/jht-switch-metrics-ca.pem', caFile)
    .replace(/(# SERVERS:.*\n)[\s\S]*?(\s*# END SERVERS)/, `$1${servers}\n$2`);
  for (const part of [`bind ${frontend.host}:${frontend.port}`, caFile, servers]) {
    if (!replaced.includes(part)) throw new Error(`ops/haproxy.cfg: a marked part was not found (${part})`);
  }
  return replaced;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** The real HAProxy (Debian's package) running `config`, its frontend on `frontend`, once it accepts connections. */
export async function startHaproxy(binary: string, dir: string, frontend: { host: string; port: number }, config: string): Promise<RunningHaproxy> {
  const file = path.join(dir, 'haproxy.cfg');
  await writeFile(file, config);
  const child = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()));
  let exited = false;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  void gone.then(() => (exited = true));
  await waitFor(() => {
    if (exited) throw new Error(`haproxy exited:\n${log}`);
    return accepts(frontend.host, frontend.port);
  }, { what: () => `HAProxy listening:\n${log}`, timeoutMs: 10_000 });
  return {
    port: frontend.port,
    log: () => log,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      await gone;
    },
  };
}
