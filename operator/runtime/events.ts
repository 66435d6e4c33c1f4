// Records core/v1 Events on a TurnRelay for important transitions (created
// auth Secret, rotation, invalid spec, Ready changes, restored children).
// Event writes are best effort: failing to record must never fail a reconcile.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../shared/log.js';
import type { KubeRest } from './kube-rest.js';
import { collectionPath, EVENT_KIND } from './resources.js';

export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

export type EventType = 'Normal' | 'Warning';

export class EventRecorder {
  constructor(
    private readonly rest: KubeRest,
    private readonly component: string,
    private readonly instance: string,
    private readonly log: Logger,
  ) {}

  async record(target: EventTarget, type: EventType, reason: string, message: string): Promise<void> {
    const now = new Date().toISOString();
    const event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${target.name}.${randomBytes(8).toString('hex')}`, namespace: target.namespace },
      involvedObject: { apiVersion: target.apiVersion, kind: target.kind, name: target.name, namespace: target.namespace, uid: target.uid },
      type,
      reason,
      // The API server caps event messages; keep ours well inside.
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.instance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.rest.request('POST', collectionPath(EVENT_KIND, target.namespace), { body: event });
    } catch (err) {
      this.log.warn({ reason, target: `${target.namespace}/${target.name}`, err: err instanceof Error ? err.message : String(err) }, 'could not record event');
    }
  }
}
