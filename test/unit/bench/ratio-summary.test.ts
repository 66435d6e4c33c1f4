import { median, summariseRounds } from '../../../bench/ratio-summary.js';

describe('bench ratio summary over rounds', () => {
  test('median of odd and even counts, unaffected by input order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  test('one summary per label with median, lowest and highest round, in first-seen order', () => {
    const rounds = [
      [
        { label: 't1 max relayed rate, echo peer', value: 1.26, goal: '>= 1.5x' },
        { label: 't1 idle CPU', value: 6.9 },
      ],
      [
        { label: 't1 max relayed rate, echo peer', value: 1.07, goal: '>= 1.5x' },
        { label: 't1 idle CPU', value: 5.9 },
      ],
      [
        { label: 't1 idle CPU', value: 2.0 },
        { label: 't1 max relayed rate, echo peer', value: 1.4, goal: '>= 1.5x' },
      ],
    ];
    expect(summariseRounds(rounds)).toEqual([
      { label: 't1 max relayed rate, echo peer', goal: '>= 1.5x', rounds: 3, median: 1.26, min: 1.07, max: 1.4 },
      { label: 't1 idle CPU', rounds: 3, median: 5.9, min: 2.0, max: 6.9 },
    ]);
  });

  test('rounds without a value (a ladder step one server failed) are not counted; labels with none are dropped', () => {
    const summary = summariseRounds([
      [
        { label: 'a', value: 0.5 },
        { label: 'b', value: undefined },
      ],
      [
        { label: 'a', value: Number.NaN },
        { label: 'b', value: undefined },
      ],
      [{ label: 'a', value: 0.7 }],
    ]);
    expect(summary).toEqual([{ label: 'a', rounds: 2, median: 0.6, min: 0.5, max: 0.7 }]);
  });
});
