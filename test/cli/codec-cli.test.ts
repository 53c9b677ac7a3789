import { expect } from 'chai';
import { INQUIRY_0200, SIGN_ON_0800 } from '../fixtures/contract-messages.js';
import { runCli } from '../support/index.js';

const hexOf = (ascii: string): string => Buffer.from(ascii, 'latin1').toString('hex');
const framedHexOf = (ascii: string): string => {
  const header = Buffer.alloc(2);
  header.writeUInt16BE(ascii.length);
  return header.toString('hex') + hexOf(ascii);
};

describe('cli: decode and encode', function () {
  this.timeout(30_000);

  it('decode prints a table with the PAN masked, from an argument, with or without the length header', async () => {
    for (const hex of [hexOf(INQUIRY_0200.ascii), framedHexOf(INQUIRY_0200.ascii)]) {
      const { status, stdout } = await runCli(['decode', hex]);
      expect(status).to.equal(0);
      expect(stdout).to.match(/^MTI {2}0200$/m);
      expect(stdout).to.match(/^ {2}2 {2}Primary account number \(PAN\) +604099\*{6}0001$/m);
      expect(stdout).to.match(/^ 41 {2}Card acceptor terminal identification +ATM00001$/m);
      expect(stdout).to.not.include('6040990000000001');
    }
  });

  it('decode --json from stdin, masked by default and clear with --reveal', async () => {
    const masked = await runCli(['decode', '--json'], hexOf(INQUIRY_0200.ascii));
    expect(JSON.parse(masked.stdout)).to.deep.include({ mti: '0200' });
    expect(JSON.parse(masked.stdout).fields['2']).to.equal('604099******0001');
    const clear = await runCli(['decode', '--json', '--reveal'], hexOf(INQUIRY_0200.ascii));
    expect(JSON.parse(clear.stdout).fields['2']).to.equal('6040990000000001');
  });

  it('encode reads the JSON decode prints, and --frame adds the length header', async () => {
    const json = JSON.stringify({ mti: SIGN_ON_0800.mti, fields: { 7: '1124093015', 11: '000001', 70: '001' } });
    const plain = await runCli(['encode'], json);
    expect(plain.stdout.trim()).to.equal(hexOf(SIGN_ON_0800.ascii).toUpperCase());
    const framed = await runCli(['encode', '--frame', json]);
    expect(framed.stdout.trim()).to.equal(framedHexOf(SIGN_ON_0800.ascii).toUpperCase());
  });

  it('round-trips through the binary profile', async () => {
    const clear = await runCli(['decode', '--json', '--reveal', hexOf(INQUIRY_0200.ascii)]);
    const binary = await runCli(['encode', '--profile', 'iso87-binary'], clear.stdout);
    const back = await runCli(['decode', '--json', '--reveal', '--profile', 'iso87-binary', binary.stdout.trim()]);
    expect(JSON.parse(back.stdout)).to.deep.equal(JSON.parse(clear.stdout));
  });

  it('bad input: one line naming the field and the offset, exit status 2', async () => {
    const cut = await runCli(['decode', hexOf(INQUIRY_0200.ascii.slice(0, 30))]);
    expect(cut.status).to.equal(2);
    expect(cut.stderr.trim().split('\n')).to.deep.equal(['error: field 2 at offset 22: needs 16 bytes, 8 left (ISO_TRUNCATED)']);
    const tooLong = await runCli(['encode'], JSON.stringify({ mti: '0200', fields: { 3: '3100000' } }));
    expect(tooLong.status).to.equal(2);
    expect(tooLong.stderr).to.match(/^error: field 3 at offset 20: 7 exceeds the fixed length 6 \(ISO_VALUE_TOO_LONG\)\n$/);
    for (const [args, input] of [[['decode', 'zz'], ''], [['encode'], '{"mti": 200}'], [['encode'], 'not json'], [['decode', '--profile', 'nope', '00']]] as const) {
      const result = await runCli(args, input);
      expect(result.status, args.join(' ')).to.equal(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
    }
  });
});
