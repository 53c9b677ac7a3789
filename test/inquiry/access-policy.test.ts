import { expect } from 'chai';
import { checkAfterRead, checkBeforeRead, contactKeyOf, nikHash, type AccessRule, type Credential, type ParticipantRecord } from '../../src/inquiry/index.js';
import type { Channel, Inquiry, ParticipantRef, StaffReason } from '../../src/inquiry/index.js';
import { TEST_CARD_KEY } from '../support/index.js';

const KPJ = '12000000001';
const OTHER = '12000000002';
const NIK = '3171011501900001';
const contactKey = contactKeyOf(TEST_CARD_KEY);

function credential(grants: AccessRule[], subject = KPJ, deviceBound = false): Credential {
  return { grants: new Set(grants), subject, deviceBound };
}

function inquiry(channel: Channel, participant: ParticipantRef, reason?: StaffReason): Inquiry {
  return {
    channel, participant, reason, receivedAt: new Date(), startedAt: performance.now(),
    requester: { kind: 'oauth', clientId: 'test', subject: KPJ },
  };
}

function record(status = 'ACTIVE', nik: string | null = NIK): ParticipantRecord {
  return { id: 1n, kpj: KPJ, name: 'X', membershipStatus: status, nikHash: nik === null ? null : nikHash(contactKey, nik), balanceSen: 1n, asOf: '2026-10-31' };
}

const REASON: StaffReason = { code: 'PARTICIPANT-REQUEST', ticketId: 'T-1' };

describe('inquiry: the access policy, by itself', () => {
  it('self: the subject may ask for its own KPJ, and for no other (neutral not-found, before any read)', () => {
    expect(checkBeforeRead(credential(['self']), inquiry('app', { kind: 'kpj', kpj: KPJ }))).to.deep.equal({ kind: 'allow' });
    expect(checkBeforeRead(credential(['self']), inquiry('web', { kind: 'kpj', kpj: OTHER }))).to.deep.equal({ kind: 'refuse', refusal: 'not-found' });
  });

  it('scope comes first: a self token on the counter channel is refused for scope, even for its own KPJ', () => {
    const verdict = checkBeforeRead(credential(['self']), inquiry('counter', { kind: 'kpj', kpj: KPJ }, REASON));
    expect(verdict).to.include({ kind: 'refuse', refusal: 'insufficient-scope' });
  });

  it('any: staff need a reason code from the list and a ticket', () => {
    expect(checkBeforeRead(credential(['any'], 'staff-7'), inquiry('counter', { kind: 'kpj', kpj: OTHER }, REASON))).to.deep.equal({ kind: 'allow' });
    expect(checkBeforeRead(credential(['any'], 'staff-7'), inquiry('call-centre', { kind: 'kpj', kpj: OTHER }))).to.include({ refusal: 'incomplete' });
    expect(checkBeforeRead(credential(['any'], 'staff-7'), inquiry('counter', { kind: 'kpj', kpj: OTHER }, { code: 'CURIOUS', ticketId: 'T' })))
      .to.include({ refusal: 'incomplete' });
  });

  it('kiosk: only bound to the device certificate, and only with KPJ + NIK', () => {
    const kiosk = inquiry('kiosk', { kind: 'kpj+nik', kpj: KPJ, nik: NIK });
    expect(checkBeforeRead(credential(['kiosk'], 'kiosk-1', true), kiosk)).to.deep.equal({ kind: 'allow' });
    expect(checkBeforeRead(credential(['kiosk'], 'kiosk-1', false), kiosk)).to.include({ refusal: 'insufficient-scope' });
    expect(checkBeforeRead(credential(['kiosk'], 'kiosk-1', true), inquiry('kiosk', { kind: 'kpj', kpj: KPJ }))).to.include({ refusal: 'incomplete' });
  });

  it('after the read: no such participant, a wrong NIK and no NIK on file are the same not-found', () => {
    const kiosk = (nik: string) => inquiry('kiosk', { kind: 'kpj+nik', kpj: KPJ, nik });
    const notFound = { kind: 'refuse', refusal: 'not-found' };
    expect(checkAfterRead(kiosk(NIK), undefined, contactKey)).to.deep.equal(notFound);
    expect(checkAfterRead(kiosk('3171011501900009'), record(), contactKey)).to.deep.equal(notFound);
    expect(checkAfterRead(kiosk(NIK), record('ACTIVE', null), contactKey)).to.deep.equal(notFound);
    expect(checkAfterRead(kiosk(NIK), record(), contactKey)).to.deep.equal({ kind: 'allow' });
  });

  it('status last: blocked or closed only once ownership and NIK held; a wrong NIK on a blocked one stays not-found', () => {
    const own = inquiry('app', { kind: 'kpj', kpj: KPJ });
    expect(checkAfterRead(own, record('BLOCKED'), contactKey)).to.deep.equal({ kind: 'refuse', refusal: 'membership-blocked' });
    expect(checkAfterRead(own, record('CLOSED'), contactKey)).to.deep.equal({ kind: 'refuse', refusal: 'membership-blocked' });
    const wrongNik = inquiry('kiosk', { kind: 'kpj+nik', kpj: KPJ, nik: '3171011501900009' });
    expect(checkAfterRead(wrongNik, record('BLOCKED'), contactKey)).to.deep.equal({ kind: 'refuse', refusal: 'not-found' });
  });

  it('the contact key is derived from the card key by HKDF and is not the card key', () => {
    expect(contactKey).to.have.length(32);
    expect(contactKey.equals(TEST_CARD_KEY)).to.equal(false);
    expect(contactKeyOf(TEST_CARD_KEY).equals(contactKey)).to.equal(true);
  });
});
