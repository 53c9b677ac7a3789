import { randomBytes } from 'node:crypto';
import { expect } from 'chai';
import { checkAfterRead, checkBeforeRead, checkInstrumentRead, type AccessRule, type Credential, type ParticipantRecord } from '../../src/inquiry/index.js';
import type { Channel, Inquiry, ParticipantRef, StaffReason } from '../../src/inquiry/index.js';
import { DataKey, KeyRing } from '../../src/security/keys/index.js';
import { TEST_KEYS } from '../support/index.js';

const KPJ = '12000000001';
const OTHER = '12000000002';
const NIK = '3171011501900001';
const keys = TEST_KEYS;

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
  return { id: 1n, kpj: KPJ, name: 'X', membershipStatus: status, nikHash: nik === null ? null : keys.current.hmac('contact', nik), nikKeyId: nik === null ? null : keys.current.id, balanceSen: 1n, asOf: '2026-10-31' };
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
    expect(checkAfterRead(kiosk(NIK), undefined, keys)).to.deep.equal(notFound);
    expect(checkAfterRead(kiosk('3171011501900009'), record(), keys)).to.deep.equal(notFound);
    expect(checkAfterRead(kiosk(NIK), record('ACTIVE', null), keys)).to.deep.equal(notFound);
    expect(checkAfterRead(kiosk(NIK), record(), keys)).to.deep.equal({ kind: 'allow' });
  });

  it('status last: blocked or closed only once ownership and NIK held; a wrong NIK on a blocked one stays not-found', () => {
    const own = inquiry('app', { kind: 'kpj', kpj: KPJ });
    expect(checkAfterRead(own, record('BLOCKED'), keys)).to.deep.equal({ kind: 'refuse', refusal: 'membership-blocked' });
    expect(checkAfterRead(own, record('CLOSED'), keys)).to.deep.equal({ kind: 'refuse', refusal: 'membership-blocked' });
    const wrongNik = inquiry('kiosk', { kind: 'kpj+nik', kpj: KPJ, nik: '3171011501900009' });
    expect(checkAfterRead(wrongNik, record('BLOCKED'), keys)).to.deep.equal({ kind: 'refuse', refusal: 'not-found' });
  });

  it('instrument (the ATM): nothing linked is not-found; then the link, then the membership, must be active', () => {
    const refusal = (linkStatus: string, membershipStatus: string) => {
      const verdict = checkInstrumentRead({ linkStatus, membershipStatus });
      return verdict.kind === 'refuse' ? verdict.refusal : verdict.kind;
    };
    expect(checkInstrumentRead(undefined)).to.deep.include({ kind: 'refuse', refusal: 'not-found' });
    expect(refusal('ACTIVE', 'ACTIVE')).to.equal('allow');
    expect(refusal('BLOCKED', 'ACTIVE')).to.equal('instrument-blocked');
    expect(refusal('BLOCKED', 'CLOSED')).to.equal('instrument-blocked');
    expect(refusal('ACTIVE', 'BLOCKED')).to.equal('membership-blocked');
    expect(refusal('ACTIVE', 'CLOSED')).to.equal('membership-blocked');
  });

  it('a NIK is compared under the key that hashed it: a record from before a rotation still matches', () => {
    const next = new KeyRing({ current: new DataKey(randomBytes(32)), previous: keys.current });
    const kiosk = inquiry('kiosk', { kind: 'kpj+nik', kpj: KPJ, nik: NIK });
    expect(checkAfterRead(kiosk, record(), next)).to.deep.equal({ kind: 'allow' });
    const underNew = { ...record(), nikHash: next.current.hmac('contact', NIK), nikKeyId: next.current.id };
    expect(checkAfterRead(kiosk, underNew, next)).to.deep.equal({ kind: 'allow' });
    expect(checkAfterRead(kiosk, { ...underNew, nikKeyId: keys.current.id }, next)).to.deep.equal({ kind: 'refuse', refusal: 'not-found' });
  });
});
