import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { networkRequest } from '../../../src/client/atm-messages.js';
import { IsoClient } from '../../../src/client/iso-client.js';
import { freePort, roleDatabaseUrl } from '../../support/database.js';
import { startServe, type ServeProcess } from '../../support/serve-process.js';
import { uniqueStan } from '../../support/switch-harness.js';

describe('switch: SIGHUP reloads the configuration, as for nginx or HAProxy', function () {
  this.timeout(60_000);
  let dir: string;
  let serve: ServeProcess | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-sighup-'));
  });
  after(async () => {
    serve?.child.kill('SIGKILL');
    await serve?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  it('a partner added to the file is served after SIGHUP, and the process lives on', async () => {
    // As deployed: serve logs in as a member of jht_switch, never as the superuser the fixtures use.
    const databaseUrl = await roleDatabaseUrl('jht_switch');
    const configFile = path.join(dir, 'switch.json');
    const base = {
      listen: { host: '127.0.0.1', port: await freePort() },
      admin: { socketPath: path.join(dir, 'admin.sock') },
      metrics: { port: 0 },
      channels: { rest: { port: 0 } },
    };
    await writeFile(configFile, JSON.stringify(base));
    serve = await startServe(['--config', configFile], { DATABASE_URL: databaseUrl });

    const bankPort = await freePort();
    await writeFile(configFile, JSON.stringify({
      ...base,
      partners: [
        { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] },
        { id: 'bank-h', name: 'Bank H', acquirerIds: ['99971'], listener: { host: '127.0.0.1', port: bankPort } },
      ],
    }));
    serve.child.kill('SIGHUP');
    await serve.waitForLog('configuration reloaded');
    const bank = await IsoClient.connect({ port: bankPort, timeoutMs: 5_000 });
    try {
      expect((await bank.request(networkRequest(uniqueStan(), '001'))).get(39)).to.equal('00');
    } finally {
      await bank.close();
    }
    expect(serve.child.exitCode, 'still running').to.equal(null);
  });
});
