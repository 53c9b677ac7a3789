import { Writable } from 'node:stream';
import { expect } from 'chai';
import fc from 'fast-check';
import { createLogger } from '../../src/observability/logger.js';
import { BatchQueue } from '../../src/journal/batch-queue.js';
import { JournalError } from '../../src/journal/errors.js';
import { IsoMessage, Packager, loadProfile, maskPan } from '../../src/iso8583/index.js';
import { requestDigestOf } from '../../src/channels/atm/steps/detect-duplicate.js';
import { digestMatches, requestDigest } from '../../src/journal/request-digest.js';
import { DataKey, KeyRing } from '../../src/security/keys/index.js';
import { normaliseKey, originalKeyOf } from '../../src/channels/atm/transaction-key.js';
import { parseOriginalDataElements } from '../../src/iso8583/vocabulary/index.js';
import { expectThrows, sleep, waitFor } from '../support/index.js';

/** A logger whose JSON lines the test can read back. */
function capturedLogger(): { logger: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ level: 'info', destination });
  return {
    logger,
    lines: () => chunks.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function sqlError(code: string): Error {
  return Object.assign(new Error(`sql ${code}`), { code });
}

describe('maskPan (codec rendering, used by the journal and logs)', () => {
  it('keeps the first 6 and the last 4 of a 16-digit PAN', () => {
    expect(maskPan('4111111111111111')).to.equal('411111******1111');
    expect(maskPan('5500000000000004')).to.equal('550000******0004');
  });

  it('keeps only the last 4 of a PAN shorter than 15', () => {
    expect(maskPan('123456789012')).to.equal('********9012');
    expect(maskPan('12345')).to.equal('*2345');
    expect(maskPan('1234')).to.equal('****');
    expect(maskPan('')).to.equal('');
  });

  it('is idempotent and never leaves 7 clear digits in a row', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{0,19}$/), (pan) => {
        const masked = maskPan(pan);
        expect(masked).to.have.length(pan.length);
        expect(maskPan(masked)).to.equal(masked);
        expect(masked).not.to.match(/[0-9]{7}/);
      }),
    );
  });
});

describe('journal: requestDigest', () => {
  const keys = new KeyRing({ current: new DataKey(Buffer.alloc(32, 7)) });

  it('is an HMAC-SHA256 under the request-digest key: 32 bytes, deterministic, key-dependent, naming its key', () => {
    const bytes = Buffer.from('0200F23A...4111111111111111');
    const digest = requestDigest(keys, bytes);
    expect(digest.value).to.have.length(32);
    expect(digest.keyId).to.equal(keys.current.id);
    expect(digest.value.equals(keys.current.hmac('request-digest', bytes))).to.equal(true);
    expect(requestDigest(keys, bytes).value.equals(digest.value)).to.equal(true);
    expect(requestDigest(new KeyRing({ current: new DataKey(Buffer.alloc(32, 8)) }), bytes).value.equals(digest.value)).to.equal(false);
    expect(requestDigest(keys, Buffer.from('0200F23A...4111111111111129')).value.equals(digest.value)).to.equal(false);
  });

  it('compares a stored digest under the key that made it: a held verify-only key, never one not held', () => {
    const old = new DataKey(Buffer.alloc(32, 9));
    const bytes = Buffer.from('0200 request');
    const stored = old.hmac('request-digest', bytes);
    const rotated = requestDigest(new KeyRing({ current: keys.current, verifyOnly: [old] }), bytes);
    expect(digestMatches(rotated, stored, old.id)).to.equal(true);
    expect(digestMatches(rotated, stored, null), 'no key id: compared under the current key').to.equal(false);
    expect(digestMatches(requestDigest(keys, bytes), stored, old.id), 'the old key is not held').to.equal(false);
    expect(digestMatches(rotated, old.hmac('request-digest', Buffer.from('other')), old.id)).to.equal(false);
  });

  it('leaves sensitive authentication data (35, 45, 52, 55) out of the digest kept for 3 days', () => {
    const packager = new Packager(loadProfile('iso87-ascii'));
    const base = { 2: '6040990000000001', 3: '310000', 7: '1124093015', 11: '000123', 32: '99901', 41: 'ATM00001', 49: '360' };
    const plain = new IsoMessage('0200', base);
    const withSad = new IsoMessage('0200', { ...base, 35: '6040990000000001=29121011234567890', 45: 'B6040990000000001^BUDI^2912101', 52: '0412AC89ABCDEF67', 55: '9F2608C2C9B2D7E1' });
    const digest = requestDigestOf(plain, packager, keys).value;
    // The digest is the HMAC of the request without them: nothing of the track, PIN block or ICC data is in it.
    expect(requestDigestOf(withSad, packager, keys).value.equals(digest)).to.equal(true);
    expect(digest.equals(requestDigest(keys, packager.pack(plain)).value)).to.equal(true);
    const repeat = withSad.clone();
    repeat.mti = '0201';
    expect(requestDigestOf(repeat, packager, keys).value.equals(digest)).to.equal(true);
    expect(requestDigestOf(new IsoMessage('0200', { ...base, 2: '6040990000000019' }), packager, keys).value.equals(digest)).to.equal(false);
  });
});

describe('journal: field 90 and keys', () => {
  it('splits field 90 into its five elements', () => {
    expect(parseOriginalDataElements('0200' + '123456' + '1025143015' + '00000099901' + '00000000000')).to.deep.equal({
      mti: '0200', stan: '123456', transmissionAt: '1025143015', acquirerId: '00000099901', forwardingId: '00000000000',
    });
    expect(parseOriginalDataElements('0200123456')).to.equal(undefined);
    expect(() => originalKeyOf({ field90: '0200123456', acquirerId: '99901', terminalId: 'T1' })).to.throw(JournalError).with.property('code', 'JOURNAL_BAD_ORIGINAL_DATA');
  });

  it('builds the original key from 90 (acquirer), or from 32 when 90 zeroes it, and 41 from the advice', () => {
    const withAcquirer = originalKeyOf({ field90: '0200' + '123456' + '1025143015' + '00000099901' + '00000000000', acquirerId: '99901', terminalId: 'ATM00001' });
    expect(normaliseKey(withAcquirer)).to.deep.equal({ acquirerId: '99901', stan: '123456', transmissionAt: '1025143015', terminalId: 'ATM00001' });
    const zeroed = originalKeyOf({ field90: '0200' + '123456' + '1025143015' + '00000000000' + '00000000000', acquirerId: '99901', terminalId: 'ATM00001' });
    expect(zeroed.acquirerId).to.equal('99901');
  });

  it('normalises the acquirer so field 32 and the zero-padded field 90 spell one key', () => {
    expect(normaliseKey({ acquirerId: '00000099901', stan: '1', transmissionAt: '2', terminalId: '3' }).acquirerId).to.equal('99901');
    expect(normaliseKey({ acquirerId: '0', stan: '1', transmissionAt: '2', terminalId: '3' }).acquirerId).to.equal('0');
  });
});

describe('journal: BatchQueue', () => {
  function queue(write: (batch: readonly number[]) => Promise<void>, overrides: { capacity?: number; logger?: ReturnType<typeof createLogger> } = {}): BatchQueue<number> {
    return new BatchQueue<number>({
      name: 'test',
      write,
      flushIntervalMs: 5,
      maxBatchSize: 10,
      capacity: overrides.capacity ?? 1_000,
      highWaterMark: Math.floor((overrides.capacity ?? 1_000) * 0.8),
      retryInitialDelayMs: 5,
      retryMaxDelayMs: 20,
      logger: overrides.logger ?? createLogger({ level: 'silent' }),
    });
  }

  it('writes in order, in batches of at most maxBatchSize, without being asked', async () => {
    const written: number[][] = [];
    const q = queue(async (batch) => void written.push([...batch]));
    for (let i = 0; i < 35; i++) q.push(i);
    await waitFor(() => written.flat().length === 35, { what: () => `the 35 items written by themselves (written ${written.flat().length})` });
    expect(written.flat()).to.deep.equal([...Array(35).keys()]);
    expect(Math.max(...written.map((b) => b.length))).to.equal(10);
    expect(q.depth).to.equal(0);
  });

  it('keeps items while writes fail and writes them once the database is back', async () => {
    let up = false;
    const written: number[] = [];
    const q = queue(async (batch) => {
      if (!up) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      written.push(...batch);
    });
    for (let i = 0; i < 25; i++) q.push(i);
    await sleep(40);
    expect(q.depth).to.equal(25);
    await expectThrows(() => q.flush(), Error, 'ECONNREFUSED');
    up = true;
    await waitFor(() => written.length === 25, { what: () => `the 25 items once the database is back (written ${written.length})` });
    expect(written).to.deep.equal([...Array(25).keys()]);
  });

  it('drops past capacity, counts it and logs the count (never silently)', async () => {
    const { logger, lines } = capturedLogger();
    const q = queue(() => Promise.reject(sqlError('08006')), { capacity: 20, logger });
    for (let i = 0; i < 30; i++) q.push(i);
    expect(q.depth).to.equal(20);
    expect(q.dropped).to.equal(10);
    const errors = lines().filter((line) => line.level === 50);
    expect(errors.some((line) => String(line.msg).includes('high-water'))).to.equal(true);
    expect(errors.some((line) => line.dropped === 1 && String(line.msg).includes('dropped'))).to.equal(true);
    const closing = await expectThrows(() => q.close(30), JournalError, 'JOURNAL_CLOSE_TIMEOUT');
    expect(closing.unwritten).to.equal(20);
    // The drops not yet reported (rate limit) are reported at close, with their count.
    expect(lines().some((line) => line.dropped === 9)).to.equal(true);
  });

  it('writes around a row the database rejects instead of retrying it forever', async () => {
    const written: number[] = [];
    const q = queue(async (batch) => {
      if (batch.includes(13)) throw sqlError('23514');
      written.push(...batch);
    });
    for (let i = 0; i < 20; i++) q.push(i);
    await q.flush();
    expect(written).to.deep.equal([...Array(20).keys()].filter((i) => i !== 13));
    expect(q.rejected).to.equal(1);
  });

  it('flush waits for what was queued when it was called, and close for everything', async () => {
    const written: number[] = [];
    const q = queue(async (batch) => {
      await sleep(2);
      written.push(...batch);
    });
    for (let i = 0; i < 15; i++) q.push(i);
    await q.flush();
    expect(written).to.have.length(15);
    for (let i = 15; i < 18; i++) q.push(i);
    await q.close(1_000);
    expect(written).to.deep.equal([...Array(18).keys()]);
    expect(q.push(99)).to.equal(false);
  });
});
