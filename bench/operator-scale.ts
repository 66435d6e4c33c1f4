// Operator scale benchmark (not a test): N TurnRelays exist before the
// operator starts; measure the time until every one has a Ready condition
// for its current generation, the operator's peak memory, and how many API
// requests it needed per TurnRelay. Runs against a private control plane.
//
//   npm run bench:operator [-- --relays 500 --workers 4]
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { startControlPlane } from '../test/k8s/harness/control-plane.js';
import { createLogger } from '../shared/log.js';
import { startOperator } from '../operator/main.js';
import { KubeRest } from '../operator/runtime/kube-rest.js';
import { installTurnRelayCrd, relayObject } from '../test/k8s/operator-fixtures.js';

const { values } = parseArgs({
  options: { relays: { type: 'string', default: '500' }, workers: { type: 'string', default: '4' } },
});
const RELAYS = Number(values.relays);
const WORKERS = Number(values.workers);
const NS = 'bench';

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function main(): Promise<void> {
  const cp = await startControlPlane();
  const kc = new KubeConfig();
  kc.loadFromFile(cp.kubeconfigPath);
  const rest = await KubeRest.fromKubeConfig(kc, 'turnrelay-bench');
  try {
    await installTurnRelayCrd(rest);
    await rest.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } });
    // The harness's service range (/24) holds fewer Services than relays: add
    // a second range through the ServiceCIDR API (GA since Kubernetes 1.33).
    await rest.request('POST', '/apis/networking.k8s.io/v1/servicecidrs', {
      body: { metadata: { name: 'bench' }, spec: { cidrs: ['10.96.0.0/20'] } },
    });
    const names = Array.from({ length: RELAYS }, (_, i) => `relay-${String(i).padStart(4, '0')}`);
    const t0 = Date.now();
    await inParallel(names, 16, (name) =>
      rest.request('POST', `/apis/turnrelay.dev/v1alpha1/namespaces/${NS}/turnrelays`, {
        body: {
          ...relayObject(name, {
            realm: 'turn.example.com',
            listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }],
          }),
          metadata: { name, namespace: NS },
        },
      }),
    );
    process.stdout.write(`created ${RELAYS} TurnRelays in ${Date.now() - t0} ms (operator not running yet)\n`);

    const baseRss = process.memoryUsage().rss;
    let peakRss = baseRss;
    let peakHeap = process.memoryUsage().heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 50);

    const start = Date.now();
    const op = await startOperator({
      kubeConfig: kc,
      namespace: NS,
      workers: WORKERS,
      image: 'registry.example/turnrelay:bench',
      log: createLogger('operator', 'warn'),
    });
    let evaluated = 0;
    while (evaluated < RELAYS) {
      await new Promise((r) => setTimeout(r, 250));
      const list = await rest.list<{
        metadata: { generation?: number };
        status?: { observedGeneration?: number; conditions?: Array<{ type: string }> };
      }>(`/apis/turnrelay.dev/v1alpha1/namespaces/${NS}/turnrelays`);
      evaluated = list.items.filter(
        (r) =>
          r.status?.observedGeneration === r.metadata.generation &&
          r.status?.conditions?.some((c) => c.type === 'Ready'),
      ).length;
    }
    const elapsed = Date.now() - start;
    // Let follow-up events (Deployment status from the controller manager) settle, then count.
    await new Promise((r) => setTimeout(r, 5_000));
    clearInterval(sampler);

    const requests = (await op.metrics.apiRequests.get()).values;
    const byMethod = new Map<string, number>();
    for (const v of requests)
      byMethod.set(String(v.labels.method), (byMethod.get(String(v.labels.method)) ?? 0) + v.value);
    const total = [...byMethod.values()].reduce((a, b) => a + b, 0);
    const reconciles = (await op.metrics.reconciles.get()).values.reduce((a, v) => a + v.value, 0);
    await op.stop();

    const mib = (b: number) => `${(b / 1048576).toFixed(0)} MiB`;
    process.stdout.write(
      [
        `TurnRelays: ${RELAYS}, workers: ${WORKERS}`,
        `time to all Ready-evaluated (observedGeneration current, Ready condition set): ${(elapsed / 1000).toFixed(1)} s`,
        `reconciles: ${reconciles} (${(reconciles / RELAYS).toFixed(1)} per TurnRelay, including the 5 s settle)`,
        `API requests (excluding watches): ${total} = ${(total / RELAYS).toFixed(1)} per TurnRelay; by method: ${[...byMethod].map(([m, n]) => `${m} ${n} (${(n / RELAYS).toFixed(1)})`).join(', ')}`,
        `peak RSS of the operator process: ${mib(peakRss)} (${mib(baseRss)} before the operator started); peak heap used: ${mib(peakHeap)}`,
        '',
      ].join('\n'),
    );
  } finally {
    rest.close();
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`operator-scale: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
