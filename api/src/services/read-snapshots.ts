// Cached reads (#18): the results, an election's view and its window list are answered from snapshots kept
// in this process — the serialized body, a strong ETag of its bytes, its Cache-Control — so that a read
// costs a map lookup, not database queries. A snapshot is rebuilt when a request finds it older than
// `refreshMs` (one rebuild in flight per snapshot, however many requests wait on it), or at once after this
// process wrote to its election (a ballot committed, a close, a trustee message, a roll upload: watchWrites).
// What other processes write (another replica's ballots, the anchor worker's windows and transactions)
// shows within `refreshMs`. A rebuild that gives the same bytes keeps the old snapshot and its ETag. Once
// nothing about the election can change any more the snapshot is final: never rebuilt, served with a long
// max-age. Snapshots are bounded in number and bytes, the least recently used going first.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest, onErrorHookHandler, onSendHookHandler } from 'fastify';
import type { ElectionRecord } from '../../../ledger/src/index.js';
import type { ChainInfo } from '../dependencies.js';

/**
 * Data that may still change. max-age=1: a shared cache adds at most a second to the process's own
 * `refreshMs`, about what the results stream promises; stale-while-revalidate=5: a cache may answer the
 * first request after a quiet spell from a copy up to 5 s past that while it revalidates (a 304, usually),
 * so a burst of readers on a proxy costs this server one request per second, not one per reader.
 */
export const LIVE_CACHE_CONTROL = 'public, max-age=1, stale-while-revalidate=5';
/**
 * Data that cannot change any more (final snapshots): a day. Not `immutable`: the chain settings shown
 * (chainId, contract, chainRpcUrl) are the operator's and may be corrected; a day bounds that, and a
 * revalidation after it is a 304.
 */
export const FINAL_CACHE_CONTROL = 'public, max-age=86400';
/** Errors (404 unknown election, 400, 503 …): never kept, so a created election or a recovery shows at once. */
export const ERROR_CACHE_CONTROL = 'no-store';

/** RFC 9110 13.1.2: If-None-Match is a list of entity tags, or `*`; weak tags compare weakly (opaque part). */
export function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/** One body as served: bytes, strong ETag, headers. */
export interface Representation {
  body: Buffer;
  /** `"` + base64url of the first 18 bytes of SHA-256(body) + `"`. */
  etag: string;
  contentType: string;
  cacheControl: string;
  /** Sent with a 200 (not with a 304): Link, X-Total-Ballots … */
  headers: readonly (readonly [string, string])[];
}

export const JSON_TYPE = 'application/json; charset=utf-8';

export function representation(
  /** What the route's serializer gives (reply.serialize), or the bytes. */
  body: string | Buffer | ArrayBuffer,
  contentType: string,
  final: boolean,
  headers: readonly (readonly [string, string])[] = [],
): Representation {
  const bytes = Buffer.isBuffer(body) ? body : typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
  const etag = `"${createHash('sha256').update(bytes).digest().subarray(0, 18).toString('base64url')}"`;
  return { body: bytes, etag, contentType, cacheControl: final ? FINAL_CACHE_CONTROL : LIVE_CACHE_CONTROL, headers };
}

/** 304 without a body when If-None-Match names the ETag (or is `*`), else the bytes. */
export function sendRepresentation(req: FastifyRequest, reply: FastifyReply, rep: Representation): FastifyReply {
  reply.header('etag', rep.etag).header('cache-control', rep.cacheControl);
  if (ifNoneMatch(req.headers['if-none-match'], rep.etag)) return reply.code(304).send();
  for (const [name, value] of rep.headers) reply.header(name, value);
  return reply.type(rep.contentType).send(rep.body);
}

/** Route option `onError` of the cached routes: an error body is never cached (and it may be a 404 a cache would keep). */
export const noStoreOnError: onErrorHookHandler = (_req, reply, _err, done) => {
  reply.header('cache-control', ERROR_CACHE_CONTROL);
  done();
};

/** What a build gives: the value the route serves from, and what decides its freshness. */
export interface Built<V> {
  value: V;
  /** The bytes that say whether anything changed: a rebuild with the same content (and finality) keeps the old value. */
  content: string | Buffer;
  /** Nothing shown can change any more: never rebuilt (but after a write of this process to the election). */
  final: boolean;
  /** Never replaced by a build of a lower order (results: asOfSeq), so a reader never sees them go back. */
  order?: number;
  /** When the value goes stale by itself, ms (an election view's status at opensAt and closesAt). */
  staleAtMs?: number;
  /** Checked on every hit; false rebuilds (the chain settings a value shows were changed). */
  valid?: () => boolean;
  /** Memory the value holds, roughly, for the byte budget. */
  bytes: number;
}

interface ElectionState {
  /** Bumped by each write of this process to the election: snapshots built before it are stale. */
  gen: number;
  /** Snapshots of the election in the cache (the state goes with the last). */
  entries: number;
}

interface Entry {
  key: string;
  electionId: string;
  election: ElectionState;
  built: Built<unknown> | null;
  /** The election's gen when the build that gave `built` started. */
  builtGen: number;
  freshUntil: number;
  bytes: number;
  pending: Promise<Built<unknown> | null> | null;
  pendingGen: number;
}

export interface ReadSnapshotsOptions {
  /** The longest a snapshot is served without a rebuild when nothing said it changed (ms, default 250). */
  refreshMs?: number;
  /** Snapshots kept (default 4096). */
  maxEntries?: number;
  /** Their bytes (default 64 MiB). */
  maxBytes?: number;
}

export class ReadSnapshots {
  readonly refreshMs: number;
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  /** In least recently used order (a hit moves its entry to the end). */
  private readonly entries = new Map<string, Entry>();
  private readonly elections = new Map<string, ElectionState>();
  private total = 0;

  constructor(opts: ReadSnapshotsOptions = {}) {
    this.refreshMs = opts.refreshMs ?? 250;
    this.maxEntries = opts.maxEntries ?? 4096;
    this.maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  }

  /** Snapshots held, and their bytes. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.total };
  }

  /**
   * The snapshot `kind` of the election: the one held while it is fresh, else the rebuild (joined if one is
   * running for the current state). `build` resolves null for an unknown election (nothing is kept) and may
   * throw (nothing is kept either: errors are not cached).
   */
  get<V>(
    electionId: string,
    kind: string,
    build: () => Promise<Built<V> | null>,
  ): Built<V> | null | Promise<Built<V> | null> {
    const key = `${kind}\u0000${electionId}`;
    let e = this.entries.get(key);
    if (e) {
      this.entries.delete(key);
      this.entries.set(key, e);
      const b = e.built;
      if (
        b !== null &&
        e.builtGen === e.election.gen &&
        Date.now() < e.freshUntil &&
        (b.valid === undefined || b.valid())
      )
        return b as Built<V>;
      if (e.pending !== null && e.pendingGen === e.election.gen) return e.pending as Promise<Built<V> | null>;
    } else {
      e = this.add(key, electionId);
    }
    return this.rebuild(e, build);
  }

  /**
   * A newer value learnt otherwise (the results a stream was just sent): replaces the snapshot's when its
   * content differs and its order is not lower. Freshness is left as it is: a rebuild still comes at its time.
   */
  offer<V>(electionId: string, kind: string, b: Built<V>): void {
    const e = this.entries.get(`${kind}\u0000${electionId}`);
    const old = e?.built;
    if (!e || !old || sameContent(old.content, b.content)) return;
    if (b.order !== undefined && old.order !== undefined && b.order < old.order) return;
    e.built = b;
    this.total += b.bytes - e.bytes;
    e.bytes = b.bytes;
    this.evict();
  }

  /** This process wrote to the election: its snapshots are rebuilt on their next read. */
  invalidate(electionId: string): void {
    const s = this.elections.get(electionId);
    if (s) s.gen++;
  }

  /**
   * Invalidate an election's snapshots when a write route naming it (`:electionId`, not GET or HEAD)
   * succeeds, before its answer leaves: a client that reads after its ballot's 201 or its close's 202 sees
   * them. Only write routes get the hook; the reads pay nothing for it.
   */
  watchWrites(app: FastifyInstance): void {
    const onSend: onSendHookHandler = (req, reply, payload, done) => {
      if (reply.statusCode < 300) {
        const id = (req.params as { electionId?: unknown } | undefined)?.electionId;
        if (typeof id === 'string') this.invalidate(id);
      }
      done(null, payload);
    };
    app.addHook('onRoute', (route) => {
      const methods = [route.method].flat();
      if (!route.url.includes(':electionId') || methods.every((m) => m === 'GET' || m === 'HEAD')) return;
      const own = route.onSend ? [route.onSend].flat() : [];
      route.onSend = [...own, onSend] as typeof route.onSend;
    });
  }

  private add(key: string, electionId: string): Entry {
    let election = this.elections.get(electionId);
    if (!election) {
      election = { gen: 0, entries: 0 };
      this.elections.set(electionId, election);
    }
    election.entries++;
    const e: Entry = {
      key,
      electionId,
      election,
      built: null,
      builtGen: -1,
      freshUntil: 0,
      bytes: 0,
      pending: null,
      pendingGen: -1,
    };
    this.entries.set(key, e);
    this.evict();
    return e;
  }

  private remove(e: Entry): void {
    if (this.entries.get(e.key) !== e) return;
    this.entries.delete(e.key);
    this.total -= e.bytes;
    e.election.entries--;
    if (e.election.entries === 0 && this.elections.get(e.electionId) === e.election)
      this.elections.delete(e.electionId);
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries || (this.total > this.maxBytes && this.entries.size > 1)) {
      const oldest = this.entries.values().next().value as Entry;
      this.remove(oldest);
    }
  }

  /** One build at a time per snapshot: a rebuild asked for during another starts when it ends. */
  private rebuild<V>(e: Entry, build: () => Promise<Built<V> | null>): Promise<Built<V> | null> {
    const gen = e.election.gen;
    const before = e.pending;
    const run = (async () => {
      if (before) await before.catch(() => null);
      const started = Date.now();
      let b: Built<V> | null;
      try {
        b = await build();
      } catch (err) {
        if (e.built === null) this.remove(e);
        throw err;
      }
      return this.install(e, b, gen, started);
    })();
    e.pending = run;
    e.pendingGen = gen;
    const clear = () => {
      if (e.pending === run) e.pending = null;
    };
    run.then(clear, clear);
    return run as Promise<Built<V> | null>;
  }

  private install<V>(e: Entry, b: Built<V> | null, gen: number, started: number): Built<V> | null {
    if (b === null) {
      this.remove(e);
      return null;
    }
    const old = e.built as Built<V> | null;
    let next = b;
    if (old !== null) {
      const same = old.final === b.final && sameContent(old.content, b.content);
      const backwards = b.order !== undefined && old.order !== undefined && b.order < old.order;
      if (same || backwards) next = old;
    }
    e.built = next;
    e.builtGen = gen;
    e.freshUntil = next.final ? Number.POSITIVE_INFINITY : Math.min(started + this.refreshMs, b.staleAtMs ?? Infinity);
    if (this.entries.get(e.key) === e) {
      this.total += next.bytes - e.bytes;
      e.bytes = next.bytes;
      this.evict();
    }
    return next;
  }
}

function sameContent(a: string | Buffer, b: string | Buffer): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a.equals(b);
}

/**
 * Nothing can be committed or anchored any more: the heads are closed, the result is taken (which follows
 * every shard's close) and every ballot is in an anchored window.
 */
export function ledgerSettled(e: ElectionRecord | null, totalBallots: number, anchoredBallots: number): boolean {
  return e?.closed === true && e.resultHash !== null && anchoredBallots === totalBallots;
}

/** The chain settings a snapshot shows, copied (server.ts mutates its ChainInfo once it learns the chain id). */
export function chainUnchanged(chain: () => ChainInfo): () => boolean {
  const seen = chain();
  const { chainId, contract } = seen;
  const rpc = seen.publicRpcUrl ?? null;
  return () => {
    const c = chain();
    return c.chainId === chainId && c.contract === contract && (c.publicRpcUrl ?? null) === rpc;
  };
}
