// A thin JSON REST client for the Kubernetes API. The generated clients of
// @kubernetes/client-node 2.x build a new connection pool for every request
// and deserialize into classes (dates become Date objects); the operator needs
// raw objects (managedFields, our own CRD) and reused connections, so reads
// and writes go through this client, while watches use the library's
// Watch/ListWatch. Authentication and TLS settings still come from KubeConfig.
import http from 'node:http';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/** A kubeconfig from `file`, else the default chain (in-cluster, $KUBECONFIG, ~/.kube/config). */
export function loadKubeConfig(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.code === 409;
}

export const CONTENT = {
  json: 'application/json',
  merge: 'application/merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export type RequestObserver = (method: string, path: string, status: number) => void;

export interface KubeList<T> {
  items: T[];
  metadata?: { resourceVersion?: string; continue?: string };
}

const TIMEOUT_MS = 30_000;

export class KubeRest {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly observers: RequestObserver[] = [];

  constructor(
    private readonly kc: KubeConfig,
    tls: https.AgentOptions,
    private readonly userAgent = 'turnrelay',
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.base = new URL(cluster.server);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: 16, ...tls });
  }

  /** `userAgent` shows up in API server audit logs and lets tests tell clients apart. */
  static async fromKubeConfig(kc: KubeConfig, userAgent?: string): Promise<KubeRest> {
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const { ca, cert, key, rejectUnauthorized, servername } = opts;
    return new KubeRest(kc, { ca, cert, key, rejectUnauthorized, servername }, userAgent);
  }

  /** Called after every request (metrics; tests count writes with it). */
  observe(fn: RequestObserver): void {
    this.observers.push(fn);
  }

  close(): void {
    this.agent.destroy();
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    // Headers are rebuilt per request so rotating tokens (in-cluster) are picked up.
    const auth: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(auth);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'User-Agent': this.userAgent,
      ...(auth.headers as Record<string, string> | undefined),
    };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['Content-Type'] = opts.contentType ?? CONTENT.json;
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const mod = url.protocol === 'https:' ? https : http;
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = mod.request(
        url,
        { method, headers, agent: this.agent, timeout: TIMEOUT_MS, signal: opts.signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out after ${TIMEOUT_MS} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
    for (const o of this.observers) o(method, url.pathname, status);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 400 || status === 0) {
      const st = parsed as { message?: string; reason?: string } | undefined;
      throw new KubeApiError(
        status,
        st?.reason,
        `${method} ${url.pathname}: ${status} ${st?.message ?? text.slice(0, 200)}`,
      );
    }
    return parsed as T;
  }

  get<T>(path: string, opts?: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, opts);
  }

  /** GET that maps 404 to undefined. */
  async find<T>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Lists every page of a collection. */
  async list<T>(path: string, query: Record<string, string | undefined> = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      // A page's items may come as null (an empty Go slice), so they are read defensively.
      const page = await this.get<Omit<KubeList<T>, 'items'> & { items?: T[] | null }>(path, {
        query: { ...query, limit: 500, continue: cont },
      });
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion;
    } while (cont);
    return { items, metadata: { resourceVersion: rv } };
  }
}
