import { expect } from 'chai';
import { DEMO_AS_OF, DEMO_PARTICIPANTS, DEMO_UNLINKED_CARDS } from '../../src/ledger/demo-data.js';
import { demo, expectThrows, startTestSwitch, TestPeer, waitFor, type TestSwitch } from './index.js';

class CodedError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** What a helper's own failure says: the test toolkit must fail loudly, never pass by accident. */
async function failureOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    return (error as Error).message;
  }
  return expect.fail('expected the helper to fail');
}

describe('test toolkit', () => {
  describe('waitFor', () => {
    it('resolves once the condition holds, sync or async', async () => {
      let n = 0;
      await waitFor(() => ++n >= 3, { what: 'three checks', intervalMs: 1 });
      await waitFor(async () => ++n >= 6, { what: 'six checks', intervalMs: 1 });
      expect(n).to.equal(6);
    });

    it('rejects naming what it waited for, with the state at the deadline', async () => {
      let seen = 0;
      const message = await failureOf(() => waitFor(() => (seen++, false), { what: () => `the impossible (checked ${seen} times)`, timeoutMs: 50 }));
      expect(message).to.match(/^timed out after 50 ms waiting for the impossible \(checked \d+ times\)$/);
      expect(seen).to.be.greaterThan(1);
    });

    it('ends with the error of a condition that throws', async () => {
      expect(await failureOf(() => waitFor(() => { throw new Error('the process exited'); }, { what: 'x' }))).to.equal('the process exited');
    });
  });

  describe('expectThrows', () => {
    it('returns the error, typed, when class and code match; sync and async', async () => {
      expect(expectThrows(() => { throw new CodedError('E_ONE'); }, CodedError, 'E_ONE').code).to.equal('E_ONE');
      expect((await expectThrows(() => Promise.reject(new CodedError('E_TWO')), CodedError)).code).to.equal('E_TWO');
    });

    it('fails when nothing is thrown, the class or the code differ, or the promise resolves', async () => {
      expect(await failureOf(() => expectThrows(() => 1, CodedError))).to.match(/CodedError to be thrown, but nothing was/);
      expect(await failureOf(() => expectThrows(() => { throw new Error('plain'); }, CodedError))).to.match(/instance of CodedError/);
      expect(await failureOf(() => expectThrows(() => { throw new CodedError('E_ONE'); }, CodedError, 'E_TWO'))).to.match(/E_TWO/);
      expect(await failureOf(() => expectThrows(() => Promise.resolve(1), CodedError))).to.match(/but the promise resolved/);
    });
  });

  describe('demo identities', () => {
    it('come from the demo data files, each in the role its name says', () => {
      expect(DEMO_PARTICIPANTS).to.include.members([demo.approved, demo.second, demo.blocked]);
      expect(new Set([demo.approved.kpj, demo.second.kpj, demo.blocked.kpj]).size).to.equal(3);
      expect(demo.approved.cards).to.include(demo.approvedCard);
      expect(demo.approved.accounts).to.include(demo.account);
      expect([demo.approved.membershipStatus, demo.second.membershipStatus, demo.blocked.membershipStatus]).to.deep.equal(['ACTIVE', 'ACTIVE', 'BLOCKED']);
      expect(DEMO_UNLINKED_CARDS).to.include(demo.unlinkedCard);
      expect(DEMO_PARTICIPANTS.flatMap((p) => p.cards)).to.not.include(demo.unlinkedCard);
      expect(demo.asOf).to.equal(DEMO_AS_OF.replaceAll('-', ''));
    });
  });

  describe('TestPeer', function () {
    this.timeout(30_000);
    let sw: TestSwitch;
    before(async () => {
      sw = await startTestSwitch();
    });
    after(async () => sw.stop());

    it('waiting for frames that never come fails, naming how many did', async () => {
      const peer = await TestPeer.connect(sw.port);
      try {
        expect(await failureOf(() => peer.waitFrames(1, 100))).to.equal('timed out after 100 ms waiting for 1 frames (have 0)');
        expect(await failureOf(() => peer.waitClosed(100))).to.equal('timed out after 100 ms waiting for the connection to close');
      } finally {
        peer.close();
      }
    });
  });
});
