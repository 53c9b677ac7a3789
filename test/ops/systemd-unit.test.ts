import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { switchConfigSchema } from '../../src/config/schema.js';
import { findBinary } from '../support/index.js';

const UNIT = fileURLToPath(new URL('../../ops/systemd/jht-switch.service', import.meta.url));

/** section → directive → every value it is given, in order (a directive may repeat). */
type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a directive: ${line}`);
    const key = line.slice(0, eq);
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1)]);
  }
  return unit;
}

/** Seconds of a systemd time span as the unit writes it ("30s", "1min 30s", "30"). */
function seconds(span: string): number {
  const units: Record<string, number> = { '': 1, s: 1, min: 60, m: 60 };
  return span.split(/\s+/).reduce((sum, part) => {
    const match = /^(\d+)([a-z]*)$/.exec(part);
    if (!match || !(match[2]! in units)) throw new Error(`time span: ${span}`);
    return sum + Number(match[1]) * units[match[2]!]!;
  }, 0);
}

describe('ops: the hardened systemd unit (ops/systemd/jht-switch.service)', () => {
  let service: Map<string, string[]>;

  before(async () => {
    service = parseUnit(await readFile(UNIT, 'utf8')).get('Service')!;
  });

  const last = (key: string): string | undefined => service.get(key)?.at(-1);

  it('runs as a dedicated user with no privilege, capability or new privilege', () => {
    expect(last('User')).to.equal('jht-switch');
    expect(last('NoNewPrivileges')).to.equal('yes');
    expect(service.get('CapabilityBoundingSet'), 'an empty bounding set').to.deep.equal(['']);
    expect(last('AmbientCapabilities')).to.equal('');
  });

  it('sees a read-only system, no home, a private /tmp, and writes only its data and admin directories', () => {
    expect(last('ProtectSystem')).to.equal('strict');
    expect(last('ProtectHome')).to.equal('yes');
    expect(last('PrivateTmp')).to.equal('yes');
    expect(last('ReadWritePaths')?.split(/\s+/)).to.include.members(['/var/lib/jht-switch', '/run/jht-switch']);
    expect(last('UMask')).to.equal('0077');
  });

  it('may open IP and Unix sockets (and netlink for ss), and make the system calls of a service only', () => {
    expect(last('RestrictAddressFamilies')?.split(/\s+/)).to.include.members(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    expect(last('RestrictAddressFamilies')?.split(/\s+/)).not.to.include.members(['AF_PACKET']);
    expect(service.get('SystemCallFilter')).to.deep.equal(['@system-service']);
    expect(last('SystemCallArchitectures')).to.equal('native');
  });

  it('reloads with SIGHUP, stops with SIGTERM to the switch alone, and waits longer than its shutdown deadline', () => {
    expect(last('ExecReload')).to.equal('/bin/kill -HUP $MAINPID');
    expect(last('KillMode')).to.equal('mixed');
    expect(last('KillSignal')).to.equal('SIGTERM');
    const deadline = switchConfigSchema.parse({}).shutdown.deadlineMs / 1000;
    expect(seconds(last('TimeoutStopSec')!), 'TimeoutStopSec against shutdown.deadlineMs').to.be.at.least(deadline + 5);
  });

  it('gets its keys as credentials: data-key, and the database password file', () => {
    const credentials = service.get('LoadCredential') ?? [];
    expect(credentials).to.include('data-key:/etc/jht-switch/keys/data-key');
    expect(credentials.every((c) => /^(data-key|pgpass|mac-[a-z0-9-]+):\/etc\/jht-switch\/keys\//.test(c)), credentials.join(' ')).to.equal(true);
    expect(service.get('Environment')).to.include('PGPASSFILE=%d/pgpass');
    const secrets = (service.get('Environment') ?? []).filter((value) => /KEY|PASSWORD/.test(value.split('=')[0]!));
    expect(secrets, 'no key or password in the unit').to.deep.equal([]);
  });

  it('passes systemd-analyze verify', async function () {
    const analyze = findBinary('systemd-analyze');
    if (!analyze) {
      process.stderr.write('  skipped: systemd-analyze not found; install it with: apt-get install systemd\n');
      this.skip();
    }
    const { stdout, stderr } = await promisify(execFile)(analyze!, ['verify', UNIT]);
    expect(stdout + stderr).to.equal('');
  });
});
