// Loads the compiled native data plane (build/native/turnrelay_dataplane.node,
// built by `npm run build:native`) and describes its functions.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const planeBrand: unique symbol;
/** Opaque handle of one native plane (an epoll loop on its own thread). */
export type PlaneHandle = { readonly [planeBrand]: true };

export interface NativeAddon {
  /** `onPacket` gets STUN datagrams from clients: (listenerId, datagram, ip, port). */
  create(onPacket: (listenerId: number, datagram: Buffer, ip: string, port: number) => void): PlaneHandle;
  close(plane: PlaneHandle): void;
  /** Takes a duplicate of a bound UDP socket's fd; returns the listener id. */
  addListener(plane: PlaneHandle, fd: number): number;
  removeListener(plane: PlaneHandle, listenerId: number): void;
  openRelay(plane: PlaneHandle, fd: number, listenerId: number, clientIp: string, clientPort: number, kbps: number): number;
  /** Returns what the relay endpoint relayed (in the order of `UsageIndex`), undefined if it was unknown. */
  closeRelay(plane: PlaneHandle, relayId: number): number[] | undefined;
  /** What a live relay endpoint relayed so far, in the order of `UsageIndex`. */
  relayUsage(plane: PlaneHandle, relayId: number): number[];
  /** relayId 0 removes the route. */
  setRoute(plane: PlaneHandle, listenerId: number, clientIp: string, clientPort: number, relayId: number): void;
  permit(plane: PlaneHandle, relayId: number, peerIp: string, expiresAtMs: number): void;
  revoke(plane: PlaneHandle, relayId: number, peerIp: string): void;
  bindChannel(plane: PlaneHandle, relayId: number, channel: number, peerIp: string, peerPort: number, expiresAtMs: number): void;
  unbindChannel(plane: PlaneHandle, relayId: number, channel: number): void;
  setBitrate(plane: PlaneHandle, relayId: number, kbps: number): void;
  channelData(plane: PlaneHandle, relayId: number, frame: Buffer): void;
  sendToPeer(plane: PlaneHandle, relayId: number, peerIp: string, peerPort: number, payload: Buffer): void;
  sendFromListener(plane: PlaneHandle, listenerId: number, message: Buffer, clientIp: string, clientPort: number): void;
  counters(plane: PlaneHandle): number[];
}

/** Index of each value in `counters()`, in the order of `struct Counters` in dataplane.cc. */
export const NativeCounter = {
  clientToPeerPackets: 0,
  clientToPeerBytes: 1,
  peerToClientPackets: 2,
  peerToClientBytes: 3,
  droppedNoPermission: 4,
  droppedNoChannel: 5,
  droppedRateLimited: 6,
  droppedBackpressure: 7,
  sendErrors: 8,
  upcallsDropped: 9,
} as const;

/** Index of each value in `relayUsage()` / `closeRelay()`, the order of `struct Usage`. */
export const UsageIndex = {
  clientToPeerPackets: 0,
  clientToPeerBytes: 1,
  peerToClientPackets: 2,
  peerToClientBytes: 3,
} as const;

/** Walks up from this module to the package root (works from sources and from dist/). */
function addonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'build', 'native', 'turnrelay_dataplane.node');
    dir = resolve(dir, '..');
  }
  return resolve('build/native/turnrelay_dataplane.node');
}

const loaded = new Map<string, NativeAddon>();

/** `path` is for tests; the relay always loads the one `npm run build:native` writes. */
export function loadNativeAddon(path = addonPath()): NativeAddon {
  const cached = loaded.get(path);
  if (cached) return cached;
  if (!existsSync(path)) {
    throw new Error(`relay.dataPlane is 'native' but the native data plane is not built (${path} is missing): run \`npm run build:native\` (needs g++), or set relay.dataPlane to 'node'`);
  }
  const addon = createRequire(import.meta.url)(path) as NativeAddon;
  loaded.set(path, addon);
  return addon;
}
