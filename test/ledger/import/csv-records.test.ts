import { Readable } from 'node:stream';
import { expect } from 'chai';
import fc from 'fast-check';
import { csvRecords, type CsvItem } from '../../../src/ledger/import/csv-records.js';

const SHAPE = { known: ['kpj', 'name'], required: ['kpj'] };

/** Every item of `text` read in chunks of the given sizes (cycled): what the importer would see. */
async function read(text: string, sizes: readonly number[]): Promise<CsvItem[]> {
  const chunks: Buffer[] = [];
  const bytes = Buffer.from(text, 'utf8');
  for (let at = 0, i = 0; at < bytes.length; i += 1) {
    const size = sizes[i % sizes.length]!;
    chunks.push(bytes.subarray(at, at + size));
    at += size;
  }
  const items: CsvItem[] = [];
  for await (const item of csvRecords(Readable.from(chunks), SHAPE)) items.push(item);
  return items;
}

function lines(items: readonly CsvItem[]): [number, string][] {
  return items.flatMap((item) => [
    ...('rows' in item ? item.rows.map((row): [number, string] => [row.line, row.fields[0]!]) : []),
    ...('rowErrors' in item ? item.rowErrors.map((e): [number, string] => [e.line, 'wrong field count']) : []),
  ]).sort((a, b) => a[0] - b[0]);
}

describe('ledger/import/csv-records: records read in batches keep the line they start on', function () {
  // Empty lines (skipped), a record over three lines, a wrong field count: the lines of the file as written.
  const text = 'kpj,name\n\n10000000001,A\n"10000000002","TWO\nMORE\nLINES"\n\n\n10000000003\n10000000004,D\n';
  const expected: [number, string][] = [[3, '10000000001'], [4, '10000000002'], [9, 'wrong field count'], [10, '10000000004']];

  it('in one chunk and in chunks of any sizes, the same lines and the header first', async () => {
    expect(lines(await read(text, [text.length]))).to.deep.equal(expected);
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 5 }), async (sizes) => {
      const items = await read(text, sizes);
      expect(items[0]).to.deep.equal({ header: { columns: ['kpj', 'name'], errors: [] } });
      expect(lines(items)).to.deep.equal(expected);
    }), { numRuns: 60 });
  });

  it('a CRLF file, line breaks inside quoted values included, reports the same lines as the LF one', async () => {
    const crlf = text.replaceAll('\n', '\r\n');
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 5 }), async (sizes) => {
      expect(lines(await read(crlf, sizes))).to.deep.equal(expected);
    }), { numRuns: 60 });
  });

  it('an unclosed quote ends the reading with one error on its line', async () => {
    const items = await read('kpj,name\n10000000001,A\n10000000002,"B\n', [8]);
    expect(items.at(-1)).to.deep.equal({ fatal: { line: 3, column: undefined, reason: 'not valid CSV (CSV_QUOTE_NOT_CLOSED); reading stopped here' } });
  });
});
