// The runtime ceiling: the cheapest possible Node UDP relay hop, one receive
// and one send per datagram with no parsing. Run as its own process so its
// CPU time can be read from /proc. Prints its port as JSON once bound.
import { createSocket } from 'node:dgram';

const host = process.argv[2] ?? '127.0.0.1';
const socket = createSocket('udp4');
socket.on('message', (message, remote) => socket.send(message, remote.port, remote.address));
socket.bind(0, host, () => console.log(JSON.stringify({ msg: 'echo started', port: socket.address().port })));
process.on('SIGTERM', () => socket.close(() => process.exit(0)));
