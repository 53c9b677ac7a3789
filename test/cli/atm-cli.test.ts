import { expect } from 'chai';
import { runCli } from '../support/run-cli.js';
import { startTestSwitch, type TestSwitch } from '../support/switch-harness.js';

describe('cli: atm takes card and account numbers from standard input and prints them masked', function () {
  this.timeout(60_000);
  let sw: TestSwitch;
  before(async () => {
    sw = await startTestSwitch();
  });
  after(async () => sw.stop());

  it('--pan - reads the card number from standard input (so it never shows in ps)', async () => {
    const result = await runCli(['atm', '--port', String(sw.port), '--pan', '-', '--terminal', 'ATMSTDIN'], '6040990000000001\n');
    expect(result.stderr).to.equal('');
    expect(result.status).to.equal(0);
    expect(result.stdout).to.include('card 604099******0001');
    expect(result.stdout).to.include('Approved (00)');
  });

  it('--account - reads the account number from standard input, and prints it masked', async () => {
    const result = await runCli(['atm', '--port', String(sw.port), '--account', '-', '--terminal', 'ATMSTDIN'], '1234567890\n');
    expect(result.status).to.equal(0);
    expect(result.stdout).to.include('account ******7890');
    expect(result.stdout).to.not.include('1234567890');
  });

  it('an account given as an argument is printed masked too', async () => {
    const result = await runCli(['atm', '--port', String(sw.port), '--account', '1234567890', '--terminal', 'ATMSTDIN']);
    expect(result.stdout).to.include('account ******7890');
    expect(result.stdout).to.not.include('1234567890');
  });

  it('standard input that is not digits is one line of error and exit status 2, without repeating it', async () => {
    const result = await runCli(['atm', '--port', String(sw.port), '--pan', '-'], '6040-9900-0000-0001\n');
    expect(result.status).to.equal(2);
    expect(result.stderr.trim().split('\n')).to.have.length(1);
    expect(result.stderr).to.include('--pan -');
    expect(result.stderr).to.not.include('6040');
  });
});
