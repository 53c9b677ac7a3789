import { expect } from 'chai';
import fc from 'fast-check';
import {
  createAscii4Framing,
  createBinary2Framing,
  createBinary2TpduFraming,
  createFraming,
  FrameReader,
  FramingError,
  TransportConfigError,
  type Framing,
  type FramingName,
  type ReplyContext,
} from '../../src/transport/index.js';
import { expectThrows } from '../support/index.js';

interface Received {
  body: Buffer;
  context: ReplyContext;
}

function readerFor(framing: Framing, maxFrameBytes?: number): { reader: FrameReader; frames: Received[] } {
  const frames: Received[] = [];
  const reader = new FrameReader(framing, (body, context) => frames.push({ body: Buffer.from(body), context: context && Buffer.from(context) }), maxFrameBytes);
  return { reader, frames };
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const tpdu = (dest: number, src: number): Buffer => Buffer.from([0x60, dest >> 8, dest & 0xff, src >> 8, src & 0xff]);

describe('transport framings', () => {
  describe('binary-2', () => {
    const framing = createBinary2Framing();

    it('writes a 2-byte big-endian length of the body', () => {
      expect(framing.frame(Buffer.from('0800ABC')).toString('hex')).to.equal('0007' + Buffer.from('0800ABC').toString('hex'));
      const big = framing.frame(Buffer.alloc(0x1234, 0x41));
      expect(big.subarray(0, 2).toString('hex')).to.equal('1234');
      expect(big.length).to.equal(0x1236);
    });

    it('reads what it writes', () => {
      const frame = framing.frame(Buffer.from('hello'));
      expect(framing.readBodyLength(frame, 0)).to.equal(5);
      expect(framing.replyContext(frame, 0)).to.equal(undefined);
    });

    it('with lengthIncludesHeader, counts its own 2 bytes', () => {
      const self = createBinary2Framing({ lengthIncludesHeader: true });
      expect(self.frame(Buffer.from('abc')).subarray(0, 2).toString('hex')).to.equal('0005');
      expect(self.readBodyLength(hex('0005'), 0)).to.equal(3);
      expectThrows(() => self.readBodyLength(hex('0002'), 0), FramingError, 'FRAME_EMPTY');
      expectThrows(() => self.readBodyLength(hex('0001'), 0), FramingError, 'FRAME_BAD_HEADER');
    });

    it('refuses a header announcing 0 bytes, and an empty body to send', () => {
      const err = expectThrows(() => framing.readBodyLength(hex('aa 0000'), 1), FramingError);
      expect(err.code).to.equal('FRAME_EMPTY');
      expect(err.offset).to.equal(1);
      expectThrows(() => framing.frame(Buffer.alloc(0)), FramingError, 'FRAME_EMPTY');
    });

    it('refuses a body its header cannot express', () => {
      expectThrows(() => framing.frame(Buffer.alloc(0x10000)), FramingError, 'FRAME_TOO_LARGE');
    });
  });

  describe('ascii-4', () => {
    const framing = createAscii4Framing();

    it('writes 4 ASCII digits', () => {
      expect(framing.frame(Buffer.from('0800')).toString('latin1')).to.equal('00040800');
      expect(framing.frame(Buffer.alloc(1234, 0x20)).subarray(0, 4).toString('latin1')).to.equal('1234');
      expect(framing.readBodyLength(Buffer.from('0317'), 0)).to.equal(317);
    });

    it('refuses non-digit headers, 0000, and bodies over 9999', () => {
      const bad = expectThrows(() => framing.readBodyLength(Buffer.from('xx01a2'), 2), FramingError);
      expect(bad.code).to.equal('FRAME_BAD_HEADER');
      expect(bad.offset).to.equal(2);
      expectThrows(() => framing.readBodyLength(Buffer.from('0000'), 0), FramingError, 'FRAME_EMPTY');
      expectThrows(() => framing.frame(Buffer.alloc(10_000)), FramingError, 'FRAME_TOO_LARGE');
    });

    it('with lengthIncludesHeader, counts its own 4 digits', () => {
      const self = createAscii4Framing({ lengthIncludesHeader: true });
      expect(self.frame(Buffer.from('ab')).toString('latin1')).to.equal('0006ab');
      expect(self.readBodyLength(Buffer.from('0006'), 0)).to.equal(2);
      expectThrows(() => self.readBodyLength(Buffer.from('0003'), 0), FramingError, 'FRAME_BAD_HEADER');
    });
  });

  describe('binary-2-tpdu', () => {
    const framing = createBinary2TpduFraming({ tpdu: { destination: 0x0001, source: 0x0099 } });

    it('counts TPDU + message, hands up the body without the TPDU, and keeps the TPDU as reply context', () => {
      const { reader, frames } = readerFor(framing);
      reader.push(Buffer.concat([hex('0009'), tpdu(0x0003, 0x0107), Buffer.from('0200')]));
      expect(frames).to.have.length(1);
      expect(frames[0]!.body.toString()).to.equal('0200');
      expect(frames[0]!.context!.toString('hex')).to.equal('6000030107');
    });

    it('echoes the request TPDU with source and destination swapped', () => {
      const reply = framing.frame(Buffer.from('0210'), tpdu(0x0003, 0x0107));
      expect(reply.toString('hex')).to.equal('0009' + '6001070003' + Buffer.from('0210').toString('hex'));
    });

    it('uses its own addresses for messages the switch originates', () => {
      expect(framing.frame(Buffer.from('0800')).subarray(0, 7).toString('hex')).to.equal('0009' + '6000010099');
    });

    it('refuses a length shorter than the TPDU, a TPDU alone, and a wrong protocol id', () => {
      expectThrows(() => framing.readBodyLength(Buffer.concat([hex('0003'), tpdu(1, 2)]), 0), FramingError, 'FRAME_BAD_HEADER');
      expectThrows(() => framing.readBodyLength(Buffer.concat([hex('0005'), tpdu(1, 2)]), 0), FramingError, 'FRAME_EMPTY');
      const wrongId = expectThrows(() => framing.readBodyLength(hex('0009 6800010002'), 0), FramingError);
      expect(wrongId.code).to.equal('FRAME_BAD_HEADER');
      expect(wrongId.offset).to.equal(2);
    });

    it('with lengthIncludesHeader, counts length field + TPDU + message', () => {
      const self = createBinary2TpduFraming({ lengthIncludesHeader: true });
      expect(self.frame(Buffer.from('ab'), tpdu(1, 2)).subarray(0, 2).toString('hex')).to.equal('0009');
      expect(self.readBodyLength(Buffer.concat([hex('0009'), tpdu(1, 2)]), 0)).to.equal(2);
    });
  });

  it('createFraming builds each profile by name and refuses unknown names', () => {
    for (const name of ['binary-2', 'ascii-4', 'binary-2-tpdu'] as const) expect(createFraming(name).name).to.equal(name);
    expect(createFraming({ name: 'ascii-4', lengthIncludesHeader: true }).frame(Buffer.from('x')).toString()).to.equal('0005x');
    expect(() => createFraming('binary-4' as FramingName)).to.throw(TransportConfigError).with.property('code', 'TRANSPORT_UNKNOWN_FRAMING');
  });
});

describe('FrameReader', () => {
  const bodies = ['0800first', '0200second-message', '0420x'].map((s) => Buffer.from(s));

  const cases: Array<[string, Framing]> = [
    ['binary-2', createBinary2Framing()],
    ['ascii-4', createAscii4Framing()],
    ['binary-2-tpdu', createBinary2TpduFraming()],
    ['binary-2 counting itself', createBinary2Framing({ lengthIncludesHeader: true })],
  ];
  for (const [label, framing] of cases) {
    describe(label, () => {
      const stream = Buffer.concat(bodies.map((b, i) => framing.frame(b, tpdu(i, 100 + i))));

      it('reads frames fed one byte at a time (headers split too)', () => {
        const { reader, frames } = readerFor(framing);
        for (let i = 0; i < stream.length; i++) reader.push(stream.subarray(i, i + 1));
        expect(frames.map((f) => f.body.toString())).to.deep.equal(bodies.map(String));
        expect(reader.bufferedBytes).to.equal(0);
      });

      it('reads many frames coalesced in one chunk, as views of it (no copy)', () => {
        const views: Buffer[] = [];
        const reader = new FrameReader(framing, (body) => views.push(body));
        reader.push(stream);
        expect(views.map(String)).to.deep.equal(bodies.map(String));
        for (const v of views) expect(v.buffer).to.equal(stream.buffer);
      });
    });
  }

  it('hands up the TPDU of each frame, also when the frame straddles chunks', () => {
    const framing = createBinary2TpduFraming();
    // Framed as replies to requests from 8 → 7 and 10 → 9, so they travel 7 → 8 and 9 → 10.
    const stream = Buffer.concat([framing.frame(Buffer.from('AAAA'), tpdu(7, 8)), framing.frame(Buffer.from('BB'), tpdu(9, 10))]);
    const { reader, frames } = readerFor(framing);
    reader.push(stream.subarray(0, 4));
    reader.push(stream.subarray(4, 14));
    reader.push(stream.subarray(14));
    expect(frames.map((f) => [f.body.toString(), f.context!.toString('hex')])).to.deep.equal([
      ['AAAA', tpduHex(8, 7)],
      ['BB', tpduHex(10, 9)],
    ]);
  });

  it('reports an oversize header with its stream offset, once, then ignores input', () => {
    const framing = createBinary2Framing();
    const { reader, frames } = readerFor(framing, 8192);
    const good = framing.frame(Buffer.from('ok'));
    const err = expectThrows(() => reader.push(Buffer.concat([good, hex('2001'), Buffer.alloc(10)])), FramingError);
    expect(err.code).to.equal('FRAME_TOO_LARGE');
    expect(err.offset).to.equal(good.length);
    expect(frames).to.have.length(1);
    expect(reader.failure).to.equal(err);
    reader.push(good);
    expect(frames).to.have.length(1);
  });

  it('applies the limit to what follows the length field: exactly the maximum passes', () => {
    const framing = createBinary2Framing();
    const { reader, frames } = readerFor(framing, 8192);
    reader.push(framing.frame(Buffer.alloc(8192, 1)));
    expect(frames).to.have.length(1);
    const tpduFraming = createBinary2TpduFraming();
    const t = readerFor(tpduFraming, 8192);
    expectThrows(() => t.reader.push(tpduFraming.frame(Buffer.alloc(8188, 1))), FramingError, 'FRAME_TOO_LARGE');
  });

  it('reports a zero-length header split across chunks at its stream offset', () => {
    const framing = createBinary2Framing();
    const { reader } = readerFor(framing);
    const good = framing.frame(Buffer.from('abc'));
    reader.push(Buffer.concat([good, hex('00')]));
    const err = expectThrows(() => reader.push(hex('00')), FramingError);
    expect(err.code).to.equal('FRAME_EMPTY');
    expect(err.offset).to.equal(good.length);
  });

  it('holds frames while paused and hands them up on resume, in order', () => {
    const framing = createBinary2Framing();
    const seen: string[] = [];
    const reader: FrameReader = new FrameReader(framing, (body) => {
      seen.push(body.toString());
      if (seen.length === 1) reader.pause();
    });
    reader.push(Buffer.concat(['a', 'b', 'c'].map((s) => framing.frame(Buffer.from(s)))));
    expect(seen).to.deep.equal(['a']);
    reader.push(framing.frame(Buffer.from('d')));
    expect(seen).to.deep.equal(['a']);
    expect(reader.bufferedBytes).to.equal(9);
    reader.resume();
    expect(seen).to.deep.equal(['a', 'b', 'c', 'd']);
    // Paused exactly at the end of a chunk, with nothing held: the next chunk must wait too.
    reader.pause();
    const e = framing.frame(Buffer.from('eee'));
    reader.push(e.subarray(0, 3));
    reader.push(e.subarray(3));
    expect(seen).to.have.length(4);
    reader.resume();
    expect(seen).to.deep.equal(['a', 'b', 'c', 'd', 'eee']);
  });

  it('property: pausing and resuming at random points neither loses, duplicates nor reorders frames', () => {
    const framing = createBinary2TpduFraming();
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 50 }), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        (rawBodies, cutSeeds, pauseAfter) => {
          const input = rawBodies.map((b) => Buffer.from(b));
          const stream = Buffer.concat(input.map((b) => framing.frame(b)));
          const cuts = [...new Set(cutSeeds.map((c) => c % stream.length))].sort((a, b) => a - b);
          const seen: string[] = [];
          const reader: FrameReader = new FrameReader(framing, (body) => {
            seen.push(body.toString('hex'));
            if (pauseAfter[seen.length % pauseAfter.length]) reader.pause();
          });
          let start = 0;
          for (const [i, cut] of [...cuts, stream.length].entries()) {
            reader.push(stream.subarray(start, cut));
            start = cut;
            if (i % 2 === 0) reader.resume();
          }
          while (reader.paused) reader.resume();
          expect(seen).to.deep.equal(input.map((b) => b.toString('hex')));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: any bodies, framed, concatenated and re-chunked anywhere, come out identical', () => {
    const framings = [createBinary2Framing(), createAscii4Framing(), createBinary2TpduFraming(), createAscii4Framing({ lengthIncludesHeader: true })];
    fc.assert(
      fc.property(
        fc.constantFrom(...framings),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 600 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (framing, rawBodies, cutSeeds) => {
          const input = rawBodies.map((b) => Buffer.from(b));
          const stream = Buffer.concat(input.map((b, i) => framing.frame(b, tpdu(i, i + 1))));
          const cuts = [...new Set(cutSeeds.map((c) => c % stream.length))].sort((a, b) => a - b);
          const { reader, frames } = readerFor(framing);
          let start = 0;
          for (const cut of [...cuts, stream.length]) {
            reader.push(stream.subarray(start, cut));
            start = cut;
          }
          expect(frames.map((f) => f.body.toString('hex'))).to.deep.equal(input.map((b) => b.toString('hex')));
          // Framed as replies to i → i + 1, so each travels i + 1 → i: the destination's low byte is i + 1.
          if (framing.name === 'binary-2-tpdu') expect(frames.map((f) => f.context![2])).to.deep.equal(input.map((_, i) => (i + 1) & 0xff));
          expect(reader.bufferedBytes).to.equal(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function tpduHex(dest: number, src: number): string {
  return tpdu(dest, src).toString('hex');
}
