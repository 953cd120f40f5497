// Live results: JSON (or CSV) on request, from the process's snapshot (services/read-snapshots.ts), and a
// Server-Sent Events stream pushed after every commit: each change serialized once, the same bytes to every stream.
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { getElection } from '../../../ledger/src/index.js';
import { ProtocolError } from '../errors.js';
import type { LiveResults } from '../services/tally.js';
import {
  JSON_TYPE,
  type Built,
  ledgerSettled,
  noStoreOnError,
  representation,
  sendRepresentation,
  type Representation,
} from '../services/read-snapshots.js';
import { commonErrorResponses, electionParams } from '../schemas/common.js';
import { decryptionStatusSchema } from '../schemas/encrypted.js';

/** Per contest, the ballots counted and the blank ones (not in resultHash; docs/protocol.md, "Results"). */
export const contestsSchema = {
  type: 'object',
  description:
    'contest → {ballotsCounted, blank}: the ballots counted that list the contest (percentages are of this number) ' +
    'and those that select nothing in it (blank votes)',
  additionalProperties: {
    type: 'object',
    required: ['ballotsCounted', 'blank'],
    properties: { ballotsCounted: { type: 'integer' }, blank: { type: 'integer' } },
  },
} as const;

export const resultsSchema = {
  type: 'object',
  description:
    'An encrypted election (docs/protocol.md 12.6) adds ballotMode and decryption; its totalBallots and asOfSeq are ' +
    'live (turnout), its tally and contests null until the trustees have decrypted (then blank is null: not known).',
  required: ['electionId', 'tally', 'totalBallots', 'anchoredBallots', 'asOfSeq', 'contests'],
  properties: {
    electionId: { type: 'string' },
    tally: {
      type: ['object', 'null'],
      description: 'contest → choice → votes, every choice listed (encrypted: null until decrypted)',
      additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
    },
    totalBallots: { type: 'integer' },
    anchoredBallots: { type: 'integer', description: 'ballots in windows whose root is on chain' },
    asOfSeq: { type: 'integer', description: 'last seq counted, -1 when none' },
    contests: {
      ...contestsSchema,
      type: ['object', 'null'],
      additionalProperties: {
        ...contestsSchema.additionalProperties,
        properties: { ballotsCounted: { type: 'integer' }, blank: { type: ['integer', 'null'] } },
      },
    },
    ballotMode: { type: 'string', const: 'encrypted', description: 'encrypted elections only' },
    decryption: decryptionStatusSchema,
  },
} as const;

/** Results JSON, keys in the documented order (docs/protocol.md) (used for the SSE data lines, which bypass the serializer). */
export function resultsJson(r: LiveResults): string {
  return JSON.stringify({
    electionId: r.electionId,
    tally: r.tally,
    totalBallots: r.totalBallots,
    anchoredBallots: r.anchoredBallots,
    asOfSeq: r.asOfSeq,
    contests: r.contests,
    ...(r.ballotMode === 'encrypted' ? { ballotMode: r.ballotMode, decryption: r.decryption } : {}),
  });
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One row per choice: contest,choice,votes (ids, so the file joins back to the manifest); after each contest's
 * choices, `(blank)` and `(ballots counted)` rows, which no choice id can be (ids are [a-z0-9-]). An
 * encrypted election has no rows before its decryption, and no `(blank)` row (blank votes are not known).
 */
export function resultsCsv(r: LiveResults): string {
  let out = 'contest,choice,votes\r\n';
  const contests: Record<string, { ballotsCounted: number; blank: number | null }> = r.contests ?? {};
  for (const [contest, choices] of Object.entries(r.tally ?? {})) {
    const c = csvField(contest);
    for (const [choice, n] of Object.entries(choices)) out += `${c},${csvField(choice)},${n}\r\n`;
    const counted = Object.hasOwn(contests, contest) ? contests[contest] : undefined;
    if (counted?.blank != null) out += `${c},(blank),${counted.blank}\r\n`;
    if (counted) out += `${c},(ballots counted),${counted.ballotsCounted}\r\n`;
  }
  return out;
}

const HEARTBEAT_MS = 15_000;
const KEEP_ALIVE = Buffer.from(': keep-alive\n\n');

/** Caps on results streams, per API process. */
export interface StreamLimits {
  /** Open streams per client address (the address rate limits see: X-Forwarded-For behind TRUST_PROXY). */
  perClient: number;
  /** Open streams in all (10,000 and more are fine: an event is serialized once, whatever the number). */
  total: number;
  /** A client that has not taken this many bytes of earlier events when a new one is due is dropped. */
  maxBufferedBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { perClient: 20, total: 2000, maxBufferedBytes: 1024 * 1024 };

/** The results as the snapshots keep them: the SSE event serialized once, the HTTP bodies once each, on demand. */
interface ResultsSnapshot {
  results: LiveResults;
  /** resultsJson(results). */
  data: string;
  /** The SSE event of these results, written as is to every stream. */
  event: Buffer;
  json?: Representation;
  csv?: Representation;
}

function sseEvent(asOfSeq: number, data: string): Buffer {
  return Buffer.from(`event: results\nid: ${asOfSeq}\ndata: ${data}\n\n`);
}

function resultsSnapshot(r: LiveResults, data: string, event: Buffer, final: boolean): Built<ResultsSnapshot> {
  return { value: { results: r, data, event }, content: data, final, order: r.asOfSeq, bytes: 3 * data.length + 512 };
}

/** One open stream. */
interface Subscriber {
  res: ServerResponse;
  log: FastifyBaseLogger;
  client: string;
  /** The hub's version last written to it. */
  version: number;
  /** The data of its first event (from the snapshot) until the hub writes to it: not written twice. */
  first: string | null;
}

/**
 * The streams of one election: one tally subscription for all of them, each change serialized once and the
 * same Buffer written to every stream.
 */
interface Hub {
  electionId: string;
  subscribers: Set<Subscriber>;
  data: string | null;
  event: Buffer | null;
  version: number;
  unsubscribe: (() => void) | null;
  done: boolean;
}

export default async function resultRoutes(
  app: FastifyInstance,
  opts: { limits?: Partial<StreamLimits> },
): Promise<void> {
  const { sql, tally, streams, reads } = app.tp;
  const limits = { ...DEFAULT_STREAM_LIMITS, ...opts.limits };
  /** Streams open or being opened, per client address; `opening` counts those not yet in `streams`. */
  const perClient = new Map<string, number>();
  let opening = 0;
  const hubs = new Map<string, Hub>();
  /** One keep-alive timer for every stream of the process, running while any is open. */
  let heartbeat: NodeJS.Timeout | null = null;

  /** The results snapshot; null for an unknown election. */
  const currentResults = (electionId: string) =>
    reads.get<ResultsSnapshot>(electionId, 'results', async () => {
      const r = await tally.current(electionId);
      if (!r) return null;
      const data = resultsJson(r);
      // Final only when every ballot is anchored: the election record is read then only.
      const e = r.anchoredBallots === r.totalBallots ? await getElection(sql, electionId) : null;
      const final =
        ledgerSettled(e, r.totalBallots, r.anchoredBallots) &&
        // An encrypted election's late trustees may still add their partial decryption (`received`).
        (r.ballotMode !== 'encrypted' ||
          (r.decryption?.status === 'complete' &&
            r.decryption.received.length >= (e!.encryption?.trustees.length ?? 0)));
      return resultsSnapshot(r, data, sseEvent(r.asOfSeq, data), final);
    });

  app.get(
    '/api/v1/elections/:electionId/results',
    {
      schema: {
        tags: ['results'],
        summary: 'Live tally',
        description:
          'JSON by default; `?format=csv` gives contest,choice,votes rows, each contest followed by its `(blank)` and `(ballots counted)` rows ' +
          '(totals in the X-Total-Ballots, X-Anchored-Ballots and X-As-Of-Seq headers). Percentages are of a contest’s ballotsCounted. ' +
          'Strong ETag, If-None-Match → 304; Cache-Control short while the results may change, a day once final (docs/protocol.md, "Cached reads").',
        params: electionParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { format: { type: 'string', enum: ['json', 'csv'] } },
        },
        response: { 200: resultsSchema, ...commonErrorResponses },
      },
      onError: noStoreOnError,
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const snap = await currentResults(electionId);
      if (!snap) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      const s = snap.value;
      if ((req.query as { format?: string }).format === 'csv') {
        s.csv ??= representation(resultsCsv(s.results), 'text/csv; charset=utf-8', snap.final, [
          ['x-total-ballots', String(s.results.totalBallots)],
          ['x-anchored-ballots', String(s.results.anchoredBallots)],
          ['x-as-of-seq', String(s.results.asOfSeq)],
        ]);
        return sendRepresentation(req, reply, s.csv);
      }
      // The route's own serializer (its response schema): the bytes served before snapshots.
      s.json ??= representation(reply.serialize(s.results), JSON_TYPE, snap.final);
      return sendRepresentation(req, reply, s.json);
    },
  );

  // A client that does not read lets the events pile up in this process: past the bound it is dropped
  // (it may reconnect; the first event of a stream is always the current results).
  const write = (sub: Subscriber, chunk: Buffer) => {
    const res = sub.res;
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength > limits.maxBufferedBytes) {
      sub.log.info(
        { client: sub.client, buffered: res.writableLength },
        'results stream dropped: the client does not read',
      );
      res.destroy();
      return;
    }
    res.write(chunk);
  };

  const deliver = (hub: Hub, sub: Subscriber) => {
    if (hub.event === null || sub.version >= hub.version) return;
    sub.version = hub.version;
    if (sub.first !== null) {
      const seen = sub.first === hub.data;
      sub.first = null;
      if (seen) return;
    }
    write(sub, hub.event);
  };

  const publish = (hub: Hub, r: LiveResults) => {
    const data = resultsJson(r);
    if (data === hub.data) return;
    hub.data = data;
    hub.event = sseEvent(r.asOfSeq, data);
    hub.version++;
    for (const sub of hub.subscribers) deliver(hub, sub);
    // A GET after this event does not show older results than the stream did (finality is the rebuild's to say).
    reads.offer(hub.electionId, 'results', resultsSnapshot(r, data, hub.event, false));
  };

  const closeHub = (hub: Hub) => {
    hub.done = true;
    hub.unsubscribe?.();
    hub.unsubscribe = null;
    if (hubs.get(hub.electionId) === hub) hubs.delete(hub.electionId);
    if (hubs.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = null;
    }
  };

  const hubOf = (electionId: string): Hub => {
    let hub = hubs.get(electionId);
    if (hub) return hub;
    const h: Hub = {
      electionId,
      subscribers: new Set(),
      data: null,
      event: null,
      version: 0,
      unsubscribe: null,
      done: false,
    };
    hubs.set(electionId, h);
    hub = h;
    // The tracker polls subscribed elections and is poked by this process's commits; it calls back on change.
    tally
      .subscribe(electionId, (r) => publish(h, r))
      .then(
        (off) => {
          if (off === null) for (const sub of h.subscribers) sub.res.end(); // the election is gone (never, for a stored one)
          if (h.done || off === null) off?.();
          else h.unsubscribe = off;
        },
        (err: Error) => {
          app.log.warn({ err, electionId }, 'results stream subscription failed');
          for (const sub of h.subscribers) sub.res.destroy();
          closeHub(h);
        },
      );
    heartbeat ??= setInterval(() => {
      for (const each of hubs.values()) for (const sub of each.subscribers) write(sub, KEEP_ALIVE);
    }, HEARTBEAT_MS);
    heartbeat.unref();
    return hub;
  };

  app.addHook('onClose', async () => {
    for (const hub of [...hubs.values()]) closeHub(hub);
  });

  app.get(
    '/api/v1/elections/:electionId/results/stream',
    {
      schema: {
        tags: ['results'],
        summary: 'Live tally as Server-Sent Events',
        description:
          'text/event-stream: an `event: results` with the results JSON now and after every change (new ballots committed by any API process, ' +
          'windows anchored), within about a second; `id` is asOfSeq. A comment line every 15 s keeps proxies from closing the stream.',
        params: electionParams,
        produces: ['text/event-stream'],
      },
      onError: noStoreOnError,
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      // Each stream holds a socket for as long as the client likes: capped per client address and in all.
      // The slot is taken before any await, so concurrent opens cannot pass the cap.
      const client = req.ip;
      const mine = perClient.get(client) ?? 0;
      if (mine >= limits.perClient)
        throw new ProtocolError('rate-limited', `more than ${limits.perClient} results streams open from this address`);
      if (streams.size + opening >= limits.total)
        throw new ProtocolError('unavailable', 'too many results streams are open on this API process; retry later');
      perClient.set(client, mine + 1);
      opening++;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const left = (perClient.get(client) ?? 1) - 1;
        if (left > 0) perClient.set(client, left);
        else perClient.delete(client);
      };
      let res: ServerResponse;
      let first: ResultsSnapshot;
      try {
        // The snapshot, not a refresh per stream: thousands of streams opening cost one refresh.
        const snap = await currentResults(electionId);
        if (!snap) throw new ProtocolError('unknown-election', `no election ${electionId}`);
        first = snap.value;
        reply.hijack();
        res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write(first.event);
      } catch (err) {
        release();
        throw err;
      } finally {
        opening--;
      }
      const sub: Subscriber = { res, log: req.log, client, version: 0, first: first.data };
      streams.add(res);
      const hub = hubOf(electionId);
      hub.subscribers.add(sub);
      // The hub may be ahead of the snapshot (it hears every change at once): then this stream gets it now.
      deliver(hub, sub);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        hub.subscribers.delete(sub);
        if (hub.subscribers.size === 0) closeHub(hub);
        streams.delete(res);
        release();
      };
      res.on('close', end);
      if (res.destroyed || res.writableEnded || req.raw.destroyed) end();
    },
  );
}
