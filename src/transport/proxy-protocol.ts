import { SocketAddress, type Socket } from 'node:net';
import { normalizeAddress } from './allow-list.js';
import { Command, IPv4ProxyAddress, IPv6ProxyAddress, TransportProtocol, V2ProxyProtocol } from 'proxy-protocol-js';

/**
 * PROXY protocol v2 (haproxy.org/download/2.6/doc/proxy-protocol.txt) in front of a listener: a load balancer
 * in TCP mode (HAProxy `send-proxy-v2`) opens each connection with a binary header carrying the client's
 * address. The header is cut from the stream here; proxy-protocol-js decodes it.
 */
export const PROXY_V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
const FIXED_BYTES = 16;
/** Addresses (36 bytes for TCP6) plus the TLVs HAProxy may add; anything longer is not a header we accept. */
const MAX_HEADER_BYTES = FIXED_BYTES + 1024;

export interface ProxiedAddress {
  readonly address: string;
  readonly port: number;
}

/** LOCAL: the proxy speaking for itself (a health check); PROXY: a relayed client, TCP over IPv4 or IPv6. */
export type ProxyHeader = { readonly command: 'LOCAL' } | { readonly command: 'PROXY'; readonly source: ProxiedAddress };

export class ProxyHeaderError extends Error {
  override readonly name = 'ProxyHeaderError';
  readonly code = 'PROXY_HEADER_INVALID';
}

/** Decodes one complete header (16 fixed bytes plus the length they announce). @throws ProxyHeaderError */
export function parseProxyHeader(header: Buffer): ProxyHeader {
  let parsed: V2ProxyProtocol;
  try {
    parsed = V2ProxyProtocol.parse(header);
  } catch (error) {
    throw new ProxyHeaderError(`not a PROXY v2 header: ${(error as { message?: string }).message ?? 'unreadable'}`);
  }
  if (parsed.command === Command.LOCAL) return { command: 'LOCAL' };
  if (parsed.transportProtocol !== TransportProtocol.STREAM) throw new ProxyHeaderError('PROXY header for a transport other than TCP');
  const address = parsed.proxyAddress;
  if (address instanceof IPv4ProxyAddress) return { command: 'PROXY', source: { address: address.sourceAddress.address.join('.'), port: address.sourcePort } };
  if (address instanceof IPv6ProxyAddress) return { command: 'PROXY', source: { address: ipv6Text(address.sourceAddress.address), port: address.sourcePort } };
  throw new ProxyHeaderError('PROXY header for an address family other than IPv4 or IPv6');
}

function ipv6Text(bytes: readonly number[]): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // SocketAddress writes it the usual way (compressed, ::ffff:a.b.c.d), which normalizeAddress turns into IPv4.
  return normalizeAddress(new SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address);
}

/** What a trusted proxy's connection opened with. */
export type Preamble =
  | { readonly kind: 'header'; readonly header: ProxyHeader }
  | { readonly kind: 'refused'; readonly reason: 'PROXY_HEADER_MISSING' | 'PROXY_HEADER_INVALID'; readonly detail?: string };

/**
 * Reads the PROXY v2 header a trusted proxy's connection must open with, before TLS or framing see a byte;
 * what follows it is handed back to the socket. No header, a broken one, or none within `deadlineMs` is a
 * refusal: a trusted proxy's connection without one would pass the proxy's own address off as the client's.
 */
export function readProxyHeader(socket: Socket, deadlineMs: number): Promise<Preamble> {
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (result: Preamble, rest?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.pause();
      if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      if (!startsWithSignature(buffered)) return finish({ kind: 'refused', reason: 'PROXY_HEADER_MISSING' });
      if (buffered.length < FIXED_BYTES) return;
      const total = FIXED_BYTES + buffered.readUInt16BE(14);
      if (total > MAX_HEADER_BYTES) return finish({ kind: 'refused', reason: 'PROXY_HEADER_INVALID', detail: 'too long' });
      if (buffered.length < total) return;
      try {
        finish({ kind: 'header', header: parseProxyHeader(buffered.subarray(0, total)) }, buffered.subarray(total));
      } catch (error) {
        finish({ kind: 'refused', reason: 'PROXY_HEADER_INVALID', detail: (error as Error).message });
      }
    };
    const onClose = (): void => finish({ kind: 'refused', reason: 'PROXY_HEADER_MISSING', detail: 'closed' });
    const timer = setTimeout(() => finish({ kind: 'refused', reason: 'PROXY_HEADER_MISSING', detail: 'timeout' }), deadlineMs);
    timer.unref();
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Whether these first bytes of a stream are (the start of) the PROXY v2 signature. */
function startsWithSignature(bytes: Buffer): boolean {
  const compared = Math.min(bytes.length, PROXY_V2_SIGNATURE.length);
  return bytes.subarray(0, compared).equals(PROXY_V2_SIGNATURE.subarray(0, compared));
}
