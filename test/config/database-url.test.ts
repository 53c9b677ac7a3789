import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/load-config.js';

describe('config: an external database off this machine only over verified TLS', () => {
  let dir: string;
  let ca: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'jht-config-db-'));
    ca = path.join(dir, 'db-ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\n');
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  function refusal(url: string, env: NodeJS.ProcessEnv = {}): string {
    try {
      loadConfig({ env: { ...env, DATABASE_URL: url } });
    } catch (error) {
      expect(error).to.be.instanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    return 'accepted';
  }

  it('refuses a database on another host without sslmode=verify-full, naming the key and never the password', () => {
    for (const url of [
      'postgresql://jht:s3cret@db.bank.example/jht',
      'postgresql://jht:s3cret@db.bank.example/jht?sslmode=require',
      'postgresql://jht:s3cret@db.bank.example/jht?sslmode=verify-ca&sslrootcert=' + encodeURIComponent('/dev/null'),
      'postgresql://jht:s3cret@10.0.0.5:5432/jht?sslmode=prefer',
      'postgresql://jht:s3cret@[2001:db8::1]/jht',
      'postgresql://jht:s3cret@127.0.0.1/jht?host=db.bank.example',
    ]) {
      const message = refusal(url);
      expect(message, url).to.match(/database\.url: .*sslmode=verify-full/);
      expect(message).not.to.include('s3cret');
    }
  });

  it('refuses sslmode=verify-full without a readable sslrootcert', () => {
    expect(refusal('postgresql://jht@db.bank.example/jht?sslmode=verify-full')).to.match(/needs sslrootcert/);
    expect(refusal(`postgresql://jht@db.bank.example/jht?sslmode=verify-full&sslrootcert=${path.join(dir, 'missing.pem')}`))
      .to.match(/cannot be read/);
  });

  it('refuses a host given by PGHOST when the URL names none', () => {
    expect(refusal('postgresql:///jht', { PGHOST: 'db.bank.example' })).to.match(/sslmode=verify-full/);
  });

  it('accepts verify-full with a CA, loopback, and Unix sockets', () => {
    for (const url of [
      `postgresql://jht@db.bank.example/jht?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`,
      'postgresql://jht@127.0.0.1:5432/jht',
      'postgresql://jht@localhost/jht',
      'postgresql://jht@[::1]/jht',
      'postgresql:///jht?host=/var/run/postgresql',
      'postgresql:///jht',
    ]) expect(refusal(url), url).to.equal('accepted');
  });

  it('refuses what is not a postgresql:// URL', () => {
    expect(refusal('host=db.bank.example dbname=jht')).to.match(/must be a postgresql:\/\/ URL/);
  });
});
