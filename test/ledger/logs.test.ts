import { expect } from 'chai';
import { openDatabase } from '../../src/ledger/database.js';
import { redactConnectionString } from '../../src/ledger/pool.js';
import { createLogger } from '../../src/observability/logger.js';
import { TEST_KEYS, getTestDatabase } from '../support/database.js';
import { LogCapture } from '../support/switch-harness.js';

describe('ledger: no database password in a log line', function () {
  this.timeout(30_000);

  it('redacts the password of the user-info part and of any password-like query parameter', () => {
    expect(redactConnectionString('postgresql://jht:s3cret@db:5432/jht')).to.equal('postgresql://jht@db:5432/jht');
    const query = redactConnectionString('postgresql://jht@db/jht?sslmode=require&password=s3cret&sslpassword=k3y');
    expect(query).to.not.match(/s3cret|k3y/);
    expect(query).to.include('sslmode=require');
    expect(redactConnectionString("host=db password='a s3cret' user=jht")).to.equal('host=db password=*** user=jht');
    expect(redactConnectionString('host=db password=s3cret')).to.not.include('s3cret');
  });

  it('"database ready" does not show a ?password= of DATABASE_URL', async function () {
    const shared = await getTestDatabase();
    const { host, port, user, password, database, connectionString } = shared.pool.options;
    if (connectionString || typeof password !== 'string') return this.skip(); // an external DATABASE_URL: nothing to build on
    const url = `postgresql://${user}@${host}:${port}/${database}?password=${encodeURIComponent(password)}`;
    const logs = new LogCapture();
    const handle = await openDatabase({ databaseUrl: url, dataDir: '', seedDemo: false, keys: TEST_KEYS, role: 'owner', log: createLogger({ destination: logs }) });
    try {
      const ready = logs.lines.find((line) => line.includes('database ready'));
      expect(ready).to.be.a('string');
      expect(ready).to.not.include(password);
      expect(handle.connectionString).to.not.include(password);
    } finally {
      await handle.stop();
    }
  });
});
