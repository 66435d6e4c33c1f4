// A real Prometheus server (and promtool) built from its Go module by
// test/tools/prometheus/build.sh, started on a free port with a scrape config
// and rule files the test writes, queried through its HTTP API.
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ChildSet, StartedChild } from '../../interop/harness/children.js';
import { freeUdpTcpPort } from '../../interop/harness/ports.js';
import { findRepoRoot } from '../../interop/harness/repo-root.js';

export interface StaticTarget {
  address: string;
  labels: Record<string, string>;
}

export interface PrometheusServer {
  child: StartedChild;
  /** Instant query; the result vector (empty when the expression returns no data). */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
}

export function prometheusBinaries(): { prometheus: string; promtool: string } {
  const dir = execFileSync('bash', [join(findRepoRoot(import.meta.url), 'test/tools/prometheus/build.sh')], {
    encoding: 'utf8',
  }).trim();
  return { prometheus: join(dir, 'prometheus'), promtool: join(dir, 'promtool') };
}

export async function startPrometheus(
  children: ChildSet,
  dir: string,
  jobs: Record<string, StaticTarget[]>,
  ruleFiles: string[],
): Promise<PrometheusServer> {
  const { prometheus } = prometheusBinaries();
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
    rule_files: ruleFiles,
    scrape_configs: Object.entries(jobs).map(([job, targets]) => ({
      job_name: job,
      static_configs: targets.map((t) => ({ targets: [t.address], labels: t.labels })),
    })),
  };
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(configFile, stringify(config));
  const port = await freeUdpTcpPort('127.0.0.1');
  const base = `http://127.0.0.1:${port}`;
  const child = children.start(prometheus, [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${base}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`prometheus did not become ready:\n${child.tail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    child,
    async query(expr) {
      const response = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query: expr }).toString()}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { resultType: string; result: unknown };
      };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
      const result = body.data!.result;
      if (body.data!.resultType === 'scalar') return [{ metric: {}, value: result as [number, string] }];
      return result as Array<{ metric: Record<string, string>; value: [number, string] }>;
    },
  };
}
