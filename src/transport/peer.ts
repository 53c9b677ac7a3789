import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { normalizeAddress } from './allow-list.js';

/** Who is on the other end of a connection: what the switch binds a partner session to, and logs. */
export interface PeerInfo {
  /** IPv4 peers as dotted quads even on a dual-stack listener. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** TLS only: the CN of the verified client (or server) certificate: the partner id. */
  readonly tlsSubject?: string;
  /** TLS only: `TLSv1.2` or `TLSv1.3`. */
  readonly tlsProtocol?: string;
}

/** `relayedFor`: the client a trusted proxy's PROXY header named, which stands for the socket's own peer. */
export function peerOf(socket: Socket, relayedFor?: { address: string; port: number }): PeerInfo {
  const remoteAddress = normalizeAddress(relayedFor?.address ?? socket.remoteAddress ?? 'unknown');
  const remotePort = relayedFor?.port ?? socket.remotePort ?? 0;
  if (!(socket instanceof TLSSocket)) return { remoteAddress, remotePort };
  const subject = certificateSubjectCn(socket);
  const protocol = socket.getProtocol();
  return {
    remoteAddress,
    remotePort,
    ...(subject !== undefined ? { tlsSubject: subject } : {}),
    ...(protocol !== null ? { tlsProtocol: protocol } : {}),
  };
}

/** The peer certificate's subject CN; undefined without a certificate or a CN. */
export function certificateSubjectCn(socket: TLSSocket): string | undefined {
  const cn: unknown = socket.getPeerCertificate().subject?.CN;
  // A subject may repeat CN; node then gives an array, which is never one partner's identity.
  return typeof cn === 'string' ? cn : undefined;
}

export function describePeer(peer: PeerInfo): string {
  return peer.remoteAddress.includes(':') ? `[${peer.remoteAddress}]:${peer.remotePort}` : `${peer.remoteAddress}:${peer.remotePort}`;
}
