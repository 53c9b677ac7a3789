/**
 * The contract's ISO 8583 vocabulary (specs/CONTRACT.md): response codes, MTIs, field numbers, the balance
 * fields 48 and 54, network management messages and field 90. A leaf over the codec: the switch, the
 * client, the load generator and the journal all speak it, and it imports nothing of theirs.
 */
export * from './balance-fields.js';
export * from './codes.js';
export * from './network-messages.js';
export * from './original-data.js';
