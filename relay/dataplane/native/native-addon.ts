// Loads the compiled native data plane (build/native/turnrelay_dataplane.node,
// built by `npm run build:native`) and describes its functions.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const planeBrand: unique symbol;
/** Opaque handle of one native plane (N epoll loops, one per thread). */
export type PlaneHandle = { readonly [planeBrand]: true };

/** STUN datagrams from clients: (listenerId, lane, datagram, ip, port). */
export type Upcall = (listenerId: number, lane: number, datagram: Buffer, ip: string, port: number) => void;

export interface NativeAddon {
  /** coalesceMicros: the pause after a wakeup that relayed without a backlog (0..10000, 0: none). */
  create(threads: number, onPacket: Upcall, coalesceMicros: number): PlaneHandle;
  close(plane: PlaneHandle): void;
  /** Binds one SO_REUSEPORT socket per thread on ip:port; returns [listenerId, bound port]. */
  listen(plane: PlaneHandle, ip: string, port: number): [number, number];
  removeListener(plane: PlaneHandle, listenerId: number): void;
  /** Hands a bound relay socket (a duplicate of `fd`) to the thread of `lane`; returns the relay id. */
  openRelay(
    plane: PlaneHandle,
    lane: number,
    fd: number,
    listenerId: number,
    clientIp: string,
    clientPort: number,
    kbps: number,
    relayedIp?: string,
    relayedPort?: number,
  ): number;
  /** Returns what the relay endpoint relayed (in the order of `UsageIndex`), undefined if it was unknown. */
  closeRelay(plane: PlaneHandle, relayId: number): number[] | undefined;
  /** What a live relay endpoint relayed so far, in the order of `UsageIndex`. */
  relayUsage(plane: PlaneHandle, relayId: number): number[];
  /** relayId 0 removes the route. */
  setRoute(
    plane: PlaneHandle,
    listenerId: number,
    lane: number,
    clientIp: string,
    clientPort: number,
    relayId: number,
  ): void;
  permit(plane: PlaneHandle, relayId: number, peerIp: string, expiresAtMs: number): void;
  revoke(plane: PlaneHandle, relayId: number, peerIp: string): void;
  bindChannel(
    plane: PlaneHandle,
    relayId: number,
    channel: number,
    peerIp: string,
    peerPort: number,
    expiresAtMs: number,
  ): void;
  unbindChannel(plane: PlaneHandle, relayId: number, channel: number): void;
  setBitrate(plane: PlaneHandle, relayId: number, kbps: number): void;
  channelData(plane: PlaneHandle, relayId: number, frame: Buffer): void;
  sendToPeer(plane: PlaneHandle, relayId: number, peerIp: string, peerPort: number, payload: Buffer): void;
  sendFromListener(
    plane: PlaneHandle,
    listenerId: number,
    lane: number,
    message: Buffer,
    clientIp: string,
    clientPort: number,
  ): void;
  /** Summed over the threads, in the order of `struct Counters` in tables.h. */
  counters(plane: PlaneHandle): number[];
  /** Relays per thread (tests check that allocations spread over threads). */
  relaysPerThread(plane: PlaneHandle): number[];
  /** Bytes held by STUN datagrams queued for the JS thread (bounded; 0 once JS caught up); also on a closed plane. */
  upcallBytes(plane: PlaneHandle): number;
}

/** Index of each value in `counters()`. */
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
  deliveredInProcess: 10,
  droppedHandover: 11,
  coalescePauses: 12,
} as const;

/** Index of each value in `relayUsage()` / `closeRelay()`, the order of `struct Usage` in tables.h. */
export const UsageIndex = {
  clientToPeerPackets: 0,
  clientToPeerBytes: 1,
  peerToClientPackets: 2,
  peerToClientBytes: 3,
} as const;

/**
 * Where the addon is: TURNRELAY_NATIVE_ADDON (the sanitizer build in CI), else
 * build/native/ under the package root, found by walking up from this module
 * (works from sources, from dist/ and in the image).
 */
export function nativeAddonPath(): string {
  const override = process.env['TURNRELAY_NATIVE_ADDON'];
  if (override) return resolve(override);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'build', 'native', 'turnrelay_dataplane.node');
    dir = resolve(dir, '..');
  }
  return resolve('build/native/turnrelay_dataplane.node');
}

export function nativeAddonExists(path = nativeAddonPath()): boolean {
  return existsSync(path);
}

const loaded = new Map<string, NativeAddon>();

export function loadNativeAddon(path = nativeAddonPath()): NativeAddon {
  const cached = loaded.get(path);
  if (cached) return cached;
  if (!existsSync(path)) {
    throw new Error(
      `relay.dataPlane is 'native' but the native data plane is not built (${path} is missing): ` +
        "run `npm run build:native` (needs g++), or set relay.dataPlane to 'node'",
    );
  }
  const addon = createRequire(import.meta.url)(path) as NativeAddon;
  loaded.set(path, addon);
  return addon;
}
