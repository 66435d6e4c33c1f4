// The Node runtime ceiling: CPU per packet of a bare dgram echo process
// (one receive + one send per datagram, like one relay hop), measured the
// same way as the TURN servers, under a separate load-generator process.
import { fileURLToPath } from 'node:url';
import type { ChildSet } from '../test/interop/harness/children.js';
import { cpuMicrosSince, cpuSample } from './proc-stats.js';

export interface EchoResult {
  label: string;
  offeredPerSecond: number | undefined;
  sent: number;
  echoed: number;
  echoedPerSecond: number;
  lossPercent: number;
  cpuMicrosPerPacket: number;
}

const here = fileURLToPath(new URL('.', import.meta.url));

export async function runEchoBaseline(
  children: ChildSet,
  host: string,
  loads: Array<{ label: string; mode: string; seconds: number }>,
): Promise<EchoResult[]> {
  const echo = children.start(process.execPath, [`${here}udp-echo.js`, host]);
  try {
    const line = await echo.waitForOutput(/\{"msg":"echo started".*\}/, 10_000);
    const { port } = JSON.parse(line[0]) as { port: number };
    const results: EchoResult[] = [];
    for (const load of loads) {
      const cpuBefore = cpuSample(echo.pid);
      const run = await children.run(
        process.execPath,
        [`${here}udp-load.js`, host, String(port), '120', String(load.seconds), load.mode],
        {
          timeoutMs: (load.seconds + 10) * 1000,
        },
      );
      const cpu = cpuMicrosSince(cpuBefore);
      if (run.code !== 0) throw new Error(`udp-load failed: ${run.stderr}`);
      const { sent, received, elapsedMs } = JSON.parse(run.stdout) as {
        sent: number;
        received: number;
        elapsedMs: number;
      };
      results.push({
        label: load.label,
        offeredPerSecond: load.mode.startsWith('flood') ? undefined : Number(load.mode),
        sent,
        echoed: received,
        echoedPerSecond: received / (elapsedMs / 1000),
        lossPercent: sent > 0 ? (100 * (sent - received)) / sent : 0,
        cpuMicrosPerPacket: cpu / received,
      });
    }
    return results;
  } finally {
    await echo.stop();
  }
}
