import { expect } from 'chai';
import { Packager, loadProfile } from '../../src/iso8583/index.js';
import { LatencyHistogram } from '../../src/loadgen/histogram.js';
import { InFlightRequests, Taken } from '../../src/loadgen/in-flight-requests.js';
import { RunStats } from '../../src/loadgen/stats.js';
import { InquiryTemplate, requestTime } from '../../src/loadgen/inquiry-template.js';
import { demo } from '../support/index.js';

describe('load generator parts', () => {
  describe('LatencyHistogram', () => {
    it('is exact below 2,048 µs', () => {
      const h = new LatencyHistogram();
      for (let us = 1; us <= 1000; us++) h.record(us);
      expect(h.summary()).to.deep.equal({ count: 1000, p50Us: 500, p95Us: 950, p99Us: 990, maxUs: 1000 });
    });

    it('is within 0.1 % above, up to half an hour, and never reports more than the max', () => {
      for (const us of [2048, 2049, 5_000, 123_457, 9_999_999, 1_800_000_000]) {
        const h = new LatencyHistogram();
        h.record(us);
        h.record(1);
        const p99 = h.valueAt(0.99);
        expect(p99, String(us)).to.be.at.most(us);
        expect(p99, String(us)).to.be.at.least(us * 0.999);
      }
      const h = new LatencyHistogram();
      for (let i = 0; i < 100; i++) h.record(10_000 + i * 100);
      expect(h.valueAt(0.5)).to.be.closeTo(14_900, 15);
      expect(h.valueAt(1)).to.equal(19_900);
    });

    it('reports zeros when empty', () => {
      expect(new LatencyHistogram().summary()).to.deep.equal({ count: 0, p50Us: 0, p95Us: 0, p99Us: 0, maxUs: 0 });
    });
  });

  describe('InFlightRequests', () => {
    it('matches answers in any order, and keeps a slow one when the ring comes round to it', () => {
      const stats = new RunStats(0);
      const requests = new InFlightRequests(16, stats, 5_000);
      const slow = requests.begin(1, 7);
      const stans = Array.from({ length: 100 }, (_, i) => requests.begin(10 + i, i % 3));
      expect(requests.count).to.equal(101);
      for (const stan of [...stans].reverse()) expect(requests.take(stan)).to.equal(Taken.Request);
      expect(requests.takenScheduledAt).to.equal(10);
      expect(requests.take(slow)).to.equal(Taken.Request); // long out of the 16-slot ring
      expect([requests.takenScheduledAt, requests.takenIdentity]).to.deep.equal([1, 7]);
      expect(requests.count).to.equal(0);
      expect(stats.measured.sent).to.equal(101);
      expect(stats.errors).to.equal(0);
    });

    it('an unknown STAN, or a second answer, is Unknown', () => {
      const requests = new InFlightRequests(16, new RunStats(0), 5_000);
      const stan = requests.begin(1, 0);
      expect(requests.take((stan % 999_999) + 1)).to.equal(Taken.Unknown);
      expect(requests.take(Number.NaN)).to.equal(Taken.Unknown);
      expect(requests.take(stan)).to.equal(Taken.Request);
      expect(requests.take(stan)).to.equal(Taken.Unknown);
    });

    it('counts a timeout once: the late answer is Late, in the ring or out of it', () => {
      const stats = new RunStats(0);
      const requests = new InFlightRequests(16, stats, 100);
      const inRing = requests.begin(0, 0);
      requests.sweep(150);
      expect(stats.measured.timeouts).to.equal(1);
      expect(requests.take(inRing)).to.equal(Taken.Late);
      const pushedOut = requests.begin(200, 0);
      for (let i = 0; i < 40; i++) requests.take(requests.begin(200, 0));
      requests.sweep(350);
      expect(stats.measured.timeouts).to.equal(2);
      expect(requests.take(pushedOut)).to.equal(Taken.Late);
      expect(requests.count).to.equal(0);
    });

    it('a closed connection loses what is in flight, ring and outliers alike', () => {
      const stats = new RunStats(0);
      const requests = new InFlightRequests(16, stats, 5_000);
      for (let i = 0; i < 40; i++) requests.begin(i, 0);
      requests.loseAll();
      expect(stats.measured.errorsByKind.get('connection-lost')).to.equal(40);
      expect(requests.count).to.equal(0);
    });
  });

  describe('InquiryTemplate', () => {
    for (const profile of ['iso87-ascii', 'iso87-binary']) {
      it(`writes what the codec packs, STAN and RRN patched (${profile})`, () => {
        const packager = new Packager(loadProfile(profile));
        const time = requestTime(Date.UTC(2026, 10, 24, 9, 30, 15));
        const template = new InquiryTemplate(
          { packager, identity: { kind: 'pan', value: demo.approvedCard }, acquirerId: '99901', terminalId: 'ABC00001' }, time);
        const out = Buffer.alloc(template.length * 3);
        for (const [i, stan] of [1, 123_456, 999_999].entries()) {
          template.writeTo(out, i * template.length, stan, time);
          const message = packager.unpack(out.subarray(i * template.length, (i + 1) * template.length));
          const stanText = String(stan).padStart(6, '0');
          expect(message.get(11)).to.equal(stanText);
          expect(message.get(37)).to.equal(time.f13 + time.f12.slice(0, 2) + stanText);
          expect(message.get(7)).to.equal(time.f7);
          expect(message.get(41)).to.equal('ABC00001');
          expect(message.get(2)).to.equal(demo.approvedCard);
          expect(packager.pack(message).equals(out.subarray(i * template.length, (i + 1) * template.length))).to.equal(true);
        }
      });
    }

    it('packs the date and time fields again when the second changes', () => {
      const packager = new Packager(loadProfile('iso87-ascii'));
      const first = requestTime(Date.UTC(2026, 10, 24, 9, 30, 15));
      const next = requestTime(Date.UTC(2026, 10, 24, 9, 30, 16));
      const template = new InquiryTemplate(
        { packager, identity: { kind: 'account', value: demo.account }, acquirerId: '99901', terminalId: 'T1' }, first);
      const out = Buffer.alloc(template.length);
      template.writeTo(out, 0, 42, next);
      const message = packager.unpack(out);
      expect(message.get(7)).to.equal(next.f7);
      expect(message.get(102)).to.equal(demo.account);
      expect(message.get(41)).to.equal('T1      ');
    });
  });
});
