// A small TURN client built on the relay's own codec, for protocol behaviour
// real clients cannot show (401 then success, stale nonces, retransmissions,
// quota and policy errors). UDP, TCP and TLS.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { AttributeType, MessageClass, Method, type MessageClassValue } from '../../../../relay/stun/constants.js';
import { decodeStunMessage, StunMessageBuilder, type StunMessage } from '../../../../relay/stun/message.js';
import { decodeErrorCode } from '../../../../relay/stun/attributes/error-code.js';
import {
  decodeXorAddress,
  encodeXorAddress,
  type TransportAddress,
} from '../../../../relay/stun/attributes/xor-address.js';
import { encodeRequestedTransport } from '../../../../relay/stun/attributes/requested-transport.js';
import { encodeLifetime, decodeLifetime } from '../../../../relay/stun/attributes/lifetime.js';
import { encodeChannelNumber } from '../../../../relay/stun/attributes/channel-number.js';
import { encodeData } from '../../../../relay/stun/attributes/data.js';
import { encodeChannelData, decodeChannelData } from '../../../../relay/stun/channel-data.js';
import { StreamFramer } from '../../../../relay/stun/stream-framer.js';
import { longTermKey } from '../../../../relay/server/authenticate.js';

export type Attr = [number, Buffer];

/**
 * Attributes build() adds itself (credentials, integrity, fingerprint). Random
 * requests leave them out: a random USERNAME placed first would win and turn
 * the request into a 401.
 */
export const CLIENT_OWN_ATTRIBUTES: readonly number[] = [
  AttributeType.MessageIntegrity,
  AttributeType.MessageIntegritySha256,
  AttributeType.Fingerprint,
  AttributeType.Username,
  AttributeType.Realm,
  AttributeType.Nonce,
];

/** Every known attribute type a random request may carry. */
export const RANDOM_ATTRIBUTE_TYPES = Object.values(AttributeType).filter((t) => !CLIENT_OWN_ATTRIBUTES.includes(t));

export interface Received {
  kind: 'stun' | 'channel';
  buf: Buffer;
}

export class TurnTestClient {
  private pending = new Map<string, (m: StunMessage) => void>();
  readonly inbox: Received[] = [];
  private waiters: Array<() => void> = [];
  username = '';
  password = '';
  realm = '';
  nonce = '';
  sha256 = false;
  /** The TCP/TLS socket; undefined for UDP. */
  streamSocket: Socket | undefined;
  /** The UDP client's local port (0 for streams). */
  localPort = 0;

  private constructor(
    private readonly transport: 'udp' | 'tcp' | 'tls',
    private readonly write: (b: Buffer) => void,
    private readonly closer: () => void,
  ) {}

  /** `localHost`: the address the client binds (default: `host`, the server's). */
  static async udp(port: number, host = '127.0.0.1', localHost = host): Promise<TurnTestClient> {
    const socket: UdpSocket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((r) => socket.bind(0, localHost, () => r()));
    const c = new TurnTestClient(
      'udp',
      (b) => socket.send(b, port, host),
      () => socket.close(),
    );
    c.localPort = socket.address().port;
    socket.on('message', (m) => c.onFrame(m));
    return c;
  }

  /** `servername` is the name the TLS certificate is checked against (null: the host address itself). */
  static async stream(
    kind: 'tcp' | 'tls',
    port: number,
    opts: { ca?: string; host?: string; servername?: string | null } = {},
  ): Promise<TurnTestClient> {
    const host = opts.host ?? '127.0.0.1';
    const socket: Socket = await new Promise((resolve, reject) => {
      const s =
        kind === 'tcp'
          ? tcpConnect({ port, host }, () => resolve(s))
          : tlsConnect(
              {
                port,
                host,
                ca: opts.ca,
                servername: opts.servername === null ? undefined : (opts.servername ?? 'localhost'),
              },
              () => resolve(s),
            );
      s.once('error', reject);
    });
    const c = new TurnTestClient(
      kind,
      (b) => socket.write(b),
      () => socket.destroy(),
    );
    const framer = new StreamFramer((f) => c.onFrame(f));
    socket.on('data', (d: Buffer) => framer.push(d));
    socket.on('error', () => {});
    c.streamSocket = socket;
    return c;
  }

  private onFrame(buf: Buffer): void {
    if ((buf[0]! & 0xc0) === 0) {
      try {
        const m = decodeStunMessage(buf);
        if (m.cls === MessageClass.SuccessResponse || m.cls === MessageClass.ErrorResponse) {
          const cb = this.pending.get(m.transactionId.toString('hex'));
          if (cb) {
            this.pending.delete(m.transactionId.toString('hex'));
            cb(m);
            return;
          }
        }
      } catch {
        /* fall through to inbox */
      }
      this.inbox.push({ kind: 'stun', buf });
    } else {
      this.inbox.push({ kind: 'channel', buf });
    }
    for (const w of this.waiters.splice(0)) w();
  }

  sendRaw(buf: Buffer): void {
    this.write(buf);
  }

  /** Builds a request; with `authenticated`, adds USERNAME/REALM/NONCE and integrity from the stored credentials. */
  build(
    method: number,
    attrs: Attr[],
    opts: { authenticated?: boolean; cls?: MessageClassValue; tid?: Buffer } = {},
  ): Buffer {
    const b = new StunMessageBuilder(method, opts.cls ?? MessageClass.Request, opts.tid ?? randomBytes(12));
    for (const [t, v] of attrs) b.add(t, v);
    if (opts.authenticated) {
      b.add(AttributeType.Username, Buffer.from(this.username));
      b.add(AttributeType.Realm, Buffer.from(this.realm));
      b.add(AttributeType.Nonce, Buffer.from(this.nonce));
      return b.build({
        integrityKey: longTermKey(this.username, this.realm, this.password),
        sha256: this.sha256,
        fingerprint: true,
      });
    }
    return b.build({ fingerprint: true });
  }

  /** Sends a request and waits for the response with the same transaction id. */
  async transact(buf: Buffer, timeoutMs = 3000): Promise<StunMessage> {
    const tid = buf.subarray(8, 20).toString('hex');
    const p = new Promise<StunMessage>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(tid);
        reject(new Error(`no response within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(tid, (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
    this.write(buf);
    return p;
  }

  /** Authenticated request; follows one 401/438 challenge by picking up REALM and NONCE. */
  async request(method: number, attrs: Attr[]): Promise<StunMessage> {
    let res = await this.transact(this.build(method, attrs, { authenticated: this.nonce !== '' }));
    const code = errorCodeOf(res);
    if (code === 401 || code === 438) {
      this.realm = res.get(AttributeType.Realm)!.toString();
      this.nonce = res.get(AttributeType.Nonce)!.toString();
      res = await this.transact(this.build(method, attrs, { authenticated: true }));
    }
    return res;
  }

  async allocate(username: string, password: string, extra: Attr[] = []): Promise<StunMessage> {
    this.username = username;
    this.password = password;
    return this.request(Method.Allocate, [[AttributeType.RequestedTransport, encodeRequestedTransport(17)], ...extra]);
  }

  relayedAddress(res: StunMessage): TransportAddress {
    return decodeXorAddress(res.get(AttributeType.XorRelayedAddress)!, res.transactionId);
  }

  lifetimeOf(res: StunMessage): number {
    return decodeLifetime(res.get(AttributeType.Lifetime)!);
  }

  createPermission(...peers: Array<{ address: string; port: number }>): Promise<StunMessage> {
    const tid = randomBytes(12);
    return this.transact(
      this.build(
        Method.CreatePermission,
        peers.map((p) => [AttributeType.XorPeerAddress, encodeXorAddress(p, tid)] as Attr),
        { authenticated: true, tid },
      ),
    );
  }

  channelBind(channel: number, peer: { address: string; port: number }): Promise<StunMessage> {
    const tid = randomBytes(12);
    return this.transact(
      this.build(
        Method.ChannelBind,
        [
          [AttributeType.ChannelNumber, encodeChannelNumber(channel)],
          [AttributeType.XorPeerAddress, encodeXorAddress(peer, tid)],
        ],
        { authenticated: true, tid },
      ),
    );
  }

  refresh(lifetime?: number): Promise<StunMessage> {
    return this.transact(
      this.build(Method.Refresh, lifetime === undefined ? [] : [[AttributeType.Lifetime, encodeLifetime(lifetime)]], {
        authenticated: true,
      }),
    );
  }

  sendIndication(peer: { address: string; port: number }, data: Buffer): void {
    const tid = randomBytes(12);
    this.write(
      this.build(
        Method.Send,
        [
          [AttributeType.XorPeerAddress, encodeXorAddress(peer, tid)],
          [AttributeType.Data, encodeData(data)],
        ],
        { cls: MessageClass.Indication, tid },
      ),
    );
  }

  sendChannelData(channel: number, data: Buffer): void {
    this.write(encodeChannelData(channel, data, this.transport !== 'udp'));
  }

  /** Waits for the next inbox item matching `pred` (removes it). */
  async next(pred: (r: Received) => boolean = () => true, timeoutMs = 3000): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** Payload of the next Data indication or ChannelData. */
  async nextData(timeoutMs = 3000): Promise<{ data: Buffer; channel?: number; peer?: TransportAddress }> {
    const r = await this.next(() => true, timeoutMs);
    if (r.kind === 'channel') {
      const cd = decodeChannelData(r.buf)!;
      return { data: Buffer.from(cd.data), channel: cd.channel };
    }
    const m = decodeStunMessage(r.buf);
    if (m.method !== Method.Data) throw new Error(`unexpected STUN method ${m.method}`);
    return {
      data: Buffer.from(m.get(AttributeType.Data)!),
      peer: decodeXorAddress(m.get(AttributeType.XorPeerAddress)!, m.transactionId),
    };
  }

  close(): void {
    this.closer();
  }
}

export function errorCodeOf(m: StunMessage): number | undefined {
  const v = m.get(AttributeType.ErrorCode);
  return v ? decodeErrorCode(v).code : undefined;
}

export function isSuccess(m: StunMessage): boolean {
  return m.cls === MessageClass.SuccessResponse;
}

export { Method, AttributeType, MessageClass };
