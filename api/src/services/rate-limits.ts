// Per-client rate limits, shaped so that honest traffic never meets them while abuse does. A polling
// station behind one NAT address casts thousands of valid ballots a minute, so valid ballots get a
// generous budget; what costs the server without serving a voter — refused submissions, bulk exports,
// proof polling — gets a far smaller one. Counted per API process, in memory (docs/operations.md,
// "Rate limits and audit rows").
import { isIP } from 'node:net';

/** Requests (refusals for `refusedBallots`) per client address per window; 0 turns that limit off. */
export interface RateLimits {
  /** POST …/ballots, every outcome. */
  ballots: number;
  /** Refused ballot submissions (any 4xx but 429): once used up, the client's submissions get 429 unchecked. */
  refusedBallots: number;
  /** Proof bundles, windows, results and the results stream, single roll-key lookups. */
  reads: number;
  /** The ledger export and the roll download (whole-table streams). */
  exports: number;
  /** Every other route, the unknown ones included. */
  other: number;
  /** The window every limit is counted over. */
  windowMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  ballots: 60_000,
  refusedBallots: 120,
  reads: 1200,
  exports: 30,
  other: 6000,
  windowMs: 60_000,
};

export type RateTier = 'ballots' | 'reads' | 'exports' | 'other';

/** The costly reads, by route pattern (GET and HEAD); a test holds each to an existing route. */
export const READ_ROUTES: readonly string[] = [
  '/api/v1/receipts/:ballotHash',
  '/api/v1/elections/:electionId/windows',
  '/api/v1/elections/:electionId/results',
  '/api/v1/elections/:electionId/results/stream',
  '/api/v1/elections/:electionId/roll/:credential',
];
export const EXPORT_ROUTES: readonly string[] = [
  '/api/v1/elections/:electionId/ledger',
  '/api/v1/elections/:electionId/roll',
];

/** The limit a request counts against: its route pattern (undefined for no route) and method. */
export function rateTier(ballotsUrl: string, method: string, url: string | undefined): RateTier {
  if (url === undefined) return 'other';
  if (method === 'POST' && url === ballotsUrl) return 'ballots';
  if (method !== 'GET' && method !== 'HEAD') return 'other';
  if (READ_ROUTES.includes(url)) return 'reads';
  if (EXPORT_ROUTES.includes(url)) return 'exports';
  return 'other';
}

/**
 * The address a client is counted under: IPv4 as is (an IPv4-mapped IPv6 address as its IPv4), IPv6 as
 * its /64 (one subscriber's network: a client holds 2^64 addresses of it), anything else (a forged
 * X-Forwarded-For when TRUST_PROXY counts more hops than there are proxies) as "invalid". At most 39
 * characters, so an audit row's client key stays small.
 */
export function clientAddress(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  const kind = isIP(bare);
  if (kind === 4) return bare;
  if (kind !== 6) return 'invalid';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped) return mapped[1]!;
  // Expand "::" into zero groups; an IPv4 tail is two groups (only the first four are kept anyway).
  const withoutV4 = bare.replace(/\d+\.\d+\.\d+\.\d+$/, '0:0');
  const [head = '', tail] = withoutV4.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? headGroups
      : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Refused submissions per client address, in fixed windows. Counted after the decision (a valid ballot
 * never adds to it); `blocked` is asked before any work on a submission. At most `maxClients` addresses
 * are tracked (the least recently refused are forgotten first), so memory stays bounded whatever the
 * number of addresses an attacker holds.
 */
export class RefusalBudget {
  private readonly clients = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxClients = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Count one refusal of `client`. */
  add(client: string): void {
    const t = this.now();
    const entry = this.clients.get(client);
    this.clients.delete(client); // re-inserted last: Map order is least recently refused first
    if (entry && entry.resetAt > t) entry.count++;
    this.clients.set(client, entry && entry.resetAt > t ? entry : { count: 1, resetAt: t + this.windowMs });
    if (this.clients.size > this.maxClients) this.clients.delete(this.clients.keys().next().value!);
  }

  /** Milliseconds until `client` may submit again when it is over its budget, else 0. */
  blocked(client: string): number {
    const entry = this.clients.get(client);
    if (!entry) return 0;
    const left = entry.resetAt - this.now();
    if (left <= 0) {
      this.clients.delete(client);
      return 0;
    }
    return entry.count >= this.max ? left : 0;
  }
}
