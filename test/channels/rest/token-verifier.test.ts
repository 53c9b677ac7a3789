import { expect } from 'chai';
import { plaintextListenerProblem, restConfigSchema } from '../../../src/channels/rest/config.js';
import { TokenVerifier } from '../../../src/channels/rest/token-verifier.js';
import { TEST_AUDIENCE, demo, startTestIssuer, type TestIssuer } from '../../support/index.js';

describe('channels/rest: token verification and its cache', function () {
  this.timeout(30_000);
  let issuer: TestIssuer;
  before(async () => {
    issuer = await startTestIssuer();
  });
  after(async () => issuer?.close());

  const config = () => ({ issuer: issuer.issuer, jwksUrl: issuer.jwksUrl, audience: TEST_AUDIENCE, maxLifetimeSeconds: 3_600, clockToleranceSeconds: 30 });
  const claims = { client_id: 'app-1', sub: demo.approved.kpj, scope: 'jht:balance:self other:scope' };

  it('verifies once, then answers from the cache until the token expires, without asking the issuer again', async () => {
    let now = Date.now();
    const verifier = new TokenVerifier(config(), 10, { now: () => now });
    const token = await issuer.token(claims, { lifetimeSeconds: 120 });
    const first = await verifier.verify(token);
    expect(first.ok && [...first.token.scopes]).to.deep.equal(['jht:balance:self', 'other:scope']);
    const fetches = issuer.fetches;
    expect((await verifier.verify(token)).ok).to.equal(true);
    expect(issuer.fetches).to.equal(fetches);
    now += 121_000;
    expect(await verifier.verify(token)).to.deep.equal({ ok: false, reason: 'token expired' });
  });

  it('is bounded: past its size the oldest verified token is dropped (and verified again when it comes back)', async () => {
    const verifier = new TokenVerifier(config(), 2);
    const tokens = await Promise.all([1, 2, 3].map(() => issuer.token(claims)));
    for (const t of tokens) expect((await verifier.verify(t)).ok).to.equal(true);
    const cache = (verifier as unknown as { cache: Map<string, unknown> }).cache;
    expect([...cache.keys()]).to.deep.equal(tokens.slice(1));
  });

  it('allows clock skew within the tolerance, and not past it', async () => {
    const verifier = new TokenVerifier(config(), 0);
    expect((await verifier.verify(await issuer.token(claims, { shiftSeconds: 20 }))).ok, 'iat 20 s ahead').to.equal(true);
    expect(await verifier.verify(await issuer.token(claims, { shiftSeconds: 120 }))).to.deep.equal({ ok: false, reason: 'token issued in the future' });
    expect((await verifier.verify(await issuer.token(claims, { shiftSeconds: -620, lifetimeSeconds: 600 }))).ok, 'expired 20 s ago').to.equal(true);
  });
});

describe('channels/rest: listener configuration', () => {
  it('refuses a listener off loopback without TLS', () => {
    expect(plaintextListenerProblem('0.0.0.0', undefined)).to.match(/not loopback: configure channels.rest.tls/);
    expect(plaintextListenerProblem('10.1.2.3', { keyFile: 'k', certFile: 'c', caFile: 'a', minVersion: 'TLSv1.2' })).to.equal(undefined);
    expect(plaintextListenerProblem('127.0.0.1', undefined)).to.equal(undefined);
    expect(plaintextListenerProblem('::1', undefined)).to.equal(undefined);
  });

  it('takes a JWKS URL over https, or http on loopback only', () => {
    const with_ = (jwksUrl: string) => restConfigSchema.safeParse({ issuer: { issuer: 'https://idp.example/', jwksUrl } }).success;
    expect(with_('https://idp.example/jwks.json')).to.equal(true);
    expect(with_('http://127.0.0.1:9000/jwks.json')).to.equal(true);
    expect(with_('http://idp.example/jwks.json')).to.equal(false);
  });
});
