/**
 * The project stands on its own: the contract is specs/CONTRACT.md, its demo table is the demo data files
 * (specs/demo/*.csv), and no file of the project reads, links or mentions a path outside the repository.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { DEMO_AS_OF, DEMO_PARTICIPANTS, DEMO_UNLINKED_CARDS } from '../src/ledger/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CONTRACT = readFileSync(path.join(ROOT, 'specs/CONTRACT.md'), 'utf8');

/** 152500000 sen -> "1,525,000.00" as the contract writes amounts. */
function idr(sen: bigint): string {
  const whole = (sen / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${whole}.${(sen % 100n).toString().padStart(2, '0')}`;
}

function demoTableFromFiles(): string[] {
  const rows = DEMO_PARTICIPANTS.map((p) => {
    const instruments = [...p.cards, ...p.accounts.map((a) => `account ${a}`)].join(' / ');
    const name = p.membershipStatus === 'BLOCKED' ? `${p.name} (membership blocked)` : p.name;
    return `| ${instruments} | ${p.kpj} | ${name} | ${idr(p.balanceSen)} | ${p.asOf} | ${p.msisdn ?? ''} | ${p.email ?? ''} |`.replace('|  |', '| |');
  });
  return [...rows, ...DEMO_UNLINKED_CARDS.map((card) => `| ${card} | (not linked) | | | | | |`)];
}

describe('specs/CONTRACT.md: the project owns its contract', () => {
  it('its demo table is exactly the demo data files in specs/demo/', () => {
    const section = CONTRACT.slice(CONTRACT.indexOf('## Demo data'), CONTRACT.indexOf('## Per-partner profiles'));
    const table = section.split('\n').filter((line) => line.startsWith('| ') && !line.startsWith('| card') && !line.startsWith('| ---'));
    expect(table).to.deep.equal(demoTableFromFiles());
    expect(DEMO_AS_OF).to.equal('2026-10-31');
  });

  it('no tracked file reads, links or mentions a path outside the repository', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' }).split('\0')
      .filter((file) => file && !file.startsWith('node_modules/') && file !== 'package-lock.json');
    const escapes: string[] = [];
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(path.join(ROOT, file), 'utf8');
      } catch {
        continue; // removed in the work tree
      }
      if (text.includes('\0')) continue;
      text.split('\n').forEach((line, index) => {
        const where = `${file}:${index + 1}`;
        if (/\bshared\/(CONTRACT|STYLE)\.md|\/work\/|\.library\//.test(line)) escapes.push(`${where}: ${line.trim()}`);
        for (const match of line.matchAll(/(?:\.\.\/)+[\w.-]*/g)) {
          const target = path.resolve(ROOT, path.dirname(file), match[0]);
          if (path.relative(ROOT, target).startsWith('..')) escapes.push(`${where}: ${match[0]}`);
        }
      });
    }
    expect(escapes).to.deep.equal([]);
  });
});
