// The Event recorder against the real API server: repeats of one Event are
// one object whose count goes up, and new Events per object are rate limited
// while other objects still get theirs.
import { EventRecorder } from '../../operator/runtime/events.js';
import { createLogger } from '../../shared/log.js';
import { waitFor, rest, ns, useNamespacePerTest } from './operator-fixtures.js';

useNamespacePerTest('op-events');

type Ev = {
  reason?: string;
  count?: number;
  message?: string;
  involvedObject?: { name?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
};
const eventsFor = async (name: string) =>
  (await rest.list<Ev>(`/api/v1/namespaces/${ns}/events`)).items.filter((e) => e.involvedObject?.name === name);
const target = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: ns });

test('repeats are aggregated into one Event with their count', async () => {
  const recorder = new EventRecorder(rest, 'turnrelay-operator', 'test', createLogger('events-test', 'silent'), {
    flushMs: 200,
  });
  for (let i = 0; i < 12; i++)
    await recorder.record(target('agg'), 'Warning', 'DriftCorrected', 'Service agg was changed; restored');
  await recorder.record(target('agg'), 'Warning', 'DriftCorrected', 'another message');
  const events = await waitFor(
    'count 12',
    async () => {
      const e = await eventsFor('agg');
      return e.length === 2 && e.find((x) => x.message === 'Service agg was changed; restored')?.count === 12
        ? e
        : undefined;
    },
    10_000,
  );
  expect(events.find((x) => x.message === 'another message')?.count).toBe(1);
});

test('new Events per object are rate limited; other objects are not affected', async () => {
  const recorder = new EventRecorder(rest, 'turnrelay-operator', 'test', createLogger('events-test', 'silent'), {
    burst: 5,
    refillMs: 60_000,
  });
  for (let i = 0; i < 20; i++) await recorder.record(target('noisy'), 'Warning', 'Flapping', `distinct message ${i}`);
  await recorder.record(target('quiet'), 'Normal', 'Ready', 'fine');
  expect((await eventsFor('noisy')).length).toBe(5);
  expect(recorder.dropped).toBe(15);
  expect((await eventsFor('quiet')).length).toBe(1);
});
