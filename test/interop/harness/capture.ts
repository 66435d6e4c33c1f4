// Packet capture on the loopback interface with tcpdump, written to a pcap
// file and read back with readPcap once the capture stops.
import { readFile } from 'node:fs/promises';
import type { ChildSet, StartedChild } from './children.js';
import { readPcap, type CapturedPacket } from './pcap.js';
import { requireTools } from './tools.js';

export interface Capture {
  stop(): Promise<CapturedPacket[]>;
}

export async function startLoopbackCapture(children: ChildSet, file: string, filter: string): Promise<Capture> {
  const tools = requireTools(['tcpdump']);
  // -U: write each packet as it arrives, so nothing sits in a buffer at stop.
  const child: StartedChild = children.start(tools.tcpdump, ['-i', 'lo', '-n', '-U', '-s', '0', '-w', file, filter]);
  await child.waitForOutput(/listening on lo/, 10_000);
  return {
    async stop() {
      // Packets sent just before stop may still sit in the kernel's capture buffer.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await child.stop('SIGINT');
      const [code] = await child.exited;
      if (code !== 0) throw new Error(`tcpdump exited with ${code}:\n${child.tail()}`);
      return readPcap(await readFile(file));
    },
  };
}
