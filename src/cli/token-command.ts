import { X509Certificate, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { DEMO_CLIENTS, DevIssuer, SCOPES } from '../channels/rest/dev-issuer.js';
import { loadConfig } from '../config/load-config.js';
import { CliError } from './cli-error.js';

interface TokenOptions {
  scope: string;
  subject: string;
  client?: string;
  cert?: string;
  config?: string;
  dataDir?: string;
}

const REFUSED = 'no development token issuer here: it exists only while `npm start` serves the embedded demo';

/** `jht-switch token`: an access token from the embedded demo's development issuer, for trying the REST API. */
export function registerTokenCommand(program: Command): void {
  program
    .command('token')
    .description('print an access token of the embedded demo\'s development issuer (demo only)')
    .requiredOption('--scope <scope>', `${SCOPES.self} | ${SCOPES.any} | ${SCOPES.kiosk}`)
    .requiredOption('--subject <sub>', 'the KPJ (self), the staff id (any) or the kiosk id (kiosk)')
    .option('--client <id>', 'client id (default: the demo client of the scope)')
    .option('--cert <file>', 'kiosk: bind the token to this client certificate (PEM; RFC 8705 x5t#S256)')
    .option('-c, --config <file>', 'configuration, JSON or YAML (or JHT_CONFIG)')
    .option('--data-dir <dir>', 'embedded PostgreSQL data directory (default .data/postgres)')
    .action(async (options: TokenOptions) => {
      const config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir } });
      if (config.database.url || config.channels.rest.issuer) throw new CliError(REFUSED);
      const demoClient = DEMO_CLIENTS.find((c) => c.scope === options.scope);
      if (!demoClient) throw new CliError(`--scope must be one of ${Object.values(SCOPES).join(', ')}`);
      const issuer = await DevIssuer.open(config.database.dataDir);
      if (!issuer) throw new CliError(REFUSED);
      const token = await issuer.sign({
        clientId: options.client ?? demoClient.clientId,
        subject: options.subject,
        scope: options.scope,
        audience: 'jht-switch',
        ...(options.cert ? { certificateThumbprint: thumbprintOf(options.cert) } : {}),
      });
      process.stdout.write(`${token}\n`);
    });
}

function thumbprintOf(file: string): string {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(file));
  } catch {
    throw new CliError(`--cert: ${file} is not a readable PEM certificate`);
  }
  return createHash('sha256').update(cert.raw).digest('base64url');
}
