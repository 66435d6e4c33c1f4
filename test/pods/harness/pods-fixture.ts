// The per-file state of a pods test: cluster clients, an operator to reconcile
// the file's TurnRelays, one Chromium in the node's namespace, and what the
// file leaves open (calls, child processes, namespaces) for afterAll to close.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Browser } from 'playwright-core';
import { launchChromium, openTurnCall, runTurnPair, type TurnCall } from '../../interop/harness/chromium.js';
import { ChildSet } from '../../interop/harness/children.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from '../../k8s/harness/cluster.js';
import { expectRelayed, TRANSPORTS, urlFor, type IceConfiguration } from '../../k8s/ice-credentials.js';
import { adminRest } from '../../k8s/operator-fixtures.js';
import type { KubeRest } from '../../../operator/runtime/kube-rest.js';
import { useInstalledOperator } from './operator-install.js';
import { relayToEchoPeer, startEchoPeer } from './relay-clients.js';
import { nodeNetns } from './pods-env.js';

type Transport = 'udp' | 'tcp' | 'tls';

/** The minted ICE server narrowed to one transport's URLs. */
function iceServerFor(ice: IceConfiguration, transport: Transport) {
  const { username, credential } = ice.iceServers[0]!;
  return {
    urls: urlFor(
      ice,
      TRANSPORTS.find((t) => t.name === transport)!,
    ),
    username,
    credential,
  };
}

export class PodsFixture {
  kc!: KubeConfig;
  rest!: KubeRest;
  core!: CoreV1Api;
  readonly children = new ChildSet();
  /** The open calls; a test hangs up with `for (const call of calls.splice(0)) await call.close()`. */
  readonly calls: TurnCall[] = [];
  private browser: Browser | undefined;
  private readonly namespaces: string[] = [];

  /** `operator: false` for a file that installs the operator itself. */
  async setUp(options: { operator?: boolean } = {}): Promise<void> {
    this.kc = testKubeConfig();
    this.rest = await adminRest(this.kc);
    this.core = this.kc.makeApiClient(CoreV1Api);
    if (options.operator ?? true) await useInstalledOperator(this.kc);
  }

  async tearDown(): Promise<void> {
    for (const call of this.calls) await call.close().catch(() => undefined);
    await this.browser?.close();
    await this.children.stopAll();
    for (const namespace of this.namespaces) await deleteTestNamespace(namespace);
  }

  /** A new namespace for the file, deleted in afterAll (a test may delete it earlier). */
  async createNamespace(prefix: string): Promise<string> {
    const namespace = await createTestNamespace(prefix);
    this.namespaces.push(namespace);
    return namespace;
  }

  /** Chromium inside the node's namespace, where Services and pod IPs are routed. */
  async chromium(): Promise<Browser> {
    this.browser ??= await launchChromium({ netnsPath: nodeNetns() });
    return this.browser;
  }

  /** A relay-only Chromium call over one transport with the minted ICE servers, added to `calls`. */
  async openCall(ice: IceConfiguration, transport: Transport, marker: string, intervalMs = 100): Promise<TurnCall> {
    const call = await openTurnCall(await this.chromium(), {
      iceServer: iceServerFor(ice, transport),
      marker,
      timeoutMs: 30_000,
      intervalMs,
    });
    this.calls.push(call);
    return call;
  }

  /**
   * Two relay-only RTCPeerConnections exchange data-channel messages through
   * the relay, over each transport, with the ICE servers the CLI minted.
   */
  async expectChromiumRelays(ice: IceConfiguration, transports: readonly Transport[]): Promise<void> {
    for (const name of transports) {
      const result = await runTurnPair(await this.chromium(), {
        iceServer: iceServerFor(ice, name),
        messages: 20,
        marker: `pods-${name}`,
        timeoutMs: 30_000,
      });
      expectRelayed(result, name);
    }
  }

  /**
   * turnutils_uclient relays UDP and TCP through `host`:3478 to a new echo
   * peer on the node address (2 sessions x 20 messages each, none lost), then
   * Chromium relays over UDP and TCP with the same ICE servers.
   */
  async expectUdpTcpRelayed(ice: IceConfiguration, host: string): Promise<void> {
    const { username, credential } = ice.iceServers[0]!;
    const { port: peerPort, peer } = await startEchoPeer(this.children);
    expect(peer.process.exitCode).toBeNull();
    for (const transport of ['udp', 'tcp'] as const) {
      const report = await relayToEchoPeer(
        this.children,
        { host, port: 3478 },
        transport,
        { username, credential },
        peerPort,
        20,
      );
      expect({ transport, sent: report.sent, received: report.received, lost: report.lost }).toEqual({
        transport,
        sent: 40,
        received: 40,
        lost: 0,
      });
    }
    await this.expectChromiumRelays(ice, ['udp', 'tcp']);
  }
}

/** A PodsFixture set up in beforeAll and torn down in afterAll (before the file's own later afterAll hooks). */
export function usePodsFixture(options: { operator?: boolean } = {}): PodsFixture {
  const fixture = new PodsFixture();
  beforeAll(() => fixture.setUp(options), 300_000);
  afterAll(() => fixture.tearDown(), 300_000);
  return fixture;
}
