// The process metrics of a running relay: the event-loop lag monitor samples
// seldom (EVENT_LOOP_SAMPLE_MS) so an idle relay stays asleep, and a stall of
// the JS thread longer than that still shows in the lag it reports.
import { EVENT_LOOP_SAMPLE_MS } from '../../../shared/process-metrics.js';
import { metricsText, metricValue, sleep, startTestRelay, type TestRelay } from './helpers/test-relay.js';

const LAG_MAX = 'turnrelay_process_nodejs_eventloop_lag_max_seconds';

describe('relay process metrics', () => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await startTestRelay();
  });
  afterAll(async () => {
    await t.stop();
  });

  test('a stall of the JS thread longer than the lag sample interval shows in the event-loop lag', async () => {
    const stallMs = 3 * EVENT_LOOP_SAMPLE_MS;
    // A scrape resets the lag histogram, and the monitor records nothing for the first
    // interval after a reset: so the stall starts a few samples after the last scrape.
    await metricsText(t.relay);
    await sleep(3 * EVENT_LOOP_SAMPLE_MS);
    const until = Date.now() + stallMs;
    while (Date.now() < until) {
      // the stall: nothing else on this thread runs meanwhile
    }
    await sleep(2 * EVENT_LOOP_SAMPLE_MS); // the monitor's late sample lands after the stall
    const stalled = metricValue(await metricsText(t.relay), LAG_MAX);
    expect(stalled).toBeGreaterThanOrEqual((stallMs - EVENT_LOOP_SAMPLE_MS) / 1000);
  });
});
