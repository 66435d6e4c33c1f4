// Counts authentication failures per client in fixed windows and refuses a
// client that failed too often. Memory is capped: past maxTrackedIps the
// least recently failing client is forgotten (Map keeps insertion order, and
// a failure re-inserts its key). IPv6 clients are counted per /64, the
// smallest block one subscriber usually gets, so rotating through one's own
// addresses does not reset the count.
import { formatIPv4, parseIp } from '../policy/ip-address.js';

interface Window {
  start: number;
  count: number;
}

export function clientBucket(ip: string): string {
  const parsed = parseIp(ip);
  if (!parsed) return ip;
  if (parsed.family === 4) return ip;
  const [w0, w1, w2, w3] = parsed.words;
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return formatIPv4(w3);
  return `${w0.toString(16)}:${w1.toString(16)}::/64`;
}

export class AuthFailureLimiter {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly maxTracked: number;
  private readonly windows = new Map<string, Window>();

  constructor(opts: { maxFailures: number; windowMs: number; maxTrackedIps?: number }) {
    this.maxFailures = opts.maxFailures;
    this.windowMs = opts.windowMs;
    this.maxTracked = opts.maxTrackedIps ?? 10_000;
    if (!(this.maxFailures >= 1 && this.windowMs > 0 && this.maxTracked >= 1)) {
      throw new Error('AuthFailureLimiter: maxFailures, windowMs and maxTrackedIps must be positive');
    }
  }

  get trackedCount(): number {
    return this.windows.size;
  }

  isBlocked(ip: string, nowMs: number): boolean {
    const w = this.windows.get(clientBucket(ip));
    return w !== undefined && nowMs - w.start < this.windowMs && w.count >= this.maxFailures;
  }

  recordFailure(ip: string, nowMs: number): void {
    const key = clientBucket(ip);
    const existing = this.windows.get(key);
    const w = existing && nowMs - existing.start < this.windowMs ? existing : { start: nowMs, count: 0 };
    w.count++;
    this.windows.delete(key);
    this.windows.set(key, w);
    if (this.windows.size > this.maxTracked) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
  }

  /** Forgets a client (e.g. after it authenticated successfully). */
  reset(ip: string): void {
    this.windows.delete(clientBucket(ip));
  }
}
