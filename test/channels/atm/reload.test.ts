import { expect } from 'chai';
import { balanceInquiry } from '../../../src/client/atm-messages.js';
import { IsoClient } from '../../../src/client/iso-client.js';
import { ConfigError } from '../../../src/config/load-config.js';
import { switchConfigSchema, type SwitchConfig, type SwitchConfigInput } from '../../../src/config/schema.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startSwitch, type RunningSwitch } from '../../../src/channels/atm/jht-switch.js';
import { networkRequest } from '../../../src/iso8583/vocabulary/index.js';
import { demo, getTestDatabase, LogCapture } from '../../support/index.js';

function configOf(partners: SwitchConfigInput['partners']): SwitchConfig {
  return switchConfigSchema.parse({ listen: { host: '127.0.0.1', port: 0 }, partners });
}

const DEMO = { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] };
const BANK_A = { id: 'bank-a', name: 'Bank A', acquirerIds: ['99831'], listener: { host: '127.0.0.1', port: 0 } };

async function approved(client: IsoClient, acquirerId: string): Promise<boolean> {
  const answer = await client.request(balanceInquiry({ stan: client.nextStan(), acquirerId, terminalId: 'ATMRELOD', pan: demo.approvedCard }));
  return answer.get(39) === '00';
}

async function signedOn(port: number): Promise<IsoClient> {
  const client = await IsoClient.connect({ port, timeoutMs: 3_000 });
  await client.request(networkRequest(client.nextStan(), '001'));
  return client;
}

describe('switch: reload', function () {
  this.timeout(60_000);
  let running: RunningSwitch;
  let next: () => SwitchConfig;

  before(async () => {
    next = () => configOf([DEMO, BANK_A]);
    running = await startSwitch(next(), createLogger({ level: 'info', destination: new LogCapture() }), {
      database: await getTestDatabase(),
      reloadConfig: () => next(),
    });
  });
  after(async () => running.stop());

  it('keeps the connections of unchanged partners, restarts changed ones, starts added ones', async () => {
    const demo = await signedOn(running.listener.port);
    const bankA = await signedOn(running.network.listenerOf('bank-a')!.port);
    expect(await approved(demo, '99901')).to.equal(true);
    expect(await approved(bankA, '99831')).to.equal(true);

    next = () => configOf([DEMO, { ...BANK_A, name: 'Bank A (renamed)' }, { id: 'bank-c', name: 'Bank C', acquirerIds: ['99833'], listener: { host: '127.0.0.1', port: 0 } }]);
    const result = await running.reload();
    expect(result).to.deep.equal({ kept: ['demo'], added: ['bank-c'], changed: ['bank-a'], removed: [] });

    expect(await approved(demo, '99901'), 'demo kept its connection').to.equal(true);
    expect(await approved(bankA, '99831').catch(() => false), 'bank-a\'s old connection is closed').to.equal(false);
    const bankC = await signedOn(running.network.listenerOf('bank-c')!.port);
    expect(await approved(bankC, '99833')).to.equal(true);
    const status = running.status();
    expect(status.partners.map((p) => p.id).sort()).to.deep.equal(['bank-a', 'bank-c', 'demo']);
    expect(status.partners.find((p) => p.id === 'demo')!.sessions[0]!.signedOn).to.equal(true);
    await Promise.all([demo.close(), bankC.close(), bankA.close().catch(() => undefined)]);
  });

  it('refuses a bad configuration and leaves the running one untouched', async () => {
    const before = running.status().partners.map((p) => p.id);
    next = () => {
      throw new ConfigError('partners.yaml', 'partner "bank-x" (partners[1]): acquirerIds', 'Too small: expected array to have >=1 items');
    };
    let error: unknown;
    await running.reload().catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(ConfigError);
    expect(running.status().partners.map((p) => p.id)).to.deep.equal(before);
    const demo = await signedOn(running.listener.port);
    expect(await approved(demo, '99901')).to.equal(true);
    await demo.close();
  });

  it('removes a partner: its listener stops', async () => {
    const port = running.network.listenerOf('bank-c')!.port;
    next = () => configOf([DEMO, { ...BANK_A, name: 'Bank A (renamed)' }]);
    expect((await running.reload()).removed).to.deep.equal(['bank-c']);
    expect(running.network.listenerOf('bank-c')).to.equal(undefined);
    const gone = await IsoClient.connect({ port }).then(() => false, () => true);
    expect(gone).to.equal(true);
  });
});
