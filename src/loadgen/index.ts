/** Public surface of the load generator: the `load` command and the benchmarks import from here. */
export { runLoad, MAX_CONNECTIONS } from './load-generator.js';
export type { LoadMode, LoadOptions, LoadProgress } from './load-generator.js';
export { formatReport, hasErrors } from './report.js';
export type { LatencyMs, LoadReport } from './report.js';
export { startEchoServer } from './echo-server.js';
export type { EchoFaults, EchoServer, EchoServerOptions } from './echo-server.js';
export { DEFAULT_PANS, demoAnswerFor, describeIdentity } from './identities.js';
export type { ExpectedAnswer, Identity } from './identities.js';
export { LatencyHistogram } from './histogram.js';
export type { LatencySummary } from './histogram.js';
export { LoadgenError } from './errors.js';
export type { LoadgenErrorCode } from './errors.js';
export type { ErrorKind } from './stats.js';
export { openIdleConnections } from './idle-connections.js';
export type { IdleConnections, IdleConnectionsOptions } from './idle-connections.js';
