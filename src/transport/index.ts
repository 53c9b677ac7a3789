/**
 * Transport: framings, framed connections, the partner listener and the dial-out client. Moves opaque
 * message bodies; the ISO 8583 packager plugs in above it (src/channels/atm).
 */
export * from './framing/index.js';
export { FramingError, TransportConfigError } from './errors.js';
export type { FramingErrorCode, TransportConfigErrorCode } from './errors.js';
export { DEFAULT_MAX_FRAME_BYTES, FrameReader } from './frame-reader.js';
export type { FrameSink } from './frame-reader.js';
export { Connection } from './connection.js';
export { CONNECTION_DEFAULTS } from './connection-types.js';
export type { CloseInfo, CloseReason, ConnectionOptions, ConnectionStats, MessageHandler, Reply } from './connection-types.js';
export type { PeerInfo } from './peer.js';
export { AllowList, normalizeAddress } from './allow-list.js';
export { startListener } from './server.js';
export { RefusalLog } from './refusal-log.js';
export type { Listener, ListenerOptions, Refusal, RefusalReason } from './server.js';
export { startDialer } from './dialer.js';
export type { Dialer, DialerOptions } from './dialer.js';
export { BACKOFF_DEFAULTS, fullJitterDelay } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export type { ServerTlsOptions, TlsMinVersion } from './tls/server-tls.js';
export { checkServerTls } from './tls/server-tls.js';
export type { ClientTlsOptions } from './tls/client-tls.js';
export { checkClientTls } from './tls/client-tls.js';
