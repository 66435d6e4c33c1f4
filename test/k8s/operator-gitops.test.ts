// GitOps health: what Flux (kstatus, the real library) makes of a TurnRelay
// in each phase of its life. InProgress while it converges, Current once
// Ready, Failed as soon as it cannot converge (so Flux fails fast instead of
// waiting for its timeout), InProgress again for a spec not yet observed.
import { expect } from '@jest/globals'; // its asymmetric matchers are typed, @types/jest's are any
import {
  applyRelay,
  condition,
  getRelay,
  markRelayPodsReady,
  relayObject,
  setLoadBalancerIngress,
  waitFor,
  waitForCondition,
  rest,
  ns,
  useOperatorsPerTest,
} from './operator-fixtures.js';
import { kstatus, kstatusBinary } from './harness/kstatus.js';

const runOperator = useOperatorsPerTest('op-gitops');
beforeAll(() => {
  kstatusBinary();
}, 300_000);

const UDP = { realm: 'turn.example.com', listeners: [{ name: 'udp', protocol: 'UDP', port: 3478 }] };

test('a relay reads InProgress while converging, Current when Ready, InProgress for an unobserved spec', async () => {
  const op = await runOperator();
  await applyRelay(rest, ns, relayObject('flux', UDP));
  const waiting = await waitForCondition(rest, ns, 'flux', 'Reconciling', 'True');
  expect(condition(waiting, 'Stalled')?.status).toBe('False');
  expect(kstatus(waiting).status).toBe('InProgress');

  await setLoadBalancerIngress(rest, ns, 'flux', '203.0.113.20');
  await markRelayPodsReady(rest, ns, 'flux', 1);
  const ready = await waitFor('Ready and rolled out', async () => {
    const r = await getRelay(rest, ns, 'flux');
    return condition(r, 'Ready')?.status === 'True' && condition(r, 'Reconciling')?.status === 'False' ? r : undefined;
  });
  expect(kstatus(ready)).toEqual({ status: 'Current', message: expect.any(String) });

  // A change the operator has not seen yet: observedGeneration lags behind.
  await op.stop();
  const changed = await applyRelay(rest, ns, relayObject('flux', { ...UDP, realm: 'other.example.com' }));
  expect(kstatus(await getRelay(rest, ns, 'flux')).status).toBe('InProgress');
  expect(changed.metadata?.generation).toBe(2);
}, 90_000);

test('a relay that cannot converge reads Failed, with the reason, and recovers once fixed', async () => {
  await runOperator();
  await rest.request('POST', `/api/v1/namespaces/${ns}/configmaps`, {
    body: { metadata: { name: 'taken-config' }, data: { mine: 'yes' } },
  });
  await applyRelay(rest, ns, relayObject('taken', UDP));
  const stalled = await waitForCondition(rest, ns, 'taken', 'Stalled', 'True', 'NameConflict');
  expect(condition(stalled, 'Reconciling')?.status).toBe('False');
  const verdict = kstatus(stalled);
  expect(verdict.status).toBe('Failed');
  expect(verdict.message).toMatch(/ConfigMap taken-config/);

  await rest.request('DELETE', `/api/v1/namespaces/${ns}/configmaps/taken-config`);
  const moving = await waitForCondition(rest, ns, 'taken', 'Stalled', 'False', undefined, 60_000);
  expect(kstatus(moving).status).toBe('InProgress');
}, 90_000);
