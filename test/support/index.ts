/**
 * The test toolkit: every test imports its helpers from here.
 * - waiting: waitFor (names what it waited for when time is up), sleep;
 * - errors: expectThrows (class and code, sync or async);
 * - peers: TestPeer, a framed connection's far side, and the contract's binary2 framing;
 * - demo identities: demo.approvedCard, demo.account, ... from the demo data files;
 * - key files: writeKeyFile, keyDirectory, withCredentials (a systemd credentials directory), the test MAC key;
 * - the shared database, a real switch on it, the real executable, message arbitraries.
 */
export { sleep, waitFor, type WaitOptions } from './wait.js';
export { expectThrows, type ErrorClass } from './expect-throws.js';
export { binary2, TestPeer, type ReceivedFrame } from './peer.js';
export { proxyHeaderFor } from './proxy-header.js';
export { DEMO_CARD_ANSWERS, DEMO_CARDS, demo, expectedAdditionalAmounts, expectedParticipantData } from './demo.js';
export { TEST_KEY_FILE, TEST_KEYS, connectAsRole, createTestPool, freePort, getTestDatabase, roleDatabaseUrl, scratchDatabase, testClusterIsDurable } from './database.js';
export { PUBLISHED_TEST_MAC_KCV, PUBLISHED_TEST_MAC_KEY, keyDirectory, withCredentials, writeKeyFile } from './keys.js';
export { startServe, type ServeProcess } from './serve-process.js';
export { FaultProxy } from './fault-proxy.js';
export { haproxyConfig, startHaproxy, type HaproxyBackend, type RunningHaproxy } from './haproxy.js';
export { findBinary, requireBinary } from './system-packages.js';
export { LogCapture, startTestSwitch, uniqueStan, type TestSwitch } from './switch-harness.js';
export { runCli, runNode, type CliResult } from './run-cli.js';
export { clearIdentifiers, luhnRuns, luhnValid } from './sensitive-scan.js';
export { readLedger } from './ledger-read.js';
export { messageOf, PLAIN_TEXT, valueFor, type TextAlphabets } from './message-arbitraries.js';
export { TEST_AUDIENCE, TEST_CLIENTS, startTestIssuer, startTestRest, useTestRest, type TestIssuer, type TestRest, type TokenClaims } from './rest.js';
