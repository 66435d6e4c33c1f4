// `npm run controlplane`: starts the same control plane the k8s tests use
// (etcd, kube-apiserver, kube-controller-manager on free loopback ports) and
// keeps it up until Ctrl-C, for trying the operator or kubectl by hand.
// `npm run controlplane -- --node` starts the pod tests' cluster instead: the
// same components plus a real node, all in a network namespace of their own.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane } from '../test/k8s/harness/control-plane.js';

function residentMiB(pid: number | undefined): string {
  if (pid === undefined) return '?';
  try {
    const kib = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib ? `${(Number(kib) / 1024).toFixed(0)} MiB` : '?';
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--node');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]} (usage: npm run controlplane [-- --node])`);
  const node = args.includes('--node');
  const started = Date.now();
  const cluster = await startControlPlane({ node });
  const pids = cluster.pids();
  const kubectl = join(cluster.binDir, 'kubectl');
  process.stdout.write(
    [
      `control plane ready in ${((Date.now() - started) / 1000).toFixed(1)} s at ${cluster.server}`,
      `resident memory: etcd ${residentMiB(pids.etcd)}, kube-apiserver ${residentMiB(pids.kubeApiServer)}, ` +
        `kube-controller-manager ${residentMiB(pids.kubeControllerManager)}`,
      `logs: ${join(cluster.dir, 'logs')}`,
      `kubeconfig (system:masters admin): ${cluster.kubeconfigPath}`,
      '',
      `  export KUBECONFIG=${cluster.kubeconfigPath}`,
      `  ${existsSync(kubectl) ? kubectl : 'kubectl'} get ${node ? 'nodes' : 'namespaces'}`,
      ...(cluster.node
        ? [
            '',
            `node ${cluster.node.name} (${cluster.node.ip}) in network namespace ${cluster.node.netns.name}; clients run inside it:`,
            `  nsenter --net=${cluster.node.netns.path} turnutils_uclient ...`,
            `images: ${cluster.node.images.map((image) => image.name).join(', ')}`,
          ]
        : []),
      '',
      'Ctrl-C stops it and deletes its data.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the control plane\n`);
    cluster.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
