export { DataKey, KEY_PURPOSES, MIN_DATA_KEY_BYTES, type KeyPurpose } from './data-key.js';
export { DataKeyError, type DataKeyErrorCode } from './errors.js';
export { KeyRing, type KeyRingKeys } from './key-ring.js';
export { DEVELOPMENT_KEY_ID, developmentKeyMaterial, developmentKeyRing, isKnownTestKey } from './known-keys.js';
export { configuredKeyRing } from './configured-keys.js';
