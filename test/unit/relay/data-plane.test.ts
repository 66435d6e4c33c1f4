// The data plane on its own, through its narrow interface: forwarding
// entries installed and removed by hand, a recording ClientSink, real UDP
// sockets on loopback.
import { createSocket } from 'node:dgram';
import { JsDataPlane } from '../../../relay/dataplane/js-data-plane.js';
import type { ClientSink } from '../../../relay/dataplane/types.js';
import { decodeStunMessage } from '../../../relay/stun/message.js';
import { AttributeType, Method } from '../../../relay/stun/constants.js';
import { decodeXorAddress } from '../../../relay/stun/attributes/xor-address.js';
import { encodeChannelData } from '../../../relay/stun/channel-data.js';
import { startPeer, sleep } from './helpers/test-relay.js';

class RecordingSink implements ClientSink {
  readonly transport = 'tcp' as const;
  readonly padChannelData = true;
  readonly frames: Buffer[] = [];
  accept = true;
  send(header: Buffer, payload: Buffer, padding: number): boolean {
    if (!this.accept) return false;
    this.frames.push(Buffer.concat([header, payload, Buffer.alloc(padding)]));
    return true;
  }
}

async function setup(maxBitrateKbps = 0) {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  const plane = new JsDataPlane();
  const sink = new RecordingSink();
  const endpoint = plane.openRelay({ socket, family: 4, sink, maxBitrateKbps });
  return { plane, sink, endpoint, relayPort: socket.address().port };
}

const waitFor = async (cond: () => boolean) => {
  for (let i = 0; i < 100 && !cond(); i++) await sleep(10);
};

describe('JsDataPlane', () => {
  test('peer datagrams: dropped without permission, Data indication with it, ChannelData once bound', async () => {
    const { plane, sink, endpoint, relayPort } = await setup();
    const peer = await startPeer();
    try {
      peer.socket.send(Buffer.from('no permission'), relayPort, '127.0.0.1');
      await waitFor(() => plane.counters.droppedNoPermission > 0);
      expect(plane.counters.droppedNoPermission).toBe(1);
      expect(sink.frames).toHaveLength(0);

      endpoint.permit('127.0.0.1', Date.now() + 60_000);
      peer.socket.send(Buffer.from('odd'), relayPort, '127.0.0.1');
      await waitFor(() => sink.frames.length > 0);
      const ind = decodeStunMessage(sink.frames.shift()!);
      expect(ind.method).toBe(Method.Data);
      expect(ind.get(AttributeType.Data)!.toString()).toBe('odd');
      expect(decodeXorAddress(ind.get(AttributeType.XorPeerAddress)!, ind.transactionId)).toEqual({
        family: 4,
        address: '127.0.0.1',
        port: peer.port,
      });

      endpoint.bindChannel(0x4005, '127.0.0.1', peer.port, Date.now() + 60_000);
      peer.socket.send(Buffer.from('hello'), relayPort, '127.0.0.1');
      await waitFor(() => sink.frames.length > 0);
      expect(sink.frames.shift()).toEqual(encodeChannelData(0x4005, Buffer.from('hello'), true));

      sink.accept = false; // backpressure
      peer.socket.send(Buffer.from('dropped'), relayPort, '127.0.0.1');
      await waitFor(() => plane.counters.droppedBackpressure > 0);
      expect(plane.counters.droppedBackpressure).toBe(1);
      sink.accept = true;

      endpoint.revoke('127.0.0.1'); // also removes the channel to that peer
      peer.socket.send(Buffer.from('revoked'), relayPort, '127.0.0.1');
      await waitFor(() => plane.counters.droppedNoPermission > 1);
      expect(sink.frames).toHaveLength(0);
      expect(plane.counters.byTransport.tcp).toMatchObject({ peerToClientPackets: 2, peerToClientBytes: 8 });
    } finally {
      endpoint.close();
      peer.close();
    }
  });

  test('client ChannelData reaches the bound peer; unknown or expired channels are dropped', async () => {
    const { plane, endpoint } = await setup();
    const peer = await startPeer();
    try {
      endpoint.fromClientChannelData(encodeChannelData(0x4006, Buffer.from('nobody'), true));
      expect(plane.counters.droppedNoChannel).toBe(1);
      endpoint.bindChannel(0x4006, '127.0.0.1', peer.port, Date.now() + 60_000);
      endpoint.fromClientChannelData(encodeChannelData(0x4006, Buffer.from('no permission yet'), true));
      expect(plane.counters.droppedNoPermission).toBe(1); // a channel alone is not a permission
      endpoint.permit('127.0.0.1', Date.now() + 60_000);
      endpoint.fromClientChannelData(encodeChannelData(0x4006, Buffer.from('to peer'), true));
      expect((await peer.next()).data.toString()).toBe('to peer'); // padding stripped
      endpoint.bindChannel(0x4007, '127.0.0.1', peer.port + 1, Date.now() - 1);
      endpoint.fromClientChannelData(encodeChannelData(0x4007, Buffer.from('expired'), true));
      expect(plane.counters.droppedNoChannel).toBe(2);
      // A header that claims more bytes than the frame holds is ignored.
      const truncated = encodeChannelData(0x4006, Buffer.from('abcdef'), false).subarray(0, 7);
      endpoint.fromClientChannelData(truncated);
      expect(plane.counters.byTransport.tcp.clientToPeerPackets).toBe(1);
    } finally {
      endpoint.close();
      peer.close();
    }
  });
});
