export { IsoMessage } from './message.js';
export { Packager, isCodecError } from './packager.js';
export { compileProfile, listProfiles, loadProfile, PROFILE_DIR, type Profile } from './profile.js';
export {
  BITMAP_FIELD, Iso8583DecodeError, Iso8583EncodeError, Iso8583Error, MTI_FIELD, ProfileError,
  type DecodeErrorCode, type EncodeErrorCode,
} from './errors.js';
export type { FieldSpec, FieldType, ProfileInput, Sensitivity } from './field-spec.js';
export { HIDDEN, SENSITIVE_FIELDS, maskAccount, maskPan, maskValue, maskedFields, renderFields, renderJson, type RenderedField } from './render.js';
