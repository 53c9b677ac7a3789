/**
 * specs/INTERFACE.md cannot drift from the code: every sample frame in it is decoded, compared field by
 * field, re-encoded to the same bytes and (for answers) rebuilt by the switch's own response builder from
 * its request and the demo data; the field table is regenerated from the profiles; the response codes are
 * those of src/iso8583/vocabulary/codes.ts; the configuration examples load.
 */
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load-config.js';
import { Packager, loadProfile, type FieldSpec, type IsoMessage, type Profile } from '../src/iso8583/index.js';
import { DEMO_AS_OF, DEMO_PARTICIPANTS } from '../src/ledger/demo-data.js';
import type { ParticipantLookup } from '../src/ledger/index.js';
import { MacKey, keyCheckValue, loadMacKeys, macFieldOf, verifyMessage, x919Mac } from '../src/security/index.js';
import { ResponseCode, responseMti } from '../src/iso8583/vocabulary/index.js';
import { buildResponse } from '../src/channels/atm/respond.js';
import type { DecodedTransaction } from '../src/channels/atm/transaction.js';
import { createFraming, type FramingName } from '../src/transport/index.js';
import { PUBLISHED_TEST_MAC_KEY, withCredentials } from './support/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const INTERFACE = readFileSync(join(ROOT, 'specs/INTERFACE.md'), 'utf8');
const CONTRACT = readFileSync(join(ROOT, 'specs/CONTRACT.md'), 'utf8');

/** The fields the interface uses, in the order of the table in section 4. */
const INTERFACE_FIELDS = [2, 3, 4, 7, 11, 12, 13, 18, 22, 32, 33, 35, 37, 39, 41, 42, 43, 48, 49, 54, 64, 70, 90, 102, 128];
/** Samples the specification must show (section 8). */
const REQUIRED_SAMPLES = ['0800-sign-on', '0810-sign-on', '0200-card', '0200-account', '0210-approved', '0210-refused', '0420', '0430'];

// ---- reading the document -------------------------------------------------------------------------------

interface FencedBlock {
  readonly lang: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly body: string;
  readonly line: number;
}

function fencedBlocks(markdown: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S+)(.*)$/.exec(lines[i]!);
    if (!open) {
      if (lines[i]!.startsWith('```')) i = lines.indexOf('```', i + 1); // an unlabelled block: skip it whole
      continue;
    }
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`block opened at line ${i + 1} is never closed`);
    const attrs: Record<string, string> = {};
    for (const word of open[2]!.trim().split(/\s+/).filter(Boolean)) {
      const eq = word.indexOf('=');
      attrs[eq < 0 ? word : word.slice(0, eq)] = eq < 0 ? '' : word.slice(eq + 1);
    }
    blocks.push({ lang: open[1]!, attrs, body: lines.slice(i + 1, end).join('\n'), line: i + 1 });
    i = end;
  }
  return blocks;
}

/** `xxd` output: offset, 16 bytes in groups of two, two spaces, printable ASCII. */
function renderXxd(bytes: Buffer): string {
  const lines: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.subarray(at, at + 16);
    const groups: string[] = [];
    for (let i = 0; i < row.length; i += 2) groups.push(row.subarray(i, i + 2).toString('hex'));
    const text = [...row].map((b) => (b >= 0x20 && b <= 0x7e ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${at.toString(16).padStart(8, '0')}: ${groups.join(' ').padEnd(39)}  ${text}`);
  }
  return lines.join('\n');
}

function parseXxd(dump: string): Buffer {
  const chunks: Buffer[] = [];
  for (const [n, line] of dump.split('\n').entries()) {
    const match = /^([0-9a-f]{8}): ((?:[0-9a-f]{2,4} ?){1,8})/.exec(line);
    if (!match) throw new Error(`dump line ${n + 1} is not xxd output: ${line}`);
    expect(parseInt(match[1]!, 16), `offset of dump line ${n + 1}`).to.equal(n * 16);
    chunks.push(Buffer.from(match[2]!.replace(/ /g, ''), 'hex'));
  }
  return Buffer.concat(chunks);
}

interface ListedFields {
  readonly mti: string;
  readonly fields: Record<string, string>;
}

/** `MTI  [0200]` then `  2  [6040990000000001]  comment`: values in brackets so spaces show. */
function parseFieldList(body: string): ListedFields {
  let mti = '';
  const fields: Record<string, string> = {};
  for (const line of body.split('\n')) {
    const match = /^\s*(MTI|\d{1,3})\s+\[([^\]]*)\]/.exec(line);
    if (!match) throw new Error(`field list line is not "N  [value]": ${line}`);
    if (match[1] === 'MTI') mti = match[2]!;
    else fields[match[1]!] = match[2]!;
  }
  return { mti, fields };
}

function between(text: string, startMarker: string, endMarker: string): string {
  const start = text.indexOf(startMarker);
  const end = text.indexOf(endMarker, start);
  if (start < 0 || end < 0) throw new Error(`markers ${startMarker} ... ${endMarker} not found`);
  return text.slice(text.indexOf('\n', start) + 1, end).trim();
}

// ---- the field table, generated from the profiles ----------------------------------------------------------

const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
const PREFIX_DIGITS: Record<string, number> = { LL: 2, LLL: 3, LLLL: 4 };

function prefixText(spec: FieldSpec): string {
  if (spec.prefix === 'fixed') return '';
  const digits = PREFIX_DIGITS[spec.prefix]!;
  if (spec.prefixEncoding === 'ascii') return `${spec.prefix} as ${digits} ASCII digits, then `;
  const bytes = spec.prefixEncoding === 'bcd' ? Math.ceil(digits / 2) : digits <= 2 ? 1 : 2;
  return `${spec.prefix} as ${plural(bytes, 'byte')} ${spec.prefixEncoding === 'bcd' ? 'BCD' : 'binary'}, then `;
}

function nibbleText(spec: FieldSpec): string {
  const nibble = spec.nibblePadding === 'left-zero' ? 'a leading 0 nibble' : spec.nibblePadding === 'right-zero' ? 'a trailing 0 nibble' : 'a trailing F nibble';
  return spec.prefix === 'fixed' ? nibble : `${nibble} when the length is odd`;
}

function dataText(spec: FieldSpec): string {
  const fixed = spec.prefix === 'fixed';
  switch (spec.type) {
    case 'n':
    case 'z':
    case 'x+n': {
      const separator = spec.type === 'z' ? (spec.encoding === 'bcd' ? ' (separator nibble D)' : " (separator '=')") : '';
      if (spec.encoding === 'ascii') return fixed ? `${spec.length} ASCII digits${separator}` : `ASCII digits${separator}`;
      const odd = fixed ? spec.length % 2 === 1 : true;
      return `${fixed ? `${plural(Math.ceil(spec.length / 2), 'byte')} BCD` : 'BCD'}${separator}${odd ? `, ${nibbleText(spec)}` : ''}`;
    }
    case 'an':
    case 'ans':
      return fixed ? `${spec.length} ASCII characters${spec.padding === 'right-space' ? ', space-padded' : ''}` : 'ASCII characters';
    case 'b':
      return spec.encoding === 'hex' ? `${spec.length * 2} hex characters` : plural(spec.length, 'raw byte');
  }
}

function fieldTable(profiles: readonly Profile[]): string {
  const lines = [
    `| field | name | ISO type | ${profiles.map((p) => p.name).join(' | ')} |`,
    `| ---: | --- | --- | ${profiles.map(() => '---').join(' | ')} |`,
  ];
  for (const n of INTERFACE_FIELDS) {
    const spec = profiles[0]!.fields[n]!.spec;
    const type = spec.prefix === 'fixed' ? `${spec.type}${spec.length}` : `${spec.type}..${spec.length}`;
    const cells = profiles.map((p) => prefixText(p.fields[n]!.spec) + dataText(p.fields[n]!.spec));
    lines.push(`| ${n} | ${spec.name} | ${type} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

// ---- what the switch would answer ----------------------------------------------------------------------------

/** The demo ledger's answer for the card or account of a request (DEMO_PARTICIPANTS: the contract's table). */
function demoLookup(request: IsoMessage): ParticipantLookup {
  const pan = request.get(2);
  const account = request.get(102);
  const participant = DEMO_PARTICIPANTS.find((p) => (pan !== undefined ? p.cards.includes(pan) : account !== undefined && p.accounts.includes(account)));
  if (!participant) return { kind: 'not-linked' };
  return {
    // The internal id is not on the wire: any value builds the same response.
    kind: 'found', participantId: 0n, kpj: participant.kpj, name: participant.name, membershipStatus: participant.membershipStatus,
    linkStatus: 'ACTIVE', balanceSen: participant.balanceSen, asOf: DEMO_AS_OF.replace(/-/g, ''),
  };
}

/** The answer src/channels/atm/respond.ts builds for `request`, the way the pipeline would decide it on demo data. */
function expectedAnswer(request: IsoMessage): IsoMessage {
  let responseCode: ResponseCode = ResponseCode.Approved;
  let lookup: ParticipantLookup | undefined;
  if (/^0[12]0[01]$/.test(request.mti)) {
    lookup = demoLookup(request);
    if (lookup.kind === 'not-linked') responseCode = ResponseCode.NoParticipantLinked;
    else if (lookup.membershipStatus !== 'ACTIVE') responseCode = ResponseCode.ParticipantBlocked;
  }
  const tx = { request, responseCode, lookup, replay: undefined } as unknown as DecodedTransaction;
  return buildResponse(tx);
}

// ---- the tests -----------------------------------------------------------------------------------------------

const blocks = fencedBlocks(INTERFACE);
const dumps = blocks.filter((b) => b.lang === 'hex');
const lists = new Map(blocks.filter((b) => b.lang === 'fields').map((b) => [b.attrs.sample!, b]));
const packagers: Record<string, Packager> = {};
const packagerFor = (profile: string): Packager => (packagers[profile] ??= new Packager(loadProfile(profile)));

interface DecodedSample {
  frame: Buffer;
  body: Buffer;
  replyContext: Buffer | undefined;
  message: IsoMessage;
}
const decoded = new Map<string, DecodedSample>();

describe('specs/INTERFACE.md: sample messages (section 8)', () => {
  it('shows every message type, each dump with exactly one field list, names unique', () => {
    const names = dumps.map((d) => d.attrs.sample);
    expect(new Set(names).size, 'unique sample names').to.equal(names.length);
    expect(names).to.include.members(REQUIRED_SAMPLES);
    expect(dumps.some((d) => d.attrs.profile === 'iso87-binary' && lists.get(d.attrs.sample!)?.body.includes('MTI  [0200]'))).to.equal(true);
    expect([...lists.keys()].sort()).to.deep.equal([...names].sort());
    for (const d of dumps) expect(Object.keys(d.attrs), `attributes of sample ${d.attrs.sample}`).to.include.members(['sample', 'profile', 'framing']);
  });

  for (const dump of dumps) {
    const sample = dump.attrs.sample ?? '';
    const profile = dump.attrs.profile ?? '';
    const framingName = dump.attrs.framing ?? '';
    describe(`${sample} (${profile}, ${framingName})`, () => {
      it('is a well-formed xxd dump of a frame whose header announces its length', () => {
        const frame = parseXxd(dump.body);
        const rendered = renderXxd(frame).split('\n').map((l) => l.trimEnd());
        expect(dump.body.split('\n').map((l) => l.trimEnd())).to.deep.equal(rendered);
        const framing = createFraming(framingName as FramingName);
        expect(framing.readBodyLength(frame, 0), 'length in the header').to.equal(frame.length - framing.headerLength);
        const body = frame.subarray(framing.headerLength);
        decoded.set(sample, { frame, body, replyContext: framing.replyContext(frame, 0), message: packagerFor(profile).unpack(body) });
      });

      it('decodes to exactly the fields listed next to it, and re-encodes to the same bytes', () => {
        const sampleData = decoded.get(sample);
        expect(sampleData, 'the dump decoded').not.to.equal(undefined);
        const { message, body } = sampleData!;
        const listed = parseFieldList(lists.get(sample)!.body);
        expect(message.toUnmaskedJSON()).to.deep.equal({ mti: listed.mti, fields: listed.fields });
        expect(packagerFor(profile).pack(message).equals(body)).to.equal(true);
      });

      if (dump.attrs['mac-key'] !== undefined) {
        it('carries a valid X9.19 MAC under the key given, in the field the last-field rule names', () => {
          const { message, body } = decoded.get(sample)!;
          const keyHex = dump.attrs['mac-key']!;
          const key = new MacKey(keyHex, keyCheckValue(Buffer.from(keyHex, 'hex')));
          expect(message.fieldNumbers().at(-1)).to.equal(macFieldOf(message));
          expect(verifyMessage(body, message, packagerFor(profile), key)).to.equal('ok');
        });
      } else {
        it('carries no MAC', () => {
          const { message } = decoded.get(sample)!;
          expect(message.has(64) || message.has(128)).to.equal(false);
        });
      }

      if (dump.attrs.answers !== undefined) {
        const requestName = dump.attrs.answers;
        it(`is what the switch answers to ${requestName} on the demo data, framed as an answer to it`, () => {
          const request = decoded.get(requestName!);
          expect(request, `sample ${requestName} exists and decoded`).not.to.equal(undefined);
          const { message, body, frame } = decoded.get(sample)!;
          expect(message.mti).to.equal(responseMti(request!.message.mti));
          const withoutMac = (m: IsoMessage): IsoMessage => m.clone().delete(64).delete(128);
          expect(withoutMac(message).toUnmaskedJSON()).to.deep.equal(expectedAnswer(withoutMac(request!.message)).toUnmaskedJSON());
          // An answer's frame: same framing, and a TPDU comes back with its addresses swapped.
          expect(createFraming(framingName as FramingName).frame(body, request!.replyContext).equals(frame)).to.equal(true);
        });
      }
    });
  }
});

describe('specs/INTERFACE.md: field table (section 4)', () => {
  it('is the table generated from the iso87-ascii and iso87-binary profiles', () => {
    const expected = fieldTable([loadProfile('iso87-ascii'), loadProfile('iso87-binary')]);
    const actual = between(INTERFACE, '<!-- field-table', '<!-- end field-table -->');
    expect(actual, `the table should read:\n${expected}\n`).to.equal(expected);
  });
});

describe('specs/INTERFACE.md: response codes (section 6)', () => {
  const codesOf = (table: string): string[] => [...table.matchAll(/^\| (\d\d) \|/gm)].map((m) => m[1]!).sort();

  it('lists exactly the codes the switch sends (src/iso8583/vocabulary/codes.ts), 63 and 97 included', () => {
    const documented = codesOf(between(INTERFACE, '<!-- response-codes', '<!-- end response-codes -->'));
    expect(documented).to.deep.equal(Object.values(ResponseCode).sort());
    expect(documented).to.include.members(['63', '97']);
  });

  it('keeps every code of the contract', () => {
    const contractTable = CONTRACT.slice(CONTRACT.indexOf('## Response codes'), CONTRACT.indexOf('##', CONTRACT.indexOf('## Response codes') + 3));
    const contractCodes = codesOf(contractTable);
    expect(contractCodes.length).to.be.greaterThan(5);
    expect(codesOf(between(INTERFACE, '<!-- response-codes', '<!-- end response-codes -->'))).to.include.members(contractCodes);
  });
});

describe('specs/INTERFACE.md: MAC (section 7) and key exchange (section 9.3)', () => {
  it('states a test vector and a KCV that the implementation reproduces', () => {
    expect(INTERFACE).to.contain('key `0123456789ABCDEFFEDCBA9876543210`, data the 24 ASCII bytes\n`Now is the time for all `: MAC `A1C72E74EA3FA9B6`');
    const key = Buffer.from('0123456789ABCDEFFEDCBA9876543210', 'hex');
    expect(x919Mac(key, Buffer.from('Now is the time for all ', 'latin1')).toString('hex').toUpperCase()).to.equal('A1C72E74EA3FA9B6');
    expect(INTERFACE).to.contain('`0123456789ABCDEFFEDCBA9876543210` has KCV `08D7B4`');
    expect(keyCheckValue(key)).to.equal('08D7B4');
  });
});

describe('configuration examples in specs/INTERFACE.md and certs/README.md', () => {
  const documents = { 'specs/INTERFACE.md': INTERFACE, 'certs/README.md': readFileSync(join(ROOT, 'certs/README.md'), 'utf8') };
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'jht-spec-config-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, text] of Object.entries(documents)) {
    const examples = fencedBlocks(text).filter((b) => b.lang === 'yaml' && 'config' in b.attrs);
    it(`${name}: has configuration examples`, () => expect(examples.length).to.be.greaterThan(0));
    for (const example of examples) {
      it(`${name} line ${example.line}: loads with loadConfig, MAC keys match their KCV`, () => {
        const file = join(dir, `example-${example.line}.yaml`);
        writeFileSync(file, example.body);
        const config = loadConfig({ file, env: {} });
        expect(config.partners.length).to.be.greaterThan(0);
        for (const partner of config.partners) {
          if (partner.tls) expect(partner.tls.clientSubject, 'the client certificate CN is the partner id').to.equal(partner.id);
          const { mac } = partner;
          if (mac.algorithm !== 'x9.19') continue;
          expect(mac, 'no key in the configuration').to.not.have.property('key');
          const credential = { [`mac-${partner.id}`]: PUBLISHED_TEST_MAC_KEY };
          withCredentials(credential, (env) => expect(loadMacKeys(partner.id, mac, env).current.kcv).to.equal(mac.kcv.toUpperCase()));
        }
      });
    }
  }
});
