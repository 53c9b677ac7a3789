import { expect } from 'chai';
import { balanceInquiry, networkRequest } from '../../../src/client/atm-messages.js';
import { IsoClient } from '../../../src/client/iso-client.js';
import type { IsoMessage } from '../../../src/iso8583/index.js';
import { MacKey, signMessage, verifyMessage } from '../../../src/security/index.js';
import {
  PUBLISHED_TEST_MAC_KCV as KCV, PUBLISHED_TEST_MAC_KEY as KEY, demo, getTestDatabase, keyDirectory, startTestSwitch, writeKeyFile, type TestSwitch,
} from '../../support/index.js';

const key = new MacKey(KEY, KCV);
const keys = keyDirectory();
const KEY_FILE = writeKeyFile(keys, 'mac-bank-mac', KEY);

describe('switch: a partner that uses ANSI X9.19 MACs', function () {
  this.timeout(60_000);
  let sw: TestSwitch;
  let client: IsoClient;

  const inquiry = (): IsoMessage =>
    balanceInquiry({ stan: client.nextStan(), acquirerId: '99841', terminalId: 'ATMMAC01', pan: demo.approvedCard });
  const signed = (message: IsoMessage): Promise<IsoMessage> => client.requestRaw(signMessage(message, client.packager, key), message);
  const macOk = (answer: IsoMessage): boolean =>
    verifyMessage(client.packager.pack(answer), answer, client.packager, key) === 'ok';

  before(async () => {
    sw = await startTestSwitch({
      partners: [
        { id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] },
        { id: 'bank-mac', name: 'MAC Bank', acquirerIds: ['99841'], listener: { host: '127.0.0.1', port: 0 }, mac: { algorithm: 'x9.19', keyFile: KEY_FILE, kcv: KCV } },
      ],
    });
    client = await IsoClient.connect({ port: sw.running.network.listenerOf('bank-mac')!.port, timeoutMs: 5_000 });
  });
  after(async () => {
    await client.close();
    await sw.stop();
  });

  it('an unsigned sign-on gets 63 and does not sign on', async () => {
    const answer = await client.request(networkRequest(client.nextStan(), '001'));
    expect([answer.get(39), macOk(answer)]).to.deep.equal(['63', true]);
    expect(sw.running.status().partners.find((p) => p.id === 'bank-mac')!.sessions[0]!.signedOn).to.equal(false);
  });

  it('a signed sign-on and a signed inquiry are approved, and the answers carry a good MAC', async () => {
    const signOn = await signed(networkRequest(client.nextStan(), '001'));
    expect([signOn.get(39), macOk(signOn)]).to.deep.equal(['00', true]);
    const answer = await signed(inquiry());
    expect([answer.get(39), answer.has(64), macOk(answer)]).to.deep.equal(['00', true, true]);
  });

  it('a wrong MAC and a missing MAC get 63, journaled', async () => {
    const tampered = inquiry();
    const bytes = signMessage(tampered, client.packager, key);
    bytes[bytes.length - 1] = bytes[bytes.length - 1] === 0x30 ? 0x31 : 0x30;
    const wrong = await client.requestRaw(bytes, tampered);
    const missing = await client.request(inquiry());
    expect([wrong.get(39), missing.get(39)]).to.deep.equal(['63', '63']);
    expect(macOk(wrong)).to.equal(true);
    await sw.running.journal.flush();
    const db = await getTestDatabase();
    const { rows } = await db.pool.query<{ n: string }>("SELECT count(*) AS n FROM journal WHERE terminal_id = 'ATMMAC01' AND response_code = '63'");
    expect(Number(rows[0]!.n)).to.be.at.least(2);
  });

  it('a 0201 repeat of a signed 0200 (its own MAC differs) is a retransmission, not a duplicate', async () => {
    const original = inquiry();
    const first = await signed(original.clone());
    const repeat = original.clone();
    repeat.mti = '0201';
    const again = await signed(repeat);
    expect([first.get(39), again.get(39), again.get(54)]).to.deep.equal(['00', '00', first.get(54)]);
  });

  it('a frame that does not decode is answered 30 unsigned: its MAC could not be checked', async () => {
    const broken = inquiry();
    const bytes = signMessage(broken, client.packager, key);
    const answer = await client.requestRaw(bytes.subarray(0, bytes.length - 4), broken);
    expect([answer.get(39), answer.get(11), answer.has(64), answer.has(128)]).to.deep.equal(['30', broken.get(11), false, false]);
  });

  it('an unsupported MTI is answered 12 only with a good MAC (signed), and 63 otherwise', async () => {
    const other = (): IsoMessage => {
      const message = inquiry();
      message.mti = '0300';
      return message;
    };
    const good = await signed(other());
    expect([good.mti, good.get(39), macOk(good)]).to.deep.equal(['0310', '12', true]);
    const unsigned = await client.request(other());
    expect([unsigned.get(39), macOk(unsigned)]).to.deep.equal(['63', true]);
  });

  it('never logs the key', () => {
    expect(sw.logs.text).to.not.include(KEY);
    expect(sw.logs.text).to.not.include(KEY.slice(0, 16));
  });
});

describe('switch: a MAC key change keeps the partner connected, with a window for both keys', function () {
  this.timeout(60_000);
  const NEW_KEY = '404142434445464748494A4B4C4D4E4F';
  const NEW_KCV = '8BAF47';
  const newKey = new MacKey(NEW_KEY, NEW_KCV);
  const newFile = writeKeyFile(keys, 'mac-bank-mac-new', NEW_KEY);
  type MacFiles = { keyFile: string; kcv: string; previousKeyFile?: string; previousKcv?: string };
  const partner = (mac: MacFiles) => ({ id: 'bank-mac', name: 'MAC Bank', acquirerIds: ['99842'], listener: { host: '127.0.0.1', port: 0 }, mac: { algorithm: 'x9.19' as const, ...mac } });
  let mac: MacFiles = { keyFile: KEY_FILE, kcv: KCV };
  let sw: TestSwitch;
  let client: IsoClient;

  const inquiry = (): IsoMessage => balanceInquiry({ stan: client.nextStan(), acquirerId: '99842', terminalId: 'ATMMAC02', pan: demo.approvedCard });
  const signedWith = (k: MacKey, message: IsoMessage): Promise<IsoMessage> => client.requestRaw(signMessage(message, client.packager, k), message);
  const signedBy = (k: MacKey, answer: IsoMessage): boolean => verifyMessage(client.packager.pack(answer), answer, client.packager, k) === 'ok';

  before(async () => {
    const config = () => ({ partners: [{ id: 'demo', name: 'Demo Bank', acquirerIds: ['99901'] }, partner(mac)] });
    sw = await startTestSwitch(config(), { reloadConfig: config });
    client = await IsoClient.connect({ port: sw.running.network.listenerOf('bank-mac')!.port, timeoutMs: 5_000 });
    expect((await signedWith(key, networkRequest(client.nextStan(), '001'))).get(39)).to.equal('00');
  });
  after(async () => {
    await client.close();
    await sw.stop();
  });

  it('during the window both keys verify, each answer is signed with the key of its request, and the session stays', async () => {
    const session = sw.running.status().partners.find((p) => p.id === 'bank-mac')!.sessions[0]!;
    mac = { keyFile: newFile, kcv: NEW_KCV, previousKeyFile: KEY_FILE, previousKcv: KCV };
    const result = await sw.running.reload();
    expect(result.kept).to.include('bank-mac');
    const underOld = await signedWith(key, inquiry());
    expect([underOld.get(39), signedBy(key, underOld), signedBy(newKey, underOld)]).to.deep.equal(['00', true, false]);
    const underNew = await signedWith(newKey, inquiry());
    expect([underNew.get(39), signedBy(newKey, underNew)]).to.deep.equal(['00', true]);
    const now = sw.running.status().partners.find((p) => p.id === 'bank-mac')!.sessions;
    expect(now.map((s) => [s.id, s.signedOn])).to.deep.equal([[session.id, true]]);
    expect(sw.logs.text).to.include('MAC keys replaced on the live sessions').and.include(NEW_KCV);
  });

  it('once the window ends, the old key gets 63 (answered under the new key) on the same connection', async () => {
    mac = { keyFile: newFile, kcv: NEW_KCV };
    await sw.running.reload();
    const refused = await signedWith(key, inquiry());
    expect([refused.get(39), signedBy(newKey, refused)]).to.deep.equal(['63', true]);
    expect((await signedWith(newKey, inquiry())).get(39)).to.equal('00');
    for (const secret of [KEY, NEW_KEY]) expect(sw.logs.text).to.not.include(secret.slice(0, 16));
  });

  it('a reload whose key file does not match its KCV is refused, and the running keys stay', async () => {
    mac = { keyFile: KEY_FILE, kcv: NEW_KCV };
    const refused = await sw.running.reload().then(() => undefined, (e: unknown) => e);
    expect(String(refused)).to.include('partner "bank-mac"').and.include('MAC_KCV_MISMATCH').and.not.include(KEY.slice(0, 16));
    expect((await signedWith(newKey, inquiry())).get(39)).to.equal('00');
  });
});
