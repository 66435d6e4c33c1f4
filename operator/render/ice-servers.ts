// TURN URIs for RTCConfiguration.iceServers (RFC 7065 syntax), as published in
// status.iceServers: one per advertised address and listener, with turns: URIs
// on the certificate's DNS name so clients can verify it.
import { isIpv6 } from '../api/cidr.js';
import { listenerPort, type TurnRelay } from '../api/turnrelay.js';
import { clientHosts } from './addresses.js';
import type { Observed } from './observed.js';

const hostPart = (host: string) => (isIpv6(host) ? `[${host}]` : host);

/** The first concrete (non-wildcard) DNS name of the TLS certificate. */
function tlsHostName(relay: TurnRelay): string | undefined {
  return relay.spec.tls?.dnsNames?.find((name) => !name.startsWith('*.'));
}

export function iceServerUrls(relay: TurnRelay, observed: Observed): string[] {
  const hosts = clientHosts(relay, observed);
  const tlsName = tlsHostName(relay);
  const urls: string[] = [];
  for (const listener of relay.spec.listeners) {
    const port = listenerPort(listener);
    if (listener.protocol === 'TLS') {
      for (const host of tlsName ? [tlsName] : hosts) urls.push(`turns:${hostPart(host)}:${port}?transport=tcp`);
    } else {
      const transport = listener.protocol === 'UDP' ? 'udp' : 'tcp';
      for (const host of hosts) urls.push(`turn:${hostPart(host)}:${port}?transport=${transport}`);
    }
  }
  return [...new Set(urls)];
}
