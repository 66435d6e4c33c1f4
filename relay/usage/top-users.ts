// Per-user traffic with bounded cardinality: the K users with the most relayed
// bytes get their own series, everyone else shares `other`. Usernames are
// chosen by clients and REST usernames are ephemeral, so labels must never
// grow with the number of users; memory does not either (a space-saving
// summary of the strongest candidates, Metwally et al. 2005).
//
// Every byte is counted at most once, in the series its user had when it was
// accounted: a user's series starts when it joins the top K (with the bytes
// that got it there); bytes after it leaves go to `other`. A user that drops
// out and comes back continues its old series while it is still remembered
// among the candidates, so series only grow and sum(rate(...)) over users is
// the relay's rate; a dropped-out user's series simply ends.
import type { DirectionCounters } from '../dataplane/types.js';
import { direction } from '../dataplane/counters.js';

export const OTHER_USERS = 'other';

interface Tracked {
  /** Bytes of this user since the relay started (ranking; an upper bound for candidates). */
  score: number;
  /** Traffic while labelled (the exported series); kept for a candidate that was labelled before. */
  series?: DirectionCounters;
}

const KEYS = ['clientToPeerPackets', 'clientToPeerBytes', 'peerToClientPackets', 'peerToClientBytes'] as const;

function addInto(into: DirectionCounters, d: DirectionCounters): void {
  for (const k of KEYS) into[k] += d[k];
}

/** The entry with the lowest score (O(n): n is at most a few thousand). */
function smallest<V>(map: Map<string, V>, score: (v: V) => number): [string, number] | undefined {
  let min: [string, number] | undefined;
  for (const [key, v] of map) {
    const s = score(v);
    if (!min || s < min[1]) min = [key, s];
  }
  return min;
}

export class TopUsers {
  private readonly labelled = new Map<string, Required<Tracked>>();
  /** Unlabelled users (space-saving: the score may overestimate, never underestimates). */
  private readonly candidates = new Map<string, Tracked>();
  private readonly other = direction();

  constructor(private k: number) {}

  /** Candidates tracked besides the K labelled users. */
  private get capacity(): number {
    return Math.max(64, 8 * this.k);
  }

  get topK(): number {
    return this.k;
  }

  /** Live reload of K; a smaller K hands the weakest users' future traffic to `other`. */
  setK(k: number): void {
    this.k = k;
    while (this.labelled.size > k) this.evict(this.weakest()!);
  }

  /** Adds what `user` relayed since `accounted`, then moves `accounted` up to `now`. */
  addSince(user: string, now: DirectionCounters, accounted: DirectionCounters): void {
    const delta = direction();
    for (const key of KEYS) {
      delta[key] = Math.max(0, now[key] - accounted[key]);
      accounted[key] = now[key];
    }
    this.add(user, delta);
  }

  add(user: string, d: DirectionCounters): void {
    const bytes = d.clientToPeerBytes + d.peerToClientBytes;
    const own = this.labelled.get(user);
    if (own) {
      addInto(own.series, d);
      own.score += bytes;
      return;
    }
    // A real user named like the aggregate would be indistinguishable from it: it stays in `other`.
    if (this.k > 0 && user !== OTHER_USERS && bytes > 0 && this.promote(user, this.bumpCandidate(user, bytes))) {
      addInto(this.labelled.get(user)!.series, d);
    } else {
      addInto(this.other, d);
    }
  }

  /** Gives `user` a series if a slot is free or it now outranks the weakest labelled user. */
  private promote(user: string, candidate: Tracked): boolean {
    if (this.labelled.size >= this.k) {
      const weakest = this.weakest()!;
      if (candidate.score <= this.labelled.get(weakest)!.score) return false;
      this.evict(weakest);
    }
    this.candidates.delete(user);
    this.labelled.set(user, { score: candidate.score, series: candidate.series ?? direction() });
    return true;
  }

  /** The exported series: one per top user, then `other`. */
  series(): Array<[string, DirectionCounters]> {
    const out: Array<[string, DirectionCounters]> = [...this.labelled].map(([user, l]) => [user, { ...l.series }]);
    out.push([OTHER_USERS, { ...this.other }]);
    return out;
  }

  private weakest(): string | undefined {
    return smallest(this.labelled, (l) => l.score)?.[0];
  }

  private evict(user: string): void {
    const l = this.labelled.get(user)!;
    this.labelled.delete(user);
    this.insertCandidate(user, l);
  }

  private bumpCandidate(user: string, bytes: number): Tracked {
    const known = this.candidates.get(user);
    if (known) {
      known.score += bytes;
      return known;
    }
    return this.insertCandidate(user, { score: bytes });
  }

  /** When full, the newcomer replaces the smallest candidate and inherits its count (space-saving). */
  private insertCandidate(user: string, t: Tracked): Tracked {
    const min = this.candidates.size >= this.capacity ? smallest(this.candidates, (c) => c.score) : undefined;
    if (min) {
      this.candidates.delete(min[0]);
      t.score += min[1];
    }
    this.candidates.set(user, t);
    return t;
  }
}
