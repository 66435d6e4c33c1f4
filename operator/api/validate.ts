// Validation of a TurnRelay object as the operator receives it: the zod schema
// (the same rules the CRD enforces, CEL included) plus the name rule for the
// children derived from metadata.name.
// Issues name the field (`spec.listeners[2].port`) so status and Events can
// point the user at it.
import { z } from 'zod';
import { TurnRelaySpecSchema, TurnRelayStatusSchema, type TurnRelay } from './turnrelay.js';

export type ValidationIssue = { field: string; message: string };
export type ValidationResult = { ok: true; relay: TurnRelay } | { ok: false; issues: ValidationIssue[] };

// Children are named after the TurnRelay; the Service name must be a DNS-1035 label.
const NAME_RE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_NAME_LENGTH = 52; // leaves room for "-turn-auth" etc. within 63

const EnvelopeSchema = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }),
  spec: z.unknown(),
  status: z.unknown().optional(),
});

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  }
  return out;
}

function zodIssues(prefix: string, error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ field: formatPath([prefix, ...issue.path]), message: issue.message }));
}

export function validateTurnRelay(obj: unknown): ValidationResult {
  const envelope = EnvelopeSchema.safeParse(obj);
  if (!envelope.success) return { ok: false, issues: zodIssues('', envelope.error).map(stripLeadingDot) };
  const { metadata } = envelope.data;
  const issues: ValidationIssue[] = [];
  const name = metadata.name ?? '';
  if (!NAME_RE.test(name) || name.length > MAX_NAME_LENGTH) {
    issues.push({
      field: 'metadata.name',
      message: `must start with a letter, contain only lowercase letters, digits and '-', and be at most ${MAX_NAME_LENGTH} characters`,
    });
  }
  const spec = TurnRelaySpecSchema.safeParse(envelope.data.spec ?? {});
  if (!spec.success) issues.push(...zodIssues('spec', spec.error));
  const status = TurnRelayStatusSchema.safeParse(envelope.data.status ?? {});
  if (issues.length > 0 || !spec.success) return { ok: false, issues };
  const relay: TurnRelay = {
    apiVersion: envelope.data.apiVersion,
    kind: envelope.data.kind,
    metadata,
    spec: spec.data,
  };
  // A malformed status never blocks reconciling the spec; it is rewritten anyway.
  if (envelope.data.status !== undefined && status.success) relay.status = status.data;
  return { ok: true, relay };
}

function stripLeadingDot(issue: ValidationIssue): ValidationIssue {
  return { ...issue, field: issue.field.replace(/^\./, '') || '(object)' };
}
