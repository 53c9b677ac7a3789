export { DataKey, KEY_PURPOSES, MIN_DATA_KEY_BYTES, type KeyPurpose } from './data-key.js';
export { DataKeyError, KeyLoadError, type DataKeyErrorCode, type KeyLoadErrorCode } from './errors.js';
export { KeyRing, type KeyRingKeys } from './key-ring.js';
export { DEVELOPMENT_KEY_ID, developmentKeyMaterial, developmentKeyRing, isKnownTestKey } from './known-keys.js';
export { keysConfigSchema, type KeysConfig } from './config.js';
export { parseHexKey, readKeyFile, type KeyText } from './key-file.js';
export {
  ConfiguredKeys, DATA_KEY_CREDENTIAL, DATA_KEY_ENV, DATA_KEY_FILE_ENV, PREVIOUS_DATA_KEY_CREDENTIAL,
  fixedKeySource, loadKeyRing, readConfiguredKeys, type KeyDeployment, type KeySource,
} from './load-keys.js';
