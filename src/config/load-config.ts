import type { z } from 'zod';
import { databaseUrlProblem } from './database-url.js';
import { overlappingEntries } from '../transport/allow-list.js';
import { TransportConfigError } from '../transport/errors.js';
import { checkLinks } from './check-links.js';
import { ConfigError } from './config-error.js';
import { readConfigDocument, type ConfigDocument } from './document.js';
import { switchConfigSchema, type SwitchConfig } from './schema.js';

export { ConfigError } from './config-error.js';

export interface ConfigSources {
  /** A JSON or YAML file (--config or JHT_CONFIG). */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Command-line overrides, applied last. */
  overrides?: { host?: string | undefined; port?: number | undefined; dataDir?: string | undefined; seedDemo?: boolean | undefined };
}

/** `partners.1.framing.type` -> `partner "bank-b" (partners[1]): framing.type`. */
function describePath(path: readonly PropertyKey[], doc: Record<string, unknown>): string {
  if (path[0] === 'partners' && typeof path[1] === 'number') {
    const partners = doc.partners as { id?: unknown }[] | undefined;
    const id = partners?.[path[1]]?.id;
    const who = typeof id === 'string' ? `partner "${id}" (partners[${path[1]}])` : `partners[${path[1]}]`;
    return path.length > 2 ? `${who}: ${path.slice(2).join('.')}` : who;
  }
  return path.map(String).join('.');
}

function checkPartners(config: SwitchConfig, source: string): void {
  const ids = new Set<string>();
  const acquirers = new Map<string, string>();
  const sharedAddresses: { partner: string; allowFrom: readonly string[] }[] = [];
  config.partners.forEach((partner, index) => {
    const at = `partner "${partner.id}" (partners[${index}])`;
    if (ids.has(partner.id)) throw new ConfigError(source, at, 'id is used by another partner');
    ids.add(partner.id);
    // Already without leading zeros (schema), so 99901 and 099901 are one acquirer here, as on the wire.
    for (const acquirer of partner.acquirerIds) {
      const owner = acquirers.get(acquirer);
      if (owner === partner.id) throw new ConfigError(source, `${at}: acquirerIds`, `${acquirer} is listed twice (leading zeros do not count)`);
      if (owner) throw new ConfigError(source, `${at}: acquirerIds`, `${acquirer} already belongs to partner "${owner}" (leading zeros do not count)`);
      acquirers.set(acquirer, partner.id);
    }
    if (partner.mac.algorithm !== 'none' && (partner.mac.previousKeyFile === undefined) !== (partner.mac.previousKcv === undefined)) {
      throw new ConfigError(source, `${at}: mac`, 'previousKeyFile and previousKcv go together (the old key during a key change)');
    }
    if (partner.listener && partner.dialOut) {
      throw new ConfigError(source, at, 'has both a listener and a dial-out peer; give it one of them');
    }
    const shared = !partner.listener && !partner.dialOut;
    if (shared && partner.tls) {
      throw new ConfigError(source, `${at}: tls`, 'mutual TLS needs a listener of its own (listener: { host, port })');
    }
    if (shared && (partner.framing.type !== 'binary-2' || partner.framing.headerCountsItself)) {
      throw new ConfigError(source, `${at}: framing`, 'the shared listener speaks the default framing (binary-2); give the partner a listener of its own');
    }
    // On the shared listener a connection is bound to a partner by its source address, so no address may be
    // admitted for two partners: not the same entry, and not one inside another's CIDR block.
    if (shared) {
      for (const other of sharedAddresses) {
        let overlap: [string, string] | undefined;
        try {
          overlap = overlappingEntries(partner.allowFrom, other.allowFrom);
        } catch (error) {
          if (error instanceof TransportConfigError) throw new ConfigError(source, `${at}: allowFrom`, error.message);
          throw error;
        }
        if (overlap) {
          const [mine, theirs] = overlap;
          throw new ConfigError(source, `${at}: allowFrom`, `${mine === theirs ? mine : `${mine} overlaps ${theirs}, which`} is also allowed for partner "${other.partner}" on the shared listener; give one of them a listener or TLS`);
        }
      }
      sharedAddresses.push({ partner: partner.id, allowFrom: partner.allowFrom });
    }
  });
}

/**
 * Keys never sit in the main configuration, which is read by more people and tools than a key file and ends
 * up in backups and tickets: an old `cardKey` (or JHT_CARD_KEY) is refused with where keys go now.
 */
function refuseInlineKeys(doc: Record<string, unknown>, env: NodeJS.ProcessEnv, source: string, document: ConfigDocument | undefined): void {
  const where = 'keys are read from files, not from the configuration: put the data key in a file (`openssl rand -hex 32 > data-key; chmod 600 data-key`) ' +
    'and name it in keys.dataKeyFile, or use $CREDENTIALS_DIRECTORY/data-key or JHT_DATA_KEY_FILE (SECURITY.md, "Key loading")';
  if ('cardKey' in doc) throw new ConfigError(source, 'cardKey', where, document?.locate(['cardKey']));
  if (env.JHT_CARD_KEY !== undefined) throw new ConfigError('environment', 'JHT_CARD_KEY', where);
  const partners = Array.isArray(doc.partners) ? (doc.partners as unknown[]) : [];
  partners.forEach((partner, index) => {
    const mac = (partner as { mac?: unknown } | null)?.mac;
    if (mac !== null && typeof mac === 'object' && 'key' in mac) {
      throw new ConfigError(source, describePath(['partners', index, 'mac', 'key'], doc),
        'MAC keys are read from files, not from the configuration: mac.keyFile (mode 0600), $CREDENTIALS_DIRECTORY/mac-<partner id> ' +
        'or JHT_MAC_KEY_<PARTNER_ID>; a key change adds mac.previousKeyFile and mac.previousKcv (SECURITY.md, "Keys")',
        document?.locate(['partners', index, 'mac', 'key']));
    }
  });
}

/** Defaults, then the file, then the environment, then the command line; validated as a whole. */
export function loadConfig(sources: ConfigSources = {}): SwitchConfig {
  const env = sources.env ?? process.env;
  const file = sources.file ?? env.JHT_CONFIG;
  const source = file ?? 'configuration';
  const document: ConfigDocument | undefined = file ? readConfigDocument(file) : undefined;
  const doc: Record<string, unknown> = document?.content ?? {};
  const database = { ...(doc.database as object | undefined) } as Record<string, unknown>;
  if (env.DATABASE_URL) database.url = env.DATABASE_URL;
  const listen = { ...(doc.listen as object | undefined) } as Record<string, unknown>;
  const { overrides } = sources;
  if (overrides?.host !== undefined) listen.host = overrides.host;
  if (overrides?.port !== undefined) listen.port = overrides.port;
  if (overrides?.dataDir !== undefined) database.dataDir = overrides.dataDir;
  if (overrides?.seedDemo !== undefined) database.seedDemo = overrides.seedDemo;
  const merged: Record<string, unknown> = { ...doc, database };
  if (Object.keys(listen).length > 0) merged.listen = { port: 8583, ...listen };
  refuseInlineKeys(doc, env, source, document);
  if (env.JHT_ADMIN_SOCKET) merged.admin = { ...(doc.admin as object | undefined), socketPath: env.JHT_ADMIN_SOCKET };
  if (env.JHT_LOG_LEVEL) merged.log = { ...(doc.log as object | undefined), level: env.JHT_LOG_LEVEL };

  const parsed = switchConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const issue: z.core.$ZodIssue = parsed.error.issues[0]!;
    throw new ConfigError(source, describePath(issue.path, merged), issue.message, document?.locate(issue.path));
  }
  checkPartners(parsed.data, source);
  checkLinks(parsed.data, source);
  const databaseProblem = parsed.data.database.url ? databaseUrlProblem(parsed.data.database.url, env) : undefined;
  if (databaseProblem) throw new ConfigError(source, 'database.url', databaseProblem);
  return parsed.data;
}
