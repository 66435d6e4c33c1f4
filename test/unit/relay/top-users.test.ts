// Per-user traffic series: bounded by K however many users there are, every
// series only grows, and nothing is lost or counted twice.
import { OTHER_USERS, TopUsers } from '../../../relay/usage/top-users.js';
import type { DirectionCounters } from '../../../relay/dataplane/types.js';

const traffic = (bytes: number): DirectionCounters => ({
  clientToPeerPackets: 1,
  clientToPeerBytes: bytes,
  peerToClientPackets: 1,
  peerToClientBytes: bytes,
});

function totals(top: TopUsers): Map<string, number> {
  return new Map(top.series().map(([user, t]) => [user, t.clientToPeerBytes + t.peerToClientBytes]));
}

test('100 000 ephemeral users: at most K series plus other, the heavy users named with all their bytes, every series monotonic', () => {
  const k = 5;
  const top = new TopUsers(k);
  const heavy = ['alice', 'bob', 'carol'];
  let total = 0;
  let previous = new Map<string, number>();
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 100_000; i++) {
    const user = i % 10 < 3 ? heavy[i % 3]! : `1767225600:ephemeral-${i}`;
    const bytes = user.startsWith('1767') ? 1 + Math.floor(random() * 500) : 2000;
    top.add(user, traffic(bytes));
    total += 2 * bytes;
    if (i % 997 === 0) {
      const now = totals(top);
      expect(now.size).toBeLessThanOrEqual(k + 1);
      // A series that exists in two consecutive reads never went down.
      for (const [user, value] of now)
        if (previous.has(user)) expect(value).toBeGreaterThanOrEqual(previous.get(user)!);
      previous = now;
    }
  }
  const final = totals(top);
  expect(final.size).toBeLessThanOrEqual(k + 1);
  expect(final.has(OTHER_USERS)).toBe(true);
  // Heavy users get a slot on their first bytes and are never outranked: their series hold everything they relayed.
  for (const user of heavy) expect(final.get(user)).toBe(2 * 2000 * 10_000);
  expect([...final.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(total);
});

test('addSince counts only what is new, so live scrapes and the final count never double-count', () => {
  const top = new TopUsers(2);
  const accounted = traffic(0);
  accounted.clientToPeerPackets = 0;
  accounted.peerToClientPackets = 0;
  top.addSince('dave', traffic(100), accounted);
  top.addSince('dave', traffic(100), accounted); // a scrape with nothing new
  top.addSince('dave', traffic(250), accounted); // the allocation ends
  expect(totals(top).get('dave')).toBe(500);
  expect(totals(top).get(OTHER_USERS)).toBe(0);
});

test('K = 0 keeps only other; a user literally named "other" never gets a series of its own', () => {
  const off = new TopUsers(0);
  off.add('alice', traffic(10));
  expect([...totals(off).keys()]).toEqual([OTHER_USERS]);
  const top = new TopUsers(3);
  top.add(OTHER_USERS, traffic(10));
  top.add('alice', traffic(5));
  expect(totals(top)).toEqual(
    new Map([
      ['alice', 10],
      [OTHER_USERS, 20],
    ]),
  );
});

test('lowering K on reload drops the weakest series; their later bytes go to other', () => {
  const top = new TopUsers(3);
  top.add('a', traffic(300));
  top.add('b', traffic(200));
  top.add('c', traffic(100));
  top.setK(1);
  expect([...totals(top).keys()]).toEqual(['a', OTHER_USERS]);
  top.add('c', traffic(1));
  expect(totals(top).get(OTHER_USERS)).toBe(2);
});

test('a newcomer that outgrows the weakest labelled user takes its slot', () => {
  const top = new TopUsers(1);
  top.add('small', traffic(10));
  top.add('big', traffic(5));
  expect(totals(top).has('big')).toBe(false);
  top.add('big', traffic(100));
  const now = totals(top);
  expect(now.has('big')).toBe(true);
  expect(now.has('small')).toBe(false);
  expect(now.get('big')).toBe(2 * 100);
  expect(now.get(OTHER_USERS)).toBe(2 * 5);
  // Back on top, 'small' continues its old series instead of restarting at 0.
  top.add('small', traffic(500));
  expect(totals(top).get('small')).toBe(2 * 510);
});
