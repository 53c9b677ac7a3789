import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { balanceInquiry } from '../../../src/client/atm-messages.js';
import { IsoMessage, Packager, loadProfile } from '../../../src/iso8583/index.js';
import { createFraming, startListener, type Connection, type Listener, type ServerTlsOptions } from '../../../src/transport/index.js';
import { createCertificateAuthority, issueCertificate } from '../../../src/transport/tls/dev-certificates.js';
import {
  demo, expectedParticipantData, sleep, startTestSwitch, uniqueStan, waitFor, type TestSwitch,
} from '../../support/index.js';

const packager = new Packager(loadProfile('iso87-binary'));

/** A bank host that expects the switch to dial in: it answers sign-ons and echo tests, and can send inquiries. */
class BankHost {
  signOns = 0;
  echoes = 0;
  connection: Connection | undefined;
  private readonly answers = new Map<string, (m: IsoMessage) => void>();
  private listener: Listener | undefined;

  constructor(public port = 0, private readonly tls?: ServerTlsOptions) {}

  async start(): Promise<void> {
    this.listener = await startListener({
      port: this.port,
      ...(this.tls ? { tls: this.tls } : {}),
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
    await waitFor(() => bank.signOns === 1, { what: 'the sign-on', timeoutMs: 10_000 });
    await waitFor(() => sw.running.network.status().find((p) => p.id === 'bank-dial')!.sessions[0]?.signedOn === true,
      { what: 'the session to be signed on', timeoutMs: 10_000 });
    const answer = await bank.ask(balanceInquiry({ stan: '000777', acquirerId: '99821', terminalId: 'DIALATM1', pan: demo.approvedCard }));
    expect([answer.mti, answer.get(39), answer.get(48)]).to.deep.equal(['0210', '00', expectedParticipantData(demo.approved)]);
  });

  it('sends echo tests while the line is idle, and none while traffic flows', async () => {
    // Start just after an echo: the line has been idle, the next echo is a full interval (200 ms) away.
    const idle = bank.echoes;
    await waitFor(() => bank.echoes > idle, { what: 'an echo test on the idle line', timeoutMs: 5_000 });
    const busy = bank.echoes;
    // Busy for five echo intervals: an inquiry every 40 ms.
    for (let i = 0; i < 25; i++) {
      await bank.ask(balanceInquiry({ stan: uniqueStan(), acquirerId: '99821', terminalId: 'DIALATM1', pan: demo.approvedCard }));
      await sleep(40);
    }
    // Sending on every tick would be 5 or more; one is allowed for a tick that a starved runner delays by 200 ms.
    expect(bank.echoes - busy, 'echo tests while inquiries flowed').to.be.at.most(1);
    await waitFor(() => bank.echoes >= busy + 2, { what: 'two echo tests once the line is idle again', timeoutMs: 5_000 });
  });

  it('comes back and signs on again each time the bank restarts (twice)', async () => {
    for (let restart = 1; restart <= 2; restart++) {
      const signOns = bank.signOns;
      await bank.stop();
      await sleep(150);
      await bank.start();
      await waitFor(() => bank.signOns === signOns + 1, { what: `the sign-on after restart ${restart}`, timeoutMs: 10_000 });
    }
    const answer = await bank.ask(balanceInquiry({ stan: '000778', acquirerId: '99821', terminalId: 'DIALATM1', pan: demo.secondCard }));
    expect(answer.get(39)).to.equal('00');
  });
});

describe('switch: dial-out over mutual TLS', function () {
  this.timeout(60_000);
  let dir: string;
  const files: Record<string, string> = {};
  let ca: ReturnType<typeof createCertificateAuthority>;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-dial-tls-'));
    ca = createCertificateAuthority('test CA');
    // The switch dials, so its certificate is a client certificate.
    const switchCert = issueCertificate(ca, { commonName: 'jht-switch', usage: 'client' });
    for (const [name, pem] of Object.entries({ 'ca.pem': ca.certPem, 'switch.cert': switchCert.certPem, 'switch.key': switchCert.keyPem })) {
      files[name] = path.join(dir, name);
      await writeFile(files[name]!, pem, { mode: 0o600 });
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A bank host serving TLS with a certificate from `issuer`, asking for the switch's client certificate. */
  function tlsBank(issuer: ReturnType<typeof createCertificateAuthority>): BankHost {
    const server = issueCertificate(issuer, { commonName: 'bank-dial-tls', usage: 'server', altNames: ['127.0.0.1'] });
    return new BankHost(0, { key: server.keyPem, cert: server.certPem, ca: ca.certPem, expectedSubject: 'jht-switch' });
  }

  async function dialingSwitch(bank: BankHost): Promise<TestSwitch> {
    return startTestSwitch({
      partners: [
        { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] },
        { id: 'bank-dial-tls', name: 'Dial TLS Bank', acquirerIds: ['99822'], profile: 'iso87-binary',
          framing: { type: 'binary-2-tpdu', headerCountsItself: false },
          tls: { keyFile: files['switch.key']!, certFile: files['switch.cert']!, caFile: files['ca.pem']!, clientSubject: 'bank-dial-tls' },
          dialOut: { host: '127.0.0.1', port: bank.port, echoIntervalMs: 60_000, reconnectBaseMs: 50, reconnectMaxMs: 200 } },
      ],
    });
  }

  it('connects with its client certificate, checks the bank\'s, signs on and answers over TLS', async () => {
    const bank = tlsBank(ca);
    await bank.start();
    const sw = await dialingSwitch(bank);
    try {
      await waitFor(() => bank.signOns === 1, { what: 'the sign-on over TLS', timeoutMs: 10_000 });
      expect(bank.connection!.peer.tlsSubject).to.equal('jht-switch');
      const answer = await bank.ask(balanceInquiry({ stan: '000779', acquirerId: '99822', terminalId: 'DIALTLS1', pan: demo.approvedCard }));
      expect([answer.mti, answer.get(39), answer.get(48)]).to.deep.equal(['0210', '00', expectedParticipantData(demo.approved)]);
    } finally {
      await sw.stop();
      await bank.stop();
    }
  });

  it('does not sign on to a host whose certificate another CA signed', async () => {
    const impostor = tlsBank(createCertificateAuthority('another CA'));
    await impostor.start();
    const sw = await dialingSwitch(impostor);
    try {
      await sleep(1_500); // several reconnection attempts
      expect(impostor.signOns).to.equal(0);
      expect(sw.running.network.status().find((p) => p.id === 'bank-dial-tls')!.sessions).to.deep.equal([]);
    } finally {
      await sw.stop();
      await impostor.stop();
    }
  });
});

describe('switch: with two instances on one database, one dials each link', function () {
  this.timeout(60_000);
  let bank: BankHost;
  const partners = [
    { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] },
    { id: 'bank-one-link', name: 'One-link Bank', acquirerIds: ['99822'], profile: 'iso87-binary',
      framing: { type: 'binary-2-tpdu' as const, headerCountsItself: false },
      dialOut: { host: '127.0.0.1', port: 0, echoIntervalMs: 60_000, reconnectBaseMs: 50, reconnectMaxMs: 400 } },
  ];
  before(async () => {
    bank = new BankHost();
    await bank.start();
    partners[1]!.dialOut!.port = bank.port;
  });
  after(async () => {
    await bank.stop();
  });

  it('the second instance stands by, and takes the link when the first stops', async () => {
    const first = await startTestSwitch({ partners });
    let second: TestSwitch | undefined;
    try {
      await waitFor(() => bank.signOns === 1, { what: 'the first instance to dial', timeoutMs: 10_000 });
      second = await startTestSwitch({ partners });
      // Two polls of the standby (2 s each): it must not dial while the first holds the link.
      await sleep(4_500);
      expect(bank.signOns, 'sign-ons while the first instance leads').to.equal(1);
      expect(second.running.network.status().find((p) => p.id === 'bank-one-link')!.sessions).to.have.length(0);
      await first.stop();
      await waitFor(() => bank.signOns === 2, { what: 'the second instance to take the link', timeoutMs: 10_000 });
      const answer = await bank.ask(balanceInquiry({ stan: uniqueStan(), acquirerId: '99822', terminalId: 'DIALATM2', pan: demo.approvedCard }));
      expect(answer.get(39)).to.equal('00');
    } finally {
      await first.stop().catch(() => undefined);
      await second?.stop();
    }
  });
});
