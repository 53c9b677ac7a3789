export { MacError, MacKeyError, type MacErrorCode, type MacKeyErrorCode } from './errors.js';
export { KCV_HEX_DIGITS, keyCheckValue } from './kcv.js';
export { MacKey, type MacKeySettings } from './mac-key.js';
export { macFieldOf, macWireBytes, signMessage, verifyMessage, type MacField, type MacVerdict } from './message-mac.js';
export { MAC_BYTES, X919_KEY_BYTES, x919Mac } from './x9-19-mac.js';
