// Decides whether a child needs a server-side apply, without any request.
// A steady state must make zero writes, so we apply only when:
//   - the child is missing;
//   - what we want changed: the live hash annotation differs from the hash of
//     the desired object (the annotation is part of what we apply);
//   - someone else took a field from us: when another manager changes a field
//     we set (kubectl edit, a forced apply), the API server moves ownership of
//     that field to them, so our manager's managedFields no longer cover every
//     field of the desired object.
// Comparing values directly would not work: the API server normalises them
// (quantities, defaults), which would make every comparison fail.
import { createHash } from 'node:crypto';

export const HASH_ANNOTATION = 'turnrelay.dev/applied-hash';

interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: unknown;
}
interface Meta {
  annotations?: Record<string, string> | undefined;
  managedFields?: ManagedFieldsEntry[] | undefined;
}
// Loose on purpose: client-node's typed objects and raw JSON both fit.
interface ObjectWithMeta {
  metadata?: object | undefined;
}
const metaOf = (o: ObjectWithMeta | undefined): Meta | undefined => o?.metadata;

const SEP = '\u0000';
const ANY = '*';

function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableStringify(x)}`).join(',')}}`;
  }
  // JSON has no undefined, function or symbol: JSON.stringify returns undefined for them.
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return 'null';
  return JSON.stringify(v);
}

export function contentHash(obj: unknown): string {
  return createHash('sha256').update(stableStringify(obj)).digest('hex').slice(0, 32);
}

/** Returns a copy of `obj` carrying the hash of its own content as an annotation. */
export function withContentHash<T extends ObjectWithMeta>(obj: T): T {
  const copy = structuredClone(obj);
  const meta = (copy.metadata ??= {}) as Meta;
  const { [HASH_ANNOTATION]: _previous, ...annotations } = meta.annotations ?? {};
  meta.annotations = annotations;
  const hash = contentHash(copy);
  meta.annotations = { ...annotations, [HASH_ANNOTATION]: hash };
  return copy;
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

// Identity fields are never listed in managedFields.
const IDENTITY = new Set(
  [['apiVersion'], ['kind'], ['metadata', 'name'], ['metadata', 'namespace']].map((p) => p.join(SEP)),
);

/** Leaf paths of an object; array elements become `*`, arrays of scalars are one leaf. */
export function desiredLeafPaths(obj: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (v: unknown, path: string[]): void => {
    if (v === null || v === undefined) return;
    if (IDENTITY.has(path.join(SEP))) return;
    if (Array.isArray(v)) {
      if (v.length === 0 || v.every((e) => e === null || typeof e !== 'object')) bump(out, path.join(SEP));
      else for (const e of v) walk(e, [...path, ANY]);
      return;
    }
    if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined && x !== null);
      if (entries.length === 0 && path.length > 0) bump(out, path.join(SEP));
      for (const [k, x] of entries) walk(x, [...path, k]);
      return;
    }
    bump(out, path.join(SEP));
  };
  walk(obj, []);
  return out;
}

/** Leaf paths of a managedFields fieldsV1 set, in the same shape as desiredLeafPaths. */
export function ownedLeafPaths(fieldsV1: unknown): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (node: unknown, path: string[]): void => {
    const keys = node && typeof node === 'object' ? Object.keys(node).filter((k) => k !== '.') : [];
    if (keys.length === 0) {
      if (path.length > 0) bump(out, path.join(SEP));
      return;
    }
    let setMember = false;
    for (const k of keys) {
      const child = (node as Record<string, unknown>)[k];
      if (k.startsWith('f:')) walk(child, [...path, k.slice(2)]);
      else if (k.startsWith('k:') || k.startsWith('i:')) walk(child, [...path, ANY]);
      else if (k.startsWith('v:')) setMember = true;
    }
    if (setMember) bump(out, path.join(SEP));
  };
  walk(fieldsV1, []);
  return out;
}

/** Desired leaves not (or not often enough) owned by us; a prefix we own atomically covers its subtree. */
export function uncoveredPaths(desired: Map<string, number>, owned: Map<string, number>): string[] {
  const missing: string[] = [];
  for (const [path, n] of desired) {
    if ((owned.get(path) ?? 0) >= n) continue;
    const parts = path.split(SEP);
    let covered = false;
    for (let i = parts.length - 1; i > 0 && !covered; i--) covered = (owned.get(parts.slice(0, i).join(SEP)) ?? 0) > 0;
    if (!covered) missing.push(parts.join('.'));
  }
  return missing;
}

export type ApplyReason = 'missing' | 'changed' | 'drifted';

/** Why `desired` (already carrying its hash annotation) must be applied over `live`, or undefined if not. */
export function applyReason(
  desired: ObjectWithMeta,
  live: ObjectWithMeta | undefined,
  fieldManager: string,
): ApplyReason | undefined {
  if (!live) return 'missing';
  const want = metaOf(desired)?.annotations?.[HASH_ANNOTATION];
  if (!want || metaOf(live)?.annotations?.[HASH_ANNOTATION] !== want) return 'changed';
  const ours = (metaOf(live)?.managedFields ?? []).filter(
    (e) => e.manager === fieldManager && e.operation === 'Apply' && !e.subresource,
  );
  const owned = new Map<string, number>();
  for (const e of ours) for (const [p, n] of ownedLeafPaths(e.fieldsV1)) owned.set(p, (owned.get(p) ?? 0) + n);
  return uncoveredPaths(desiredLeafPaths(desired), owned).length > 0 ? 'drifted' : undefined;
}
