import { expect } from 'chai';
import { hasErrors, runLoad, startEchoServer, type EchoFaults, type LoadReport } from '../../src/loadgen/index.js';
import { demo, runCli, startTestSwitch, type CliResult, type TestSwitch } from '../support/index.js';


/** `jht-switch load ...` as a process: the real executable. */
function runLoadCli(args: readonly string[]): Promise<CliResult> {
  return runCli(['load', ...args]);
}

function expectClean(report: LoadReport, sent: number): void {
  expect(report.errorsByKind, 'errors by kind').to.deep.equal({});
  expect(report.errors).to.equal(0);
  expect(report.sent).to.equal(sent);
  expect(report.answered).to.equal(sent);
  expect(report.responseCodes).to.deep.equal({ '00': sent });
  expect(report.latencyMs.p50).to.be.greaterThan(0);
  expect(report.latencyMs.p99).to.be.at.least(report.latencyMs.p50);
  expect(hasErrors(report)).to.equal(false);
}

describe('load generator', function () {
  this.timeout(60_000);

  describe('against the real switch', () => {
    let sw: TestSwitch;
    before(async () => {
      // --max sends as fast as the switch answers, far beyond the default 200 requests per second: the rate
      // limit is not what these tests are about.
      sw = await startTestSwitch({ partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'], limits: { requestsPerSecond: 1_000_000 } }] });
    });
    after(async () => {
      await sw?.stop();
    });

    it('--rate: sends on schedule, every answer 00 with 48 and 54 as the demo data says', async () => {
      const report = await runLoad({ host: '127.0.0.1', port: sw.port, connections: 2, mode: { kind: 'rate', rate: 400 }, durationS: 1.5, warmupS: 0.25 });
      expectClean(report, 600);
      expect(report.warmup).to.deep.include({ sent: 100, answered: 100, errors: 0 });
      expect(report.tps).to.be.closeTo(400, 40);
      expect(report.sendLagMs).to.be.an('object');
    });

    it('--max: keeps the window full on every connection, all answers correct', async () => {
      const report = await runLoad({ host: '127.0.0.1', port: sw.port, connections: 3, mode: { kind: 'max', inFlight: 16 }, durationS: 1 });
      expect(report.sent).to.be.greaterThan(100);
      expectClean(report, report.sent);
      expect(report.inFlightPerConnection).to.equal(16);
    });

    it('by account (field 102) as well as by card', async () => {
      const report = await runLoad({
        host: '127.0.0.1', port: sw.port, connections: 1, mode: { kind: 'rate', rate: 200 }, durationS: 0.5,
        identities: [{ kind: 'account', value: demo.account }, { kind: 'pan', value: demo.unlinkedCard }],
      });
      expect(report.errors).to.equal(0);
      expect(report.responseCodes).to.deep.equal({ '00': 50, 14: 50 });
    });
  });

  describe('wrong answers (echo server with faults)', () => {
    async function runAgainstFaultyEcho(faults: EchoFaults): Promise<LoadReport> {
      const echo = await startEchoServer({ faults });
      try {
        return await runLoad({
          host: '127.0.0.1', port: echo.port, connections: 2, mode: { kind: 'rate', rate: 200 }, durationS: 0.5, timeoutMs: 300,
        });
      } finally {
        await echo.close();
      }
    }

    it('is clean when nothing is wrong', async () => {
      expectClean(await runAgainstFaultyEcho({}), 100);
    });

    it('an answer with another STAN is an error, and its request times out', async () => {
      const report = await runAgainstFaultyEcho({ wrongStanAt: 10 });
      expect(report.errorsByKind).to.deep.equal({ timeout: 1, unmatched: 1 });
      expect(report.answered).to.equal(99);
      expect(hasErrors(report)).to.equal(true);
    });

    it('a request answered twice is an error', async () => {
      const report = await runAgainstFaultyEcho({ answerTwiceAt: 20 });
      expect(report.errorsByKind).to.deep.equal({ unmatched: 1 });
      expect(report.answered).to.equal(100);
    });

    it('an answer much slower than the others is still matched (not an error), and timed', async () => {
      const echo = await startEchoServer({ faults: { slowAt: 100, slowMs: 400 } });
      try {
        const report = await runLoad({ host: '127.0.0.1', port: echo.port, connections: 1, mode: { kind: 'max', inFlight: 8 }, durationS: 1 });
        expect(report.sent).to.be.greaterThan(2_000); // enough to push the slow one out of the ring
        expectClean(report, report.sent);
        expect(report.latencyMs.max).to.be.within(390, 1_000); // node timers may fire up to 1 ms early
      } finally {
        await echo.close();
      }
    });

    it('a request never answered is a timeout', async () => {
      const report = await runAgainstFaultyEcho({ dropAt: 30 });
      expect(report.errorsByKind).to.deep.equal({ timeout: 1 });
      expect(report.timeouts).to.equal(1);
    });
  });

  describe('the command', () => {
    it('prints the report as JSON and exits 0 when every answer is right', async () => {
      const echo = await startEchoServer();
      try {
        const result = await runLoadCli(['--port', String(echo.port), '--connections', '2', '--max', '--in-flight', '8', '--duration', '1', '--json']);
        expect(result.stderr).to.equal('');
        expect(result.status).to.equal(0);
        const report = JSON.parse(result.stdout) as LoadReport;
        expect(report.mode).to.equal('max');
        expect(report.errors).to.equal(0);
        expect(report.answered).to.equal(report.sent);
        expect(Object.keys(report.responseCodes)).to.deep.equal(['00']);
      } finally {
        await echo.close();
      }
    });

    it('exits 1 when an answer is wrong, and 2 on bad arguments', async () => {
      const echo = await startEchoServer({ faults: { answerTwiceAt: 5 } });
      try {
        const result = await runLoadCli(['--port', String(echo.port), '--rate', '100', '--duration', '0.5']);
        expect(result.status).to.equal(1);
        expect(result.stdout).to.match(/^ {2}errors {6}1 \(unmatched 1\)$/m);
        expect(result.stdout).to.not.match(/\d{16}/); // no card number in clear
      } finally {
        await echo.close();
      }
      const both = await runLoadCli(['--rate', '100', '--max']);
      expect(both.status).to.equal(2);
      expect(both.stderr).to.equal('error: give exactly one of --rate R or --max\n');
    });
  });
});
