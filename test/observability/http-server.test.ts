import { expect } from 'chai';
import { createServer, request as httpRequest } from 'node:http';
import { get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Registry } from 'prom-client';
import { startOpsHttpServer, type OpsHttpServer } from '../../src/observability/http-server.js';
import { createLogger } from '../../src/observability/logger.js';
import { createSwitchMetrics } from '../../src/observability/metrics.js';
import { createReadinessCheck, type ReadinessReport } from '../../src/observability/readiness.js';
import type { SwitchStatus } from '../../src/channels/atm/control.js';
import { createCertificateAuthority, issueCertificate } from '../../src/transport/tls/dev-certificates.js';
import { demo, LogCapture } from '../support/index.js';

const PAN = demo.approvedCard;

function status(overrides: Partial<SwitchStatus> = {}): SwitchStatus {
  return {
    instanceId: 'test-1', startedAt: new Date().toISOString(), accepting: true,
    listeners: [{ host: '127.0.0.1', port: 8583, partners: ['demo'] }], partners: [],
    breaker: 'closed', journalQueueDepth: 0, inFlight: 0, ...overrides,
  };
}

async function get(port: number, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, text };
}

describe('observability: /healthz, /readyz and the rest over real HTTP', function () {
  let http: OpsHttpServer;
  let readiness: () => Promise<ReadinessReport>;
  const logs = new LogCapture();

  before(async () => {
    http = await startOpsHttpServer({
      port: 0, registry: new Registry(), log: createLogger({ level: 'debug', destination: logs }),
      readiness: () => readiness(),
    });
  });
  after(async () => http.close());

  it('/healthz answers 200 {"status":"up"} whatever the readiness', async () => {
    readiness = () => Promise.reject(new Error('database gone'));
    const health = await get(http.port, '/healthz');
    expect(health.status).to.equal(200);
    expect(health.body).to.deep.equal({ status: 'up' });
  });

  it('/readyz answers 200 when ready, and 503 with the checks when the ledger is down', async () => {
    let ledgerUp = true;
    const control = { status: () => status() };
    readiness = createReadinessCheck({ control, pingLedger: async () => { if (!ledgerUp) throw new Error('connect ECONNREFUSED 127.0.0.1:54329'); } });
    const ready = await get(http.port, '/readyz');
    expect(ready.status).to.equal(200);
    expect(ready.body).to.deep.equal({ status: 'ready', checks: { listening: true, ledger: true, breaker: true } });
    ledgerUp = false;
    const down = await get(http.port, '/readyz');
    expect(down.status).to.equal(503);
    expect(down.body).to.deep.equal({
      status: 'not ready',
      checks: { listening: true, ledger: 'unreachable: connect ECONNREFUSED 127.0.0.1:54329', breaker: true },
    });
  });

  it('/readyz is 503 when the breaker is open or the switch is draining', async () => {
    let current = status({ breaker: 'open' });
    readiness = createReadinessCheck({ control: { status: () => current }, pingLedger: async () => undefined });
    expect((await get(http.port, '/readyz')).body).to.deep.include({ status: 'not ready', checks: { listening: true, ledger: true, breaker: 'open' } });
    current = status({ accepting: false });
    const draining = await get(http.port, '/readyz');
    expect(draining.status).to.equal(503);
    expect(draining.body).to.deep.include({ checks: { listening: 'not accepting (draining or stopping)', ledger: true, breaker: true } });
  });

  it('a ledger that does not answer within 250 ms is not ready, and the probe does not wait for it', async () => {
    readiness = createReadinessCheck({ control: { status: () => status() }, pingLedger: () => new Promise(() => undefined) });
    const started = performance.now();
    const slow = await get(http.port, '/readyz');
    expect(performance.now() - started).to.be.below(1_500);
    expect(slow.status).to.equal(503);
    expect(slow.body).to.deep.include({ checks: { listening: true, ledger: 'no answer within 250 ms', breaker: true } });
  });

  it('a readiness callback that fails is a 503, not a 500', async () => {
    readiness = () => Promise.reject(new Error('status unavailable'));
    const failed = await get(http.port, '/readyz');
    expect(failed.status).to.equal(503);
    expect(failed.body).to.deep.equal({ status: 'not ready', checks: { readiness: 'failed: status unavailable' } });
  });

  it('unknown paths are 404, other methods 405, HEAD is answered without a body', async () => {
    expect((await get(http.port, '/')).status).to.equal(404);
    expect((await get(http.port, '/metrics/x')).status).to.equal(404);
    const post = await fetch(`http://127.0.0.1:${http.port}/metrics`, { method: 'POST', body: `{"pan":"${PAN}"}` });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET, HEAD');
    await post.text();
    const head = await fetch(`http://127.0.0.1:${http.port}/healthz?probe=1`, { method: 'HEAD' });
    expect(head.status).to.equal(200);
    expect(await head.text()).to.equal('');
  });

  it('logs no request body', async () => {
    for (const path of ['/nope', '/readyz', '/metrics']) {
      await fetch(`http://127.0.0.1:${http.port}${path}`, { method: 'PUT', body: `pan=${PAN}&track2=${PAN}=2512` }).then((r) => r.text());
    }
    expect(logs.text).to.not.include(PAN);
  });
});

describe('observability: the ops HTTP server\'s life cycle', () => {
  it('a scrape that fails is a 500, logged with its path and never its query string', async () => {
    const logs = new LogCapture();
    const metrics = createSwitchMetrics({ defaultMetrics: false });
    metrics.bind({ breakerState: () => { throw new Error('ledger reader closed'); }, journalQueueDepth: () => 0 });
    const http = await startOpsHttpServer({ port: 0, registry: metrics.registry, log: createLogger({ destination: logs }), readiness: async () => ({ ready: true, checks: {} }) });
    try {
      const failed = await get(http.port, `/metrics?pan=${PAN}`);
      expect(failed.status).to.equal(500);
      expect(failed.body).to.deep.equal({ error: 'internal error' });
      expect(logs.lines.map((line) => JSON.parse(line) as { msg: string; path?: string }).find((l) => l.msg === 'ops http request failed'))
        .to.include({ path: '/metrics' });
      expect(logs.text).to.not.include(PAN);
    } finally {
      await http.close();
    }
  });

  it('refuses a port in use with a typed error naming the address', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const error = await startOpsHttpServer({ port, registry: new Registry(), log: createLogger({ level: 'silent' }), readiness: async () => ({ ready: true, checks: {} }) })
        .then(() => undefined, (e: unknown) => e);
      expect(error).to.include({ code: 'OPS_HTTP_LISTEN_FAILED', name: 'OpsHttpListenError' });
      expect((error as Error).message).to.equal(`cannot serve metrics and health on 127.0.0.1:${port}: EADDRINUSE`);
    } finally {
      blocker.close();
    }
  });

  it('close() does not wait for a scraper\'s idle keep-alive connection', async () => {
    const http = await startOpsHttpServer({ port: 0, registry: new Registry(), log: createLogger({ level: 'silent' }), readiness: async () => ({ ready: true, checks: {} }) });
    const agentResponse = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: http.port, path: '/metrics', headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(agentResponse).to.equal(200);
    const started = performance.now();
    await http.close();
    expect(performance.now() - started).to.be.below(500);
  });
});

describe('observability: the metrics listener over HTTPS (metrics.tls)', function () {
  this.timeout(10_000);

  it('serves /readyz over TLS 1.2+ with the configured certificate, and no plain HTTP', async () => {
    const ca = createCertificateAuthority('metrics test CA');
    const cert = issueCertificate(ca, { commonName: 'metrics', usage: 'server', altNames: ['127.0.0.1'] });
    const server = await startOpsHttpServer({
      port: 0, registry: new Registry(), log: createLogger({ level: 'silent' }),
      readiness: () => Promise.resolve({ ready: true, checks: {} }), tls: { key: cert.keyPem, cert: cert.certPem },
    });
    try {
      const answer = await new Promise<{ status: number; protocol: string | null }>((resolve, reject) => {
        httpsGet({ host: '127.0.0.1', port: server.port, path: '/readyz', ca: ca.certPem }, (response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, protocol: (response.socket as TLSSocket).getProtocol() });
        }).on('error', reject);
      });
      expect(answer.status).to.equal(200);
      expect(answer.protocol).to.match(/^TLSv1\.[23]$/);
      const plain = await get(server.port, '/readyz').then(() => 'answered', () => 'refused');
      expect(plain).to.equal('refused');
    } finally {
      await server.close();
    }
  });
});
