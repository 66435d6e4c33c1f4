// The per-file state of a pods test whose Chromium calls must outlive a
// scale-down (drain, autoscaling): cluster clients, an operator to reconcile
// the file's TurnRelay, one browser in the node's namespace, and what the
// file leaves open for afterAll to close.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Browser } from 'playwright-core';
import { launchChromium, openTurnCall, type TurnCall } from '../../interop/harness/chromium.js';
import { ChildSet } from '../../interop/harness/children.js';
import { createTestNamespace, deleteTestNamespace, testKubeConfig } from '../../k8s/harness/cluster.js';
import { TRANSPORTS, urlFor, type IceConfiguration } from '../../k8s/ice-credentials.js';
import { adminRest } from '../../k8s/operator-fixtures.js';
import type { KubeRest } from '../../../operator/runtime/kube-rest.js';
import { useInstalledOperator } from './operator-install.js';
import { nodeNetns } from './pods-env.js';

export class CallFixture {
  kc!: KubeConfig;
  rest!: KubeRest;
  core!: CoreV1Api;
  readonly children = new ChildSet();
  /** The open calls; a test hangs up with `for (const call of calls.splice(0)) await call.close()`. */
  readonly calls: TurnCall[] = [];
  private operator: { release(): Promise<void> } | undefined;
  private browser: Browser | undefined;
  private namespace: string | undefined;

  async setUp(): Promise<void> {
    this.kc = testKubeConfig();
    this.rest = await adminRest(this.kc);
    this.core = this.kc.makeApiClient(CoreV1Api);
    this.operator = await useInstalledOperator(this.kc);
  }

  async tearDown(): Promise<void> {
    for (const call of this.calls) await call.close().catch(() => undefined);
    await this.browser?.close();
    await this.children.stopAll();
    if (this.namespace) await deleteTestNamespace(this.namespace);
    await this.operator?.release();
  }

  /** The file's namespace, deleted in afterAll. */
  async createNamespace(prefix: string): Promise<string> {
    this.namespace = await createTestNamespace(prefix);
    return this.namespace;
  }

  /** A relay-only Chromium call over one transport with the minted ICE servers, added to `calls`. */
  async openCall(ice: IceConfiguration, transport: 'udp' | 'tcp' | 'tls', marker: string): Promise<TurnCall> {
    this.browser ??= await launchChromium({ netnsPath: nodeNetns() });
    const { username, credential } = ice.iceServers[0]!;
    const call = await openTurnCall(this.browser, {
      iceServer: {
        urls: urlFor(
          ice,
          TRANSPORTS.find((t) => t.name === transport)!,
        ),
        username,
        credential,
      },
      marker,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    this.calls.push(call);
    return call;
  }
}

/** A CallFixture set up in beforeAll and torn down in afterAll (before the file's own later afterAll hooks). */
export function useCallFixture(): CallFixture {
  const fixture = new CallFixture();
  beforeAll(() => fixture.setUp(), 300_000);
  afterAll(() => fixture.tearDown(), 300_000);
  return fixture;
}
