// Constant-time comparison of secrets. Both sides are hashed first so the
// comparison runs on equal-length digests and leaks neither content nor length.
import { createHash, timingSafeEqual } from 'node:crypto';

export function safeEqual(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
