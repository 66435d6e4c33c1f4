// Load generator for the UDP echo baseline, in its own process so that its
// CPU is not charged to the echo server. Paced mode sends a fixed number of
// datagrams per second; flood mode keeps a window of datagrams in flight.
// Usage: udp-load HOST PORT SIZE SECONDS (RATE | flood:WINDOW); prints JSON.
import { createSocket } from 'node:dgram';

const [host = '127.0.0.1', portText = '0', sizeText = '120', secondsText = '5', mode = 'flood:64'] =
  process.argv.slice(2);
const port = Number(portText);
const payload = Buffer.alloc(Number(sizeText), 0x61);
const durationMs = Number(secondsText) * 1000;
const socket = createSocket('udp4');
let sent = 0;
let received = 0;
let sending = true;

function send(): void {
  sent++;
  socket.send(payload, port, host);
}

socket.on('message', () => {
  received++;
  if (sending && mode.startsWith('flood:')) send();
});

socket.bind(0, '127.0.0.1', () => {
  const started = Date.now();
  if (mode.startsWith('flood:')) {
    for (let i = 0; i < Number(mode.slice(6)); i++) send();
  } else {
    // Send in 1 ms slots, catching up on whatever the timer fell behind by.
    const perMs = Number(mode) / 1000;
    const timer = setInterval(() => {
      const due = Math.floor((Date.now() - started) * perMs);
      while (sent < due) send();
    }, 1);
    setTimeout(() => clearInterval(timer), durationMs);
  }
  setTimeout(() => {
    sending = false;
    const elapsedMs = Date.now() - started;
    // Give in-flight datagrams a moment to come back before counting.
    setTimeout(() => {
      console.log(JSON.stringify({ sent, received, elapsedMs }));
      socket.close();
    }, 300);
  }, durationMs);
});
