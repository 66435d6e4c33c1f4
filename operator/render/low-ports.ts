// What a non-root relay pod needs to listen on a port below 1024 (TURN over
// TLS on 443, TCP on 80), the least that works in each network mode:
// - pod network: the namespaced safe sysctl net.ipv4.ip_unprivileged_port_start,
//   lowered to the lowest such listener port (not 0), in the pod's own netns;
// - host network: net.* sysctls are refused there (and would be host-wide), and
//   `capabilities.add` alone leaves a non-root process without the capability
//   (the runtime clears the ambient set), so the container adds
//   NET_BIND_SERVICE (allowed by the restricted Pod Security Standard) and
//   starts through the image's launcher, whose file capability hands it to
//   Node as an ambient capability (docs/security.md, "Ports below 1024").
import { listenerPort, type TurnRelay } from '../api/turnrelay.js';

const UNPRIVILEGED_PORT_SYSCTL = 'net.ipv4.ip_unprivileged_port_start';
/** Lowest port a process may bind without CAP_NET_BIND_SERVICE by default. */
const FIRST_UNPRIVILEGED_PORT = 1024;
/** In the relay image (relay/Dockerfile): execs /nodejs/bin/node with NET_BIND_SERVICE ambient. */
export const NET_BIND_LAUNCHER = '/app/build/launcher/turnrelay-net-bind';
/** The image's entry script, what the image's ENTRYPOINT passes to node. */
export const RELAY_ENTRY_SCRIPT = '/app/dist/cli/turnrelay.js';

export type LowPortAccess =
  | { kind: 'none' }
  | { kind: 'sysctl'; sysctls: { name: string; value: string }[] }
  | { kind: 'capability'; command: string[]; addCapabilities: string[] };

/** What the pod needs for its listeners below 1024 (the sysctl lowered to the lowest of them), if any. */
export function lowPortAccess(relay: TurnRelay): LowPortAccess {
  const low = relay.spec.listeners.map(listenerPort).filter((port) => port < FIRST_UNPRIVILEGED_PORT);
  if (low.length === 0) return { kind: 'none' };
  if (relay.spec.network.mode === 'HostNetwork')
    return {
      kind: 'capability',
      command: [NET_BIND_LAUNCHER, RELAY_ENTRY_SCRIPT],
      addCapabilities: ['NET_BIND_SERVICE'],
    };
  return { kind: 'sysctl', sysctls: [{ name: UNPRIVILEGED_PORT_SYSCTL, value: String(Math.min(...low)) }] };
}
