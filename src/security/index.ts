export { MacError, MacKeyError, type MacErrorCode, type MacKeyErrorCode } from './errors.js';
export { KCV_HEX_DIGITS, keyCheckValue } from './kcv.js';
export { MacKey } from './mac-key.js';
export { macFieldOf, macWireBytes, signMessage, verifyMessage, type MacField, type MacVerdict } from './message-mac.js';
export { MAC_BYTES, X919_KEY_BYTES, x919Mac } from './x9-19-mac.js';
export { MacKeyRing } from './mac-key-ring.js';
export { loadMacKeys, macCredentialName, macKeyVariable, type MacKeyFiles } from './load-mac-keys.js';
