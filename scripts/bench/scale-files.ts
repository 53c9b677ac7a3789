/**
 * The synthetic national data set of `npm run bench:scale`, in the formats of specs/DATA-FILES.md: participant i
 * has KPJ 2xxxxxxxxxx, one card 604098 + 9 digits + Luhn, every tenth also an account, and one OPENING posting.
 * Streamed to disk with back-pressure: memory stays flat whatever N is.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { luhnValid } from '../../src/ledger/import/fields.js';

export const kpjOf = (i: number): string => `2${String(i).padStart(10, '0')}`;

export function cardOf(i: number): string {
  const body = `604098${String(i).padStart(9, '0')}`;
  for (let d = 0; d < 10; d += 1) if (luhnValid(`${body}${d}`)) return `${body}${d}`;
  throw new Error('unreachable: one check digit always fits');
}

async function writeLines(file: string, header: string, n: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  out.write(`${header}\n`);
  let chunk = '';
  for (let i = 0; i < n; i += 1) {
    chunk += `${line(i)}\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

export interface ScaleFiles {
  participants: string;
  links: string;
  openings: string;
  daily: string;
}

/** Writes the four files into `dir`: `daily` holds `dailyRows` CONTRIBUTION postings of random participants. */
export async function writeScaleFiles(dir: string, n: number, dailyRows: number): Promise<ScaleFiles> {
  const files: ScaleFiles = {
    participants: path.join(dir, 'participants.csv'),
    links: path.join(dir, 'links.csv'),
    openings: path.join(dir, 'openings.csv'),
    daily: path.join(dir, 'daily-postings.csv'),
  };
  await writeLines(files.participants, 'kpj,nik,name,status,msisdn,email', n, (i) =>
    `${kpjOf(i)},3171${String(i).padStart(12, '0')},"PESERTA ${i}, S.E.",ACTIVE,0812${String(i).padStart(8, '0')},peserta${i}@example.co.id`);
  const accounts = Math.floor(n / 10);
  await writeLines(files.links, 'kind,number,kpj,status,issuer', n + accounts, (i) => (i < n
    ? `CARD,${cardOf(i)},${kpjOf(i)},ACTIVE,demo`
    : `ACCOUNT,00${String(i - n).padStart(10, '0')},${kpjOf((i - n) * 10)},ACTIVE,demo`));
  await writeLines(files.openings, 'source_ref,kpj,kind,amount_sen,value_date', n, (i) =>
    `OPEN:${kpjOf(i)},${kpjOf(i)},OPENING,${100_000 + (i % 1000) * 1000},2026-10-31`);
  await writeLines(files.daily, 'source_ref,kpj,kind,amount_sen,value_date', dailyRows, (i) =>
    `DAY:2026-11-30:${i},${kpjOf(Math.floor(Math.random() * n))},CONTRIBUTION,${50_000 + (i % 100)},2026-11-30`);
  return files;
}
