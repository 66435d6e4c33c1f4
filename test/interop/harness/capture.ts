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
  // --immediate-mode: libpcap hands over each packet at once instead of per
  // ring block (else the last second of traffic is lost at stop); -U: write
  // each packet to the file as it arrives.
  const args = ['-i', 'lo', '-n', '--immediate-mode', '-U', '-s', '0', '-w', file, filter];
  const child: StartedChild = children.start(tools.tcpdump, args);
  await child.waitForOutput(/listening on lo/, 10_000);
  return {
    async stop() {
      // Give tcpdump a moment to read the packets sent just before stop.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await child.stop('SIGINT');
      const [code] = await child.exited;
      if (code !== 0) throw new Error(`tcpdump exited with ${code}:\n${child.tail()}`);
      return readPcap(await readFile(file));
    },
  };
}
