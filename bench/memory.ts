// Resident memory per 1,000 allocations: hold N client-to-client allocations
// open with uclient -h (hang after sending), wait until the server has bound
// them all in its relay port range, and compare RSS with the idle server.
import type { ChildSet } from '../test/interop/harness/children.js';
import { requireTools } from '../test/interop/harness/tools.js';
import { boundUdpSockets, rssKiB } from './proc-stats.js';
import { benchUclientArgs, type ServerUnderTest } from './servers.js';

export interface MemoryResult {
  requested: number;
  allocations: number;
  rssBeforeKiB: number;
  rssAfterKiB: number;
  kibPerThousandAllocations: number;
}

export async function measureAllocationMemory(
  children: ChildSet,
  server: ServerUnderTest,
  requested: number,
): Promise<MemoryResult> {
  const tools = requireTools(['turnutils_uclient']);
  const args = benchUclientArgs(server, { sessions: requested, messages: 1 });
  // Allocations left by earlier runs may still be alive until their lifetime ends.
  const boundBefore = boundUdpSockets(server.host, server.portRange);
  const rssBeforeKiB = rssKiB(server.pid);
  const client = children.start(tools.turnutils_uclient, ['-h', ...args]);
  try {
    const newSockets = () => boundUdpSockets(server.host, server.portRange) - boundBefore;
    const allocations = await waitForStableCount(newSockets, requested, 45_000);
    await sleep(1000); // let the server settle (Node: pending GC) before reading RSS
    const rssAfterKiB = rssKiB(server.pid);
    return {
      requested,
      allocations,
      rssBeforeKiB,
      rssAfterKiB,
      kibPerThousandAllocations: ((rssAfterKiB - rssBeforeKiB) * 1000) / Math.max(allocations, 1),
    };
  } finally {
    await client.stop('SIGKILL');
  }
}

async function waitForStableCount(read: () => number, target: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  let stableSince = Date.now();
  for (;;) {
    const now = read();
    if (now >= target) return now;
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    } else if (now > 0 && Date.now() - stableSince > 3000) {
      return now;
    }
    if (Date.now() > deadline) return now;
    await sleep(200);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
