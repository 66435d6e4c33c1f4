// A TURN client (RFC 8656) over UDP, TCP or TLS, built on the relay's own
// codec: what `turnrelay check` uses to test an ICE server the way a browser
// would. Every failure is a TurnClientError naming the step and the cause
// (DNS, connect, TLS name mismatch, TLS certificate, timeout, or the STUN
// error code), so the caller can report it without guessing.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect } from 'node:tls';
import { randomBytes } from 'node:crypto';
import { AttributeType, MessageClass, Method } from '../stun/constants.js';
import { decodeStunMessage, StunMessageBuilder, type StunMessage } from '../stun/message.js';
import { decodeErrorCode } from '../stun/attributes/error-code.js';
import { decodeXorAddress, encodeXorAddress, type TransportAddress } from '../stun/attributes/xor-address.js';
import { encodeRequestedTransport } from '../stun/attributes/requested-transport.js';
import { encodeData } from '../stun/attributes/data.js';
import { StreamFramer } from '../stun/stream-framer.js';
import { longTermKey } from '../server/authenticate.js';

export type ClientTransport = 'udp' | 'tcp' | 'tls';
export type FailureKind = 'dns' | 'connect' | 'tls-name' | 'tls-certificate' | 'timeout' | 'stun-error' | 'protocol';

export class TurnClientError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

export interface TurnServerAddress {
  transport: ClientTransport;
  host: string;
  port: number;
  /** Trusted CA certificates for TLS (default: the system store). */
  ca?: string;
}

const UDP_RETRANSMIT_MS = 500;

function connectFailure(err: NodeJS.ErrnoException, where: string): TurnClientError {
  const code = err.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return new TurnClientError('tls-name', `TLS name mismatch at ${where}: ${err.message}`);
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_SSL|ERR_TLS/.test(code))
    return new TurnClientError('tls-certificate', `TLS certificate of ${where} not trusted: ${err.message}`);
  if (code === 'ETIMEDOUT') return new TurnClientError('timeout', `connecting to ${where} timed out`);
  return new TurnClientError('connect', `cannot connect to ${where}: ${code || err.message}`);
}

/** The first address `host` resolves to (a literal IP as is). */
export async function resolveHost(host: string): Promise<string> {
  if (isIP(host)) return host;
  try {
    return (await lookup(host)).address;
  } catch (err) {
    throw new TurnClientError(
      'dns',
      `cannot resolve ${host}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

export interface DataIndication {
  peer: TransportAddress;
  data: Buffer;
}

export class TurnClient {
  /** Answers by transaction id; undefined once the client has failed. */
  private readonly pending = new Map<string, (m: StunMessage | undefined) => void>();
  private readonly dataWaiters: Array<(d: DataIndication) => void> = [];
  private readonly received: DataIndication[] = [];
  private realm = '';
  private nonce = '';
  private username = '';
  private password = '';
  private closed = false;

  private constructor(
    readonly transport: ClientTransport,
    private readonly rawWrite: (b: Buffer) => void,
    private readonly closer: () => void,
    private readonly timeoutMs: number,
  ) {}

  /** Connects (resolving DNS, verifying TLS against `server.host`). */
  static async connect(server: TurnServerAddress, timeoutMs: number): Promise<TurnClient> {
    const address = await resolveHost(server.host);
    const where = `${server.host}:${server.port}`;
    if (server.transport === 'udp') {
      const socket: UdpSocket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', (err) => reject(connectFailure(err, where)));
        socket.connect(server.port, address, () => resolve());
      });
      const c = new TurnClient(
        'udp',
        (b) => socket.send(b),
        () => socket.close(),
        timeoutMs,
      );
      socket.on('message', (m) => c.onFrame(m));
      // An ICMP port unreachable surfaces as ECONNREFUSED on a connected socket.
      socket.on('error', (err) => c.fail(connectFailure(err, where)));
      return c;
    }
    const socket: Socket = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        s.destroy();
        reject(new TurnClientError('timeout', `connecting to ${where} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve(s);
      };
      const s: Socket =
        server.transport === 'tcp'
          ? tcpConnect({ port: server.port, host: address }, done)
          : tlsConnect(
              {
                port: server.port,
                host: address,
                servername: isIP(server.host) ? '' : server.host,
                minVersion: 'TLSv1.2',
                ...(server.ca ? { ca: server.ca } : {}),
                // Check the certificate against the name in the URL, not the address it resolved to.
                checkServerIdentity: (_h, cert) => checkServerIdentity(server.host, cert),
              },
              done,
            );
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectFailure(err, where));
      });
    });
    const c = new TurnClient(
      server.transport,
      (b) => socket.write(b),
      () => socket.destroy(),
      timeoutMs,
    );
    const framer = new StreamFramer((f) => c.onFrame(f));
    socket.on('data', (d: Buffer) => {
      try {
        framer.push(d);
      } catch {
        c.fail(new TurnClientError('protocol', `${where} sent bytes that are neither STUN nor ChannelData`));
      }
    });
    socket.on('error', (err) => c.fail(connectFailure(err, where)));
    socket.on('close', () => c.fail(new TurnClientError('connect', `${where} closed the connection`)));
    return c;
  }

  private failure: TurnClientError | undefined;

  /** Sends unless closed or failed; a socket that throws (closed underneath) fails the client instead. */
  private write(b: Buffer): void {
    if (this.closed || this.failure) return;
    try {
      this.rawWrite(b);
    } catch (err) {
      this.fail(new TurnClientError('connect', `send failed: ${(err as Error).message}`));
    }
  }

  private fail(err: TurnClientError): void {
    if (this.closed || this.failure) return;
    this.failure = err;
    for (const cb of this.pending.values()) cb(undefined);
    this.pending.clear();
  }

  private onFrame(buf: Buffer): void {
    let m: StunMessage;
    try {
      m = decodeStunMessage(buf);
    } catch {
      return; // not for us (or ChannelData, which this client never binds)
    }
    if (m.cls === MessageClass.SuccessResponse || m.cls === MessageClass.ErrorResponse) {
      const key = m.transactionId.toString('hex');
      const cb = this.pending.get(key);
      if (cb) {
        this.pending.delete(key);
        cb(m);
      }
    } else if (m.cls === MessageClass.Indication && m.method === Method.Data) {
      const peerAttr = m.get(AttributeType.XorPeerAddress);
      const data = m.get(AttributeType.Data);
      if (!peerAttr || !data) return;
      const d = { peer: decodeXorAddress(peerAttr, m.transactionId), data: Buffer.from(data) };
      const waiter = this.dataWaiters.shift();
      if (waiter) waiter(d);
      else if (this.received.length < 64) this.received.push(d);
    }
  }

  private build(
    method: number,
    attrs: Array<[number, Buffer]>,
    tid: Buffer = randomBytes(12),
    cls: 0 | 1 = MessageClass.Request,
  ): Buffer {
    const b = new StunMessageBuilder(method, cls, tid);
    for (const [t, v] of attrs) b.add(t, v);
    if (cls === MessageClass.Request && this.nonce) {
      b.add(AttributeType.Username, Buffer.from(this.username));
      b.add(AttributeType.Realm, Buffer.from(this.realm));
      b.add(AttributeType.Nonce, Buffer.from(this.nonce));
      return b.build({ integrityKey: longTermKey(this.username, this.realm, this.password), fingerprint: true });
    }
    return b.build({ fingerprint: true });
  }

  private transact(what: string, make: (tid: Buffer) => Buffer): Promise<StunMessage> {
    if (this.failure) return Promise.reject(this.failure);
    const tid = randomBytes(12);
    const buf = make(tid);
    const key = tid.toString('hex');
    return new Promise<StunMessage>((resolve, reject) => {
      const retransmit =
        this.transport === 'udp'
          ? setInterval(() => (this.closed ? clearInterval(retransmit) : this.write(buf)), UDP_RETRANSMIT_MS)
          : undefined;
      const timer = setTimeout(() => {
        clearInterval(retransmit);
        this.pending.delete(key);
        reject(new TurnClientError('timeout', `no answer to ${what} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(key, (m) => {
        clearTimeout(timer);
        clearInterval(retransmit);
        if (m) resolve(m);
        else reject(this.failure!);
      });
      this.write(buf);
    });
  }

  /** A request with long-term credentials, following one 401/438 challenge for REALM and NONCE. */
  private async request(
    what: string,
    method: number,
    attrs: (tid: Buffer) => Array<[number, Buffer]>,
  ): Promise<StunMessage> {
    let res = await this.transact(what, (tid) => this.build(method, attrs(tid), tid));
    const code = errorCode(res)?.code;
    if (code === 401 || code === 438) {
      const realm = res.get(AttributeType.Realm);
      const nonce = res.get(AttributeType.Nonce);
      if (!realm || !nonce) throw new TurnClientError('protocol', `${what}: ${code} without REALM/NONCE`);
      this.realm = realm.toString();
      this.nonce = nonce.toString();
      // Once more with credentials; a second 401 means they are wrong.
      res = await this.transact(what, (tid) => this.build(method, attrs(tid), tid));
    }
    if (res.cls === MessageClass.ErrorResponse) throw stunFailure(what, res);
    return res;
  }

  /** Allocates a UDP relayed address; returns it. */
  async allocate(username: string, password: string): Promise<TransportAddress> {
    this.username = username;
    this.password = password;
    const res = await this.request('Allocate', Method.Allocate, () => [
      [AttributeType.RequestedTransport, encodeRequestedTransport(17)],
    ]);
    const relayed = res.get(AttributeType.XorRelayedAddress);
    if (!relayed) throw new TurnClientError('protocol', 'Allocate succeeded without XOR-RELAYED-ADDRESS');
    return decodeXorAddress(relayed, res.transactionId);
  }

  async createPermission(peer: TransportAddress): Promise<void> {
    await this.request('CreatePermission', Method.CreatePermission, (tid) => [
      [AttributeType.XorPeerAddress, encodeXorAddress(peer, tid)],
    ]);
  }

  /** A Binding request (what a stun: URL is used for): the server-reflexive address. */
  async binding(): Promise<TransportAddress> {
    const res = await this.transact('Binding', (tid) => this.build(Method.Binding, [], tid));
    const mapped = res.get(AttributeType.XorMappedAddress);
    if (res.cls === MessageClass.ErrorResponse || !mapped) throw stunFailure('Binding', res);
    return decodeXorAddress(mapped, res.transactionId);
  }

  send(peer: TransportAddress, data: Buffer): void {
    const tid = randomBytes(12);
    this.write(
      this.build(
        Method.Send,
        [
          [AttributeType.XorPeerAddress, encodeXorAddress(peer, tid)],
          [AttributeType.Data, encodeData(data)],
        ],
        tid,
        MessageClass.Indication,
      ),
    );
  }

  /** The next Data indication (relayed from a peer). */
  nextData(): Promise<DataIndication> {
    const ready = this.received.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.dataWaiters.indexOf(done);
        if (i >= 0) this.dataWaiters.splice(i, 1);
        reject(new TurnClientError('timeout', `no relayed data within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const done = (d: DataIndication) => {
        clearTimeout(timer);
        resolve(d);
      };
      this.dataWaiters.push(done);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closer();
  }
}

function errorCode(m: StunMessage): { code: number; reason: string } | undefined {
  const v = m.get(AttributeType.ErrorCode);
  if (!v) return undefined;
  try {
    return decodeErrorCode(v);
  } catch {
    return undefined;
  }
}

function stunFailure(what: string, m: StunMessage): TurnClientError {
  const e = errorCode(m);
  if (!e) return new TurnClientError('protocol', `${what} failed without an ERROR-CODE`);
  return new TurnClientError('stun-error', `${what} refused: ${e.code}${e.reason ? ` ${e.reason}` : ''}`, e.code);
}
