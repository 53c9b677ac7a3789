import { stopTestDatabase } from './database.js';

/** Mocha root hooks (registered in .mocharc.json): the shared test database lives as long as the run. */
export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopTestDatabase();
  },
};
