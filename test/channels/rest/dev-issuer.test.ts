import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { demo, freePort, runNode, waitFor } from '../../support/index.js';

const BIN = fileURLToPath(new URL('../../../bin/jht-switch.js', import.meta.url));

describe('channels/rest: development mode (embedded demo only)', function () {
  this.timeout(150_000);

  it('`npm start` on the embedded demo serves the API with a development issuer; `jht-switch token` signs for it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jht-rest-dev-'));
    await chmod(dir, 0o755);
    const restPort = await freePort();
    try {
      await writeFile(path.join(dir, 'switch.json'), JSON.stringify({
        listen: { port: await freePort() }, database: { embeddedPort: await freePort() }, metrics: { port: 0 }, channels: { rest: { port: restPort } },
      }));
      const child = spawn(process.execPath, [BIN, 'serve', '--config', 'switch.json'], {
        cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_ENV: 'production', JHT_ALLOW_ROOT: '1' },
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      try {
        await waitFor(() => {
          if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}:\n${output}`);
          // The log lines are buffered (8 KB or 100 ms): the warning may come after the banner.
          return output.includes('Stop with Ctrl-C') && output.includes('DEVELOPMENT token issuer');
        }, { what: () => `serve to start with its development issuer:\n${output}`, timeoutMs: 120_000, intervalMs: 100 });
        expect((await stat(path.join(dir, '.data/postgres.dev-issuer.json'))).mode & 0o777, 'the key file').to.equal(0o600);

        const token = await runNode([BIN, 'token', '--scope', 'jht:balance:self', '--subject', demo.approved.kpj, '--config', 'switch.json'], { cwd: dir });
        expect(token.status, token.stderr).to.equal(0);
        const answer = await fetch(`http://127.0.0.1:${restPort}/v1/balance-inquiries`, {
          method: 'POST', headers: { authorization: `Bearer ${token.stdout.trim()}`, 'content-type': 'application/json' }, body: JSON.stringify({ kpj: demo.approved.kpj }),
        });
        expect(answer.status).to.equal(200);
        expect(await answer.json()).to.include({ kpj: demo.approved.kpj, name: demo.approved.name });
        const jwks = await (await fetch(`http://127.0.0.1:${restPort}/dev/jwks.json`)).json() as { keys: Record<string, unknown>[] };
        expect(jwks.keys).to.have.length(1);
        expect(jwks.keys[0], 'only the public half is served').not.to.have.property('d');
      } finally {
        child.kill('SIGINT');
        expect(await exited).to.equal(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('`jht-switch token` refuses outside the embedded demo: one line, exit 2', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'jht-rest-nodemo-'));
    try {
      const args = [BIN, 'token', '--scope', 'jht:balance:self', '--subject', demo.approved.kpj];
      const external = await runNode(args, { cwd: dir, env: { DATABASE_URL: 'postgresql://jht@127.0.0.1:5432/jht' } });
      const noDemo = await runNode(args, { cwd: dir, env: { DATABASE_URL: '' } });
      for (const result of [external, noDemo]) {
        expect(result.status).to.equal(2);
        expect(result.stdout).to.equal('');
        expect(result.stderr.trim().split('\n')).to.have.length(1);
        expect(result.stderr).to.include('no development token issuer here');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
