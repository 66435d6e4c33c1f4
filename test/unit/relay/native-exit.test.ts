// A process that exits while its native plane is busy, without closing the
// plane first (process.exit from anywhere, an uncaught exception): the worker
// threads are still receiving and handing STUN datagrams to the JS thread
// through the threadsafe function when Node tears the environment down. The
// exit must stay clean: status 0, nothing on stderr. Run by the sanitizer
// script too, whose ASan/UBSan preload the child inherits, so a worker
// touching freed memory during teardown aborts the child and fails the test.
import { spawnSync } from 'node:child_process';
import { nativeAddonPath } from '../../../relay/dataplane/native/native-addon.js';

// argv: addon path, threads, exit mode. Floods the plane's own listener with STUN
// Binding requests from this process and exits in the middle of it.
const CHILD = `
const addon = require(process.argv[1]);
const dgram = require('node:dgram');
let upcalls = 0;
const plane = addon.create(Number(process.argv[2]), () => { upcalls++; }, 1000);
const [, port] = addon.listen(plane, '127.0.0.1', 0);
const socket = dgram.createSocket('udp4');
const stun = Buffer.alloc(20);
stun.writeUInt16BE(0x0001, 0);
stun.writeUInt32BE(0x2112a442, 4);
let rounds = 0;
(function blast() {
  for (let i = 0; i < 64; i++) socket.send(stun, port, '127.0.0.1');
  if (++rounds < 20 || upcalls === 0) return setImmediate(blast);
  if (process.argv[3] === 'throw') throw new Error('planned crash with the plane still open');
  process.exit(0);
})();
`;

function runChild(threads: number, mode: 'exit' | 'throw') {
  return spawnSync(process.execPath, ['-e', CHILD, nativeAddonPath(), String(threads), mode], {
    timeout: 20_000,
    env: process.env,
    encoding: 'utf8',
  });
}

describe('native plane: the process exits while the plane is busy and still open', () => {
  test.each([1, 2])('process.exit mid-flood, %i thread(s), 10 times: status 0, nothing on stderr', (threads) => {
    for (let i = 0; i < 10; i++) {
      const run = runChild(threads, 'exit');
      expect({ status: run.status, signal: run.signal, stderr: run.stderr }).toEqual({
        status: 0,
        signal: null,
        stderr: '',
      });
    }
  });

  test('an uncaught exception mid-flood ends the process with the exception, not a crash in the plane', () => {
    for (let i = 0; i < 5; i++) {
      const run = runChild(2, 'throw');
      expect({ status: run.status, signal: run.signal }).toEqual({ status: 1, signal: null });
      expect(run.stderr).toContain('planned crash with the plane still open');
      expect(run.stderr).not.toMatch(/AddressSanitizer|runtime error|Segmentation|Aborted/);
    }
  });
});
