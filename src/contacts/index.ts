export { maskEmail, maskLast4, normaliseEmail, normaliseMsisdn, normaliseNik, type Normalised } from './normalise.js';
