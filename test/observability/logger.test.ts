import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { expect } from 'chai';
import { LOG_FLUSH_INTERVAL_MS } from '../../src/observability/logger.js';

const LOGGER = new URL('../../src/observability/logger.ts', import.meta.url).pathname;

/**
 * Runs `script` (after `log` is created as in production: JSON lines to stdout, buffered) in a child process
 * and collects its stdout with the time each chunk arrived.
 */
function runWithLogger(script: string, expectedExitCode = 0): Promise<{ lines: { msg: string; atMs: number }[]; startedAt: number }> {
  const source = `import { createLogger } from ${JSON.stringify(LOGGER)};\nconst log = createLogger({ level: 'info' });\n${script}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'ignore'] });
  const startedAt = performance.now();
  const lines: { msg: string; atMs: number }[] = [];
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const line of complete) lines.push({ msg: (JSON.parse(line) as { msg: string }).msg, atMs: performance.now() });
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => (code === expectedExitCode ? resolve({ lines, startedAt }) : reject(new Error(`exited with ${code}`))));
  });
}

describe('observability: the production logger buffers its JSON lines', function () {
  this.timeout(30_000);

  it('writes a line within the flush interval even when nothing else is logged', async () => {
    const { lines } = await runWithLogger(`
      log.info('ready');
      await new Promise((resolve) => setTimeout(resolve, 300));
      log.info('one line, then quiet');
      await new Promise((resolve) => setTimeout(resolve, ${LOG_FLUSH_INTERVAL_MS * 5}));
      log.info('last');`);
    const quiet = lines.find((l) => l.msg === 'one line, then quiet');
    const last = lines.find((l) => l.msg === 'last');
    expect(quiet, 'the quiet line was written').to.not.equal(undefined);
    // It came out before the next line was even logged, within about one flush interval.
    expect(last!.atMs - quiet!.atMs).to.be.above(LOG_FLUSH_INTERVAL_MS * 2);
  });

  it('loses nothing when the process exits with lines still buffered', async () => {
    const { lines } = await runWithLogger(`
      for (let i = 0; i < 500; i++) log.info({ i }, 'line ' + i);
      process.exit(0);`);
    expect(lines.map((l) => l.msg)).to.deep.equal(Array.from({ length: 500 }, (_, i) => `line ${i}`));
  });

  it('loses nothing when the process dies of an uncaught exception', async () => {
    const { lines } = await runWithLogger(`
      log.info('before the crash');
      setTimeout(() => { throw new Error('boom'); }, 10);`, 1);
    expect(lines.map((l) => l.msg)).to.deep.equal(['before the crash']);
  });
});
