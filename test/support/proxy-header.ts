import { Command, IPv4Address, IPv4ProxyAddress, TransportProtocol, V2ProxyProtocol } from 'proxy-protocol-js';

/** A PROXY protocol v2 header (TCP over IPv4), as HAProxy's send-proxy-v2 writes it: a test standing in for a proxy. */
export function proxyHeaderFor(source: { address: string; port: number }, destination: { address: string; port: number }): Buffer {
  const v4 = (a: string) => IPv4Address.createFrom(a.split('.').map(Number));
  const header = new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM, new IPv4ProxyAddress(v4(source.address), source.port, v4(destination.address), destination.port));
  return Buffer.from(header.build());
}
