import { stopTestDatabase } from './database.js';

// A run ended by SIGTERM (a CI or tool time limit) would skip the 'exit' event and orphan the test
// postgres. Exiting properly sends it SIGINT (src/ledger/embedded-process-hooks.ts).
process.once('SIGTERM', () => process.exit(143));

/** Mocha root hooks (registered in .mocharc.json): the shared test database lives as long as the run. */
export const mochaHooks = {
  // CI runs the suite on several Node versions through `npx -p node@N`: this line shows which one really ran.
  beforeAll(): void {
    process.stdout.write(`  Node.js ${process.versions.node} (${process.execPath})\n`);
  },
  async afterAll(): Promise<void> {
    await stopTestDatabase();
  },
};
