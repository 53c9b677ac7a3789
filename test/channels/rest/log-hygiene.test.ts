import { expect } from 'chai';
import { DEMO_PARTICIPANTS } from '../../../src/ledger/index.js';
import { demo, getTestDatabase, startTestIssuer, startTestRest } from '../../support/index.js';

describe('channels/rest: no KPJ, NIK or token in the logs', function () {
  this.timeout(60_000);

  it('drives answers, refusals, validation errors and bad tokens, then scans every log line and the stored answers', async () => {
    const issuer = await startTestIssuer();
    const api = await startTestRest(issuer, { channels: { rest: { limits: { participantRequestsPerMinute: 10_000, participantBurst: 1_000 } } } } as never);
    const tokens: string[] = [];
    const token = async (claims: Parameters<typeof issuer.token>[0], options?: Parameters<typeof issuer.token>[1]) => {
      const t = await issuer.token(claims, options);
      tokens.push(t);
      return t;
    };
    try {
      const self = await token({ client_id: 'app-1', sub: demo.approved.kpj, scope: 'jht:balance:self' });
      const staff = await token({ client_id: 'counter-1', sub: 'staff-1', scope: 'jht:balance:any' });
      const kiosk = await token({ client_id: 'kiosk-1', sub: 'kiosk-1', scope: 'jht:balance:kiosk' });
      const reason = { code: 'AUDIT', ticketId: 'T-77' };
      const statuses = [
        (await api.inquire({ kpj: demo.approved.kpj }, { token: self, headers: { 'idempotency-key': 'hygiene-1' } })).status,
        (await api.inquire({ kpj: demo.second.kpj }, { token: self })).status,
        (await api.inquire({ kpj: demo.blocked.kpj, reason }, { token: staff })).status,
        (await api.inquire({ kpj: demo.second.kpj, nik: demo.second.nik }, { token: self })).status,
        (await api.inquire({ kpj: demo.second.kpj, nik: demo.second.nik }, { token: kiosk })).status,
        (await api.inquire({ kpj: demo.second.kpj, reason }, { token: await token({ client_id: 'counter-1', sub: 'x', scope: 'jht:balance:any' }, { foreignKey: true }) })).status,
        (await api.inquire({ kpj: demo.second.kpj }, { token: `${self}tampered` })).status,
        (await api.inquire({ kpj: `${demo.second.kpj}9` }, { token: self })).status,
      ];
      expect(statuses).to.deep.equal([200, 404, 403, 422, 403, 401, 401, 422]);
      const text = api.logs.text;
      expect(text, 'the inquiries were logged').to.include('"msg":"inquiry"');
      for (const p of DEMO_PARTICIPANTS) {
        expect(text, `KPJ ${p.kpj}`).not.to.include(p.kpj);
        if (p.nik) expect(text, `NIK of ${p.kpj}`).not.to.include(p.nik);
      }
      for (const t of tokens) {
        for (const part of t.split('.')) if (part.length > 8) expect(text, 'a token or part of one').not.to.include(part);
      }
      const { rows } = await (await getTestDatabase()).pool.query<{ text: string }>(
        "SELECT coalesce(string_agg(a.body::text, ' '), '') || coalesce((SELECT string_agg(j::text, ' ') FROM journal j WHERE channel <> 'atm'), '') AS text FROM inquiry_answer a");
      for (const p of DEMO_PARTICIPANTS) if (p.nik) expect(rows[0]!.text, 'no NIK in the database').not.to.include(p.nik);
    } finally {
      await api.stop();
      await issuer.close();
    }
  });
});
