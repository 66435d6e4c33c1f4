import type { DataPlaneCounters, DirectionCounters } from './types.js';

export const direction = (): DirectionCounters => ({
  clientToPeerPackets: 0,
  clientToPeerBytes: 0,
  peerToClientPackets: 0,
  peerToClientBytes: 0,
});

export function createCounters(): DataPlaneCounters {
  return {
    byTransport: { udp: direction(), tcp: direction(), tls: direction() },
    droppedNoPermission: 0,
    droppedNoChannel: 0,
    droppedRateLimited: 0,
    droppedBackpressure: 0,
    droppedHandover: 0, // the JavaScript plane has one thread: nothing to hand over
    sendErrors: 0,
    deliveredInProcess: 0,
    coalescePauses: 0, // it never pauses
  };
}
