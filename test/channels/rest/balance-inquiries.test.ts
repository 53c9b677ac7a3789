import { expect } from 'chai';
import { SignJWT } from 'jose';
import { demo, getTestDatabase, useTestRest } from '../../support/index.js';

const NOT_FOUND = 'urn:jht-switch:problem:not-found';
const LIMITS = { clientRequestsPerSecond: 10_000, clientBurst: 10_000, participantRequestsPerMinute: 100_000, participantBurst: 10_000 };
const self = (kpj: string = demo.approved.kpj) => ({ client_id: 'app-1', sub: kpj, scope: 'jht:balance:self' });
const staff = (client = 'counter-1') => ({ client_id: client, sub: 'staff-0042', scope: 'jht:balance:any' });
const REASON = { code: 'PARTICIPANT-REQUEST', ticketId: 'TCK-2026-0001' };

describe('channels/rest: POST /v1/balance-inquiries over real HTTP', function () {
  this.timeout(60_000);
  const rest = useTestRest({ channels: { rest: { limits: LIMITS } } } as never);

  it('answers the participant their own balance: a decimal string from BigInt sen, the as-of date, a reference; X-Request-ID echoed', async () => {
    const token = await rest.issuer.token(self());
    const answer = await rest.api.inquire({ kpj: demo.approved.kpj }, { token, headers: { 'x-request-id': 'req-123' } });
    expect(answer.status).to.equal(200);
    expect(answer.headers.get('x-request-id')).to.equal('req-123');
    expect(answer.headers.get('cache-control')).to.equal('no-store');
    expect(answer.body).to.deep.include({
      kpj: demo.approved.kpj, name: demo.approved.name, balance: { amount: '15250000.00', currency: 'IDR' }, asOf: '2026-10-31',
    });
    expect(answer.body.reference).to.match(/^[0-9a-f-]{36}$/);
    expect(rest.issuer.fetches, 'the JWKS was fetched over HTTP').to.be.at.least(1);
  });

  it('journals it durably before answering: channel, client and masked subject, participant id, masked KPJ, outcome, latency', async () => {
    const token = await rest.issuer.token(staff());
    const answer = await rest.api.inquire({ kpj: demo.second.kpj, reason: REASON }, { token });
    expect(answer.status).to.equal(200);
    const { rows: [row] } = await (await getTestDatabase()).pool.query(
      'SELECT channel, requester, participant_id, masked_kpj, outcome, reason_code, ticket_id, latency_us, kind FROM journal WHERE reference = $1',
      [answer.body.reference]);
    const { rows: [participant] } = await (await getTestDatabase()).pool.query('SELECT id FROM participant WHERE kpj_number = $1', [demo.second.kpj]);
    expect(row).to.deep.include({
      channel: 'counter', requester: 'counter-1/staff:staff-0042', participant_id: participant!.id, masked_kpj: '*******0002',
      outcome: 'answered', reason_code: 'PARTICIPANT-REQUEST', ticket_id: 'TCK-2026-0001', kind: 'request',
    });
    expect(row!.latency_us).to.be.a('number').and.to.be.greaterThan(0);
    const own = await rest.api.inquire({ kpj: demo.approved.kpj }, { token: await rest.issuer.token(self()) });
    const { rows: [mine] } = await (await getTestDatabase()).pool.query('SELECT requester FROM journal WHERE reference = $1', [own.body.reference]);
    expect(mine!.requester, 'the subject of a self token is a KPJ: masked').to.equal('app-1/subject:*******0001');
  });

  it('counts inquiries by channel and outcome on the metrics registry', async () => {
    await rest.api.inquire({ kpj: demo.second.kpj }, { token: await rest.issuer.token(self()) });
    const text = await rest.api.registry.metrics();
    expect(text).to.match(/^jht_inquiries_total\{channel="app",outcome="answered"\} [1-9]/m);
    expect(text).to.match(/^jht_inquiries_total\{channel="app",outcome="not-found"\} [1-9]/m);
    expect(text).to.match(/^jht_inquiry_latency_seconds_count\{channel="counter"\} [1-9]/m);
  });

  describe('401 unauthorized (problem+json, WWW-Authenticate)', () => {
    const cases: Array<[string, () => Promise<string | undefined>]> = [
      ['no token', async () => undefined],
      ['a token signed by a key the issuer does not publish', () => rest.issuer.token(self(), { foreignKey: true })],
      ['an expired token', () => rest.issuer.token(self(), { shiftSeconds: -3_600, lifetimeSeconds: 600 })],
      ['another audience', () => rest.issuer.token({ ...self(), aud: 'someone-else' })],
      ['another issuer', () => rest.issuer.token({ ...self(), iss: 'https://evil.example/' })],
      ['typ JWT instead of at+jwt', () => rest.issuer.token(self(), { typ: 'JWT' })],
      ['a lifetime past the maximum', () => rest.issuer.token(self(), { lifetimeSeconds: 7_200 })],
      ['a client this API does not know', () => rest.issuer.token({ ...self(), client_id: 'stranger' })],
      ['HS256 (a shared secret is never accepted)', () => new SignJWT({ client_id: 'app-1', scope: 'jht:balance:self' })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).setIssuer(rest.issuer.issuer).setAudience('jht-switch').setSubject(demo.approved.kpj)
        .setIssuedAt().setExpirationTime('5m').setJti('x').sign(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'))],
      ['alg none', async () => `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify({ ...self(), iss: rest.issuer.issuer, aud: 'jht-switch', exp: 9e9, iat: 1, jti: 'x' })).toString('base64url')}.`],
    ];
    for (const [what, make] of cases) {
      it(what, async () => {
        const answer = await rest.api.inquire({ kpj: demo.approved.kpj }, { token: await make() });
        expect(answer.status).to.equal(401);
        expect(answer.headers.get('content-type')).to.match(/^application\/problem\+json/);
        expect(answer.headers.get('www-authenticate')).to.equal('Bearer error="invalid_token"');
        expect(answer.body).to.include({ type: 'urn:jht-switch:problem:unauthorized', status: 401 });
      });
    }

    it('accepts RS256 and EdDSA tokens as well as ES256', async () => {
      for (const alg of ['RS256', 'EdDSA'] as const) {
        expect((await rest.api.inquire({ kpj: demo.approved.kpj }, { token: await rest.issuer.token(self(), { alg }) })).status, alg).to.equal(200);
      }
    });
  });

  it('403 insufficient-scope: a self token from the counter\'s client, a staff token from the app\'s client', async () => {
    for (const token of [await rest.issuer.token({ ...self(), client_id: 'counter-1' }), await rest.issuer.token({ ...staff(), client_id: 'app-1' })]) {
      const answer = await rest.api.inquire({ kpj: demo.approved.kpj, reason: REASON }, { token });
      expect(answer.status).to.equal(403);
      expect(answer.body).to.include({ type: 'urn:jht-switch:problem:insufficient-scope' });
      expect(answer.headers.get('www-authenticate')).to.equal('Bearer error="insufficient_scope"');
    }
  });

  it('404 is one neutral answer for "not yours" and "no such participant"', async () => {
    const notYours = await rest.api.inquire({ kpj: demo.second.kpj }, { token: await rest.issuer.token(self()) });
    const noSuch = await rest.api.inquire({ kpj: '19999999999', reason: REASON }, { token: await rest.issuer.token(staff('callcentre-1')) });
    for (const answer of [notYours, noSuch]) {
      expect(answer.status).to.equal(404);
      const { reference: _, ...rest } = answer.body;
      expect(rest).to.deep.equal({ type: NOT_FOUND, title: 'No participant matches this request', status: 404 });
    }
  });

  it('403 membership-blocked, only once the requester may see the participant', async () => {
    const staffAnswer = await rest.api.inquire({ kpj: demo.blocked.kpj, reason: REASON }, { token: await rest.issuer.token(staff()) });
    expect(staffAnswer.status).to.equal(403);
    expect(staffAnswer.body).to.include({ type: 'urn:jht-switch:problem:membership-blocked' });
    const someoneElse = await rest.api.inquire({ kpj: demo.blocked.kpj }, { token: await rest.issuer.token(self()) });
    expect(someoneElse.status, 'another participant\'s token learns nothing of the block').to.equal(404);
  });

  it('422 validation-error: a malformed KPJ, an unknown property, staff without a reason, a NIK outside the kiosk channel', async () => {
    const token = await rest.issuer.token(self());
    const staffToken = await rest.issuer.token(staff());
    const bad = [
      await rest.api.inquire({ kpj: '1200000000x' }, { token }),
      await rest.api.inquire({ kpj: demo.approved.kpj, channel: 'counter' }, { token }),
      await rest.api.inquire({ kpj: demo.approved.kpj }, { token: staffToken }),
      await rest.api.inquire({ kpj: demo.approved.kpj, nik: demo.approved.nik }, { token }),
    ];
    for (const answer of bad) {
      expect(answer.status).to.equal(422);
      expect(answer.body).to.include({ type: 'urn:jht-switch:problem:validation-error' });
    }
    expect(JSON.stringify(bad[0]!.body), 'the error names the field, never its value').not.to.include('1200000000x');
  });

  it('other errors are problem documents too: an unknown route, a body that is not JSON', async () => {
    const route = await fetch(`${rest.api.url}/v1/nothing`);
    expect(route.status).to.equal(404);
    expect(await route.json()).to.include({ type: 'urn:jht-switch:problem:no-such-route' });
    const token = await rest.issuer.token(self());
    const text = await fetch(`${rest.api.url}/v1/balance-inquiries`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/xml' }, body: '<kpj/>' });
    expect(text.status).to.equal(415);
    expect(await text.json()).to.include({ type: 'urn:jht-switch:problem:unsupported-media-type' });
  });
});
