/** Public surface of the ledger area: the switch and the CLI import from here. */
export { openDatabase, DEFAULT_EMBEDDED_PORT } from './database.js';
export type { DatabaseHandle, OpenDatabaseOptions } from './database.js';
export { LedgerReader } from './ledger-reader.js';
export type { BreakerState, InstrumentRef, LedgerReaderOptions, ParticipantLookup } from './ledger-reader.js';
export { LOOKUP_COLUMNS, hashColumn, lookupJoins, lookupWidth, participantOf } from './lookup-query.js';
export type { LookupColumns, LookupWidth } from './lookup-query.js';
export { assertDataKeysHeld, dataKeyUsage, registerDataKey, relinkUnderCurrentKey, retireDataKey, type DataKeyUsage } from './data-keys.js';
export { accountNumber, instrumentHash, lastFour } from './instrument-hash.js';
export { DEMO_AS_OF, DEMO_DIR, DEMO_PARTICIPANTS, DEMO_UNLINKED_CARD, DEMO_UNLINKED_CARDS } from './demo-data.js';
export type { DemoParticipant, DemoPosting, MembershipStatus, PostingKind } from './demo-data.js';
export { seedDemoData } from './demo-seed.js';
export type { SeedResult } from './demo-seed.js';
export { DEFAULT_MIGRATIONS_DIR, loadMigrations, migrate } from './migrate.js';
export type { Migration, MigrationResult } from './migrate.js';
export { createPool, ledgerTypes, redactConnectionString } from './pool.js';
export type { PoolTuning } from './pool.js';
export { readDeployment, markReal } from './deployment.js';
export type { DeploymentKind } from './deployment.js';
export {
  DataKeyNotHeldError, DatabaseRoleError, DemoSeedRefusedError, EmbeddedServerError, LedgerUnavailableError, MigrationError, SchemaVersionError,
} from './errors.js';
export { DUTY_ROLES, IMPORTER_ROLE, OWNER_ROLE, SUPPORT_ROLE, SWITCH_ROLE } from './roles.js';
export type { DutyRole } from './roles.js';
export type { LedgerUnavailableReason } from './errors.js';
export { DataKeyRetireError } from './errors.js';
