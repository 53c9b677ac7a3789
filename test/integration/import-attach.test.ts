import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { balanceInquiry, networkRequest } from '../../src/client/atm-messages.js';
import { IsoClient } from '../../src/client/iso-client.js';
import { parseAdditionalAmounts } from '../../src/iso8583/vocabulary/index.js';
import { freePort, runCli, startServe, uniqueStan, type ServeProcess } from '../support/index.js';

/**
 * `jht-switch import` beside `npm start`: without DATABASE_URL, the command finds the embedded cluster the
 * serving switch runs (its postmaster.pid) and imports into it as jht_importer; the switch answers from the
 * imported data on the next inquiry.
 */
describe('import: attaches to the embedded cluster of a serving switch', function () {
  this.timeout(180_000);
  let dir: string;
  let serve: ServeProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-attach-'));
    await chmod(dir, 0o755); // as root, the embedded postgres runs as the postgres user
  });
  after(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('imports participants, links and postings live, and the next inquiry is answered from them', async () => {
    const port = await freePort();
    const config = path.join(dir, 'switch.json');
    // The switch and the import use the tests' own real data key (JHT_DATA_KEY_FILE, test/support/database.ts).
    await writeFile(config, JSON.stringify({
      listen: { host: '127.0.0.1', port },
      database: { dataDir: path.join(dir, 'pg'), embeddedPort: await freePort() },
      admin: { socketPath: path.join(dir, 'admin.sock') },
      metrics: { port: 0 },
      channels: { rest: { port: 0 } },
    }));
    serve = await startServe(['--config', config], { DATABASE_URL: undefined });
    const files = {
      participants: 'kpj,name,status,msisdn\n16000000001,ATTACHED PERSON,ACTIVE,081200000099\n',
      links: 'kind,number,kpj,status\nCARD,4000000000000010,16000000001,ACTIVE\n',
      postings: 'source_ref,kpj,kind,amount_sen,value_date\nA1,16000000001,OPENING,4200000,2026-11-30\n',
    };
    for (const [kind, csv] of Object.entries(files)) {
      const result = await runCli(['import', kind, '-', '--config', config], csv, { DATABASE_URL: undefined });
      expect(result.status, result.stderr).to.equal(0);
      expect(result.stdout).to.include('1 inserted');
    }
    const atm = await IsoClient.connect({ port, timeoutMs: 5_000 });
    try {
      expect((await atm.request(networkRequest(atm.nextStan(), '001'))).get(39)).to.equal('00');
      const answer = await atm.request(balanceInquiry({ stan: uniqueStan(), acquirerId: '99901', terminalId: 'ATMATTCH', pan: '4000000000000010' }));
      expect(answer.get(39)).to.equal('00');
      expect(parseAdditionalAmounts(answer.get(54)!)!.ledgerSen).to.equal(4200000n);
    } finally {
      await atm.close();
    }
  });
});
