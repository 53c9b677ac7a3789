import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';
import { DEFAULT_METRICS_HOST, DEFAULT_METRICS_PORT } from './config.js';
import type { ReadinessReport } from './readiness.js';
import { TLS_CIPHERS } from '../security/tls-policy.js';

/** A readiness callback that hangs must not hang the probe: past this, the answer is 503. */
const READINESS_DEADLINE_MS = 2_000;
/** How long close() lets a scrape in progress finish before cutting its connection. */
const CLOSE_GRACE_MS = 1_000;

export interface OpsHttpServerOptions {
  host?: string;
  /** 0 picks a free port (tests). */
  port?: number;
  registry: Registry;
  readiness: () => Promise<ReadinessReport>;
  log: Logger;
  /** HTTPS with this key and certificate (PEM); outside loopback the configuration requires it (or `insecure`). */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface OpsHttpServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export class OpsHttpListenError extends Error {
  override readonly name = 'OpsHttpListenError';
  readonly code = 'OPS_HTTP_LISTEN_FAILED';
  constructor(readonly host: string, readonly port: number, override readonly cause: Error) {
    super(`cannot serve metrics and health on ${host}:${port}: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(text);
}

function withDeadline(readiness: () => Promise<ReadinessReport>): Promise<ReadinessReport> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ReadinessReport>((resolve) => {
    timer = setTimeout(() => resolve({ ready: false, checks: { readiness: `no answer within ${READINESS_DEADLINE_MS} ms` } }), READINESS_DEADLINE_MS);
  });
  const report = readiness().catch((error: unknown): ReadinessReport => ({
    ready: false,
    checks: { readiness: `failed: ${error instanceof Error ? error.message : String(error)}` },
  }));
  return Promise.race([report, deadline]).finally(() => clearTimeout(timer));
}

/** The path without its query: a query string is whatever the caller typed, so it is never logged. */
function pathOf(request: IncomingMessage): string {
  return (request.url ?? '/').split('?', 1)[0]!;
}

async function route(request: IncomingMessage, response: ServerResponse, options: OpsHttpServerOptions): Promise<void> {
  const path = pathOf(request);
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
    sendJson(response, 404, { error: 'not found', paths: ['/metrics', '/healthz', '/readyz'] });
    return;
  }
  // HEAD is answered like GET; node leaves the body out by itself.
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    sendJson(response, 405, { error: 'method not allowed' });
    return;
  }
  if (path === '/healthz') {
    // Liveness: answering at all is the proof. Nothing here may depend on the database.
    sendJson(response, 200, { status: 'up' });
    return;
  }
  if (path === '/readyz') {
    const { ready, checks } = await withDeadline(options.readiness);
    sendJson(response, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks });
    return;
  }
  const text = await options.registry.metrics();
  response.writeHead(200, { 'content-type': options.registry.contentType, 'cache-control': 'no-store' });
  response.end(text);
}

/** `/metrics` (Prometheus text), `/healthz` (liveness) and `/readyz` (readiness) over plain HTTP. */
export async function startOpsHttpServer(options: OpsHttpServerOptions): Promise<OpsHttpServer> {
  const { log } = options;
  const host = options.host ?? DEFAULT_METRICS_HOST;
  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    route(request, response, options).catch((error: unknown) => {
      // Only the path and the error: request bodies and query strings are never logged.
      log.error({ err: error, path: pathOf(request) }, 'ops http request failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  };
  const server = options.tls
    ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert, minVersion: 'TLSv1.2', ciphers: TLS_CIPHERS }, handle)
    : createServer(handle);
  // A scraper that opens a connection and stalls must not hold it for ever.
  server.headersTimeout = 5_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => reject(new OpsHttpListenError(host, options.port ?? DEFAULT_METRICS_PORT, error));
    server.once('error', onError);
    server.listen({ host, port: options.port ?? DEFAULT_METRICS_PORT }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'ops http server error'));
  const { port } = server.address() as AddressInfo;
  log.info({ host, port, tls: options.tls !== undefined, paths: ['/metrics', '/healthz', '/readyz'] }, 'ops http listening');

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its connection alive between scrapes: idle ones go now, busy ones after the grace.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      });
      return closing;
    },
  };
}
