// Flux's and kpt's verdict on an object, from the real kstatus library
// (sigs.k8s.io/cli-utils/pkg/kstatus/status), through the small Go helper in
// test/tools/kstatus (built once per go.mod/go.sum/main.go by its build.sh).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BUILD = fileURLToPath(new URL('../../tools/kstatus/build.sh', import.meta.url));
let binary: string | undefined;

export function kstatusBinary(): string {
  binary ??= execFileSync('bash', [BUILD], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  return binary;
}

export interface KStatus {
  status: 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';
  message: string;
}

export function kstatus(obj: unknown): KStatus {
  const out = execFileSync(kstatusBinary(), { input: `${JSON.stringify(obj)}\n`, encoding: 'utf8' });
  const res = JSON.parse(out) as KStatus & { error?: string };
  if (res.error) throw new Error(`kstatus: ${res.error}`);
  return res;
}
