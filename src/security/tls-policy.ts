/**
 * The one TLS policy of every link (partner listeners, dial-outs, the metrics listener): TLS 1.3, or TLS 1.2
 * with ephemeral ECDH key exchange (forward secrecy) and an AEAD cipher only. Static-RSA key exchange
 * (AES128-SHA, AES256-SHA256 …), CBC suites and everything older than TLS 1.2 never get a handshake.
 */
export const TLS_MIN_VERSION = 'TLSv1.2';

const TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];
/** node takes TLS 1.3 suites in the same list; all three are AEAD with (EC)DHE by construction. */
const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'];

export const TLS_CIPHERS = [...TLS13_SUITES, ...TLS12_SUITES].join(':');
