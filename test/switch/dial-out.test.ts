import { expect } from 'chai';
import { balanceInquiry } from '../../src/client/atm-messages.js';
import { IsoMessage, Packager, loadProfile } from '../../src/iso8583/index.js';
import { createFraming, startListener, type Connection, type Listener } from '../../src/transport/index.js';
import { startTestSwitch, type TestSwitch } from '../support/switch-harness.js';

const packager = new Packager(loadProfile('iso87-binary'));

/** A bank host that expects the switch to dial in: it answers sign-ons and echo tests, and can send inquiries. */
class BankHost {
  signOns = 0;
  echoes = 0;
  connection: Connection | undefined;
  private readonly answers = new Map<string, (m: IsoMessage) => void>();
  private listener: Listener | undefined;

  constructor(public port = 0) {}

  async start(): Promise<void> {
    this.listener = await startListener({
      port: this.port,
      framing: createFraming({ name: 'binary-2-tpdu', tpdu: { destination: 0x0010, source: 0x0020 } }),
      onConnection: (connection) => {
        this.connection = connection;
        return {
          onMessage: (body) => {
            const message = packager.unpack(body);
            if (message.mti === '0800') {
              if (message.get(70) === '001') this.signOns++;
              if (message.get(70) === '301') this.echoes++;
              return packager.pack(new IsoMessage('0810', { 7: message.get(7)!, 11: message.get(11)!, 39: '00', 70: message.get(70)! }));
            }
            this.answers.get(message.get(11)!)?.(message);
            return null;
          },
        };
      },
    });
    this.port = this.listener.port;
  }

  async stop(): Promise<void> {
    await this.listener?.closeAll({ graceMs: 100 });
    this.connection = undefined;
  }

  ask(inquiry: IsoMessage): Promise<IsoMessage> {
    return new Promise((resolve) => {
      this.answers.set(inquiry.get(11)!, resolve);
      this.connection!.send(packager.pack(inquiry));
    });
  }
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('switch: dial-out to a bank that expects the switch to connect', function () {
  this.timeout(60_000);
  let bank: BankHost;
  let sw: TestSwitch;

  before(async () => {
    bank = new BankHost();
    await bank.start();
    sw = await startTestSwitch({
      partners: [
        { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] },
        { id: 'bank-dial', name: 'Dial Bank', acquirerIds: ['99821'], profile: 'iso87-binary',
          framing: { type: 'binary-2-tpdu', headerCountsItself: false },
          dialOut: { host: '127.0.0.1', port: bank.port, echoIntervalMs: 200, reconnectBaseMs: 50, reconnectMaxMs: 400 } },
      ],
    });
  });
  after(async () => {
    await sw.stop();
    await bank.stop();
  });

  it('connects, signs on, and answers the bank\'s inquiries on that connection', async () => {
    await until(() => bank.signOns === 1);
    await until(() => sw.running.network.status().find((p) => p.id === 'bank-dial')!.sessions[0]?.signedOn === true);
    const answer = await bank.ask(balanceInquiry({ stan: '000777', acquirerId: '99821', terminalId: 'DIALATM1', pan: '6040990000000001' }));
    expect([answer.mti, answer.get(39), answer.get(48)!.slice(0, 11)]).to.deep.equal(['0210', '00', '12000000001']);
  });

  it('sends echo tests while the line is idle', async () => {
    const before = bank.echoes;
    await until(() => bank.echoes >= before + 2, 5_000);
  });

  it('comes back and signs on again each time the bank restarts (twice)', async () => {
    for (let restart = 1; restart <= 2; restart++) {
      const signOns = bank.signOns;
      await bank.stop();
      await new Promise((r) => setTimeout(r, 150));
      await bank.start();
      await until(() => bank.signOns === signOns + 1);
    }
    const answer = await bank.ask(balanceInquiry({ stan: '000778', acquirerId: '99821', terminalId: 'DIALATM1', pan: '6040990000000019' }));
    expect(answer.get(39)).to.equal('00');
  });
});
