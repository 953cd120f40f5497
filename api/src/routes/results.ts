// Live results: JSON (or CSV) on request, and a Server-Sent Events stream pushed after every commit.
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { ProtocolError } from '../errors.js';
import type { LiveResults } from '../services/tally.js';
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

/** Caps on results streams, per API process. */
export interface StreamLimits {
  /** Open streams per client address (the address rate limits see: X-Forwarded-For behind TRUST_PROXY). */
  perClient: number;
  /** Open streams in all. */
  total: number;
  /** A client that has not taken this many bytes of earlier events when a new one is due is dropped. */
  maxBufferedBytes: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = { perClient: 20, total: 2000, maxBufferedBytes: 1024 * 1024 };

export default async function resultRoutes(
  app: FastifyInstance,
  opts: { limits?: Partial<StreamLimits> },
): Promise<void> {
  const { tally, streams } = app.tp;
  const limits = { ...DEFAULT_STREAM_LIMITS, ...opts.limits };
  /** Streams open or being opened, per client address; `opening` counts those not yet in `streams`. */
  const perClient = new Map<string, number>();
  let opening = 0;

  app.get(
    '/api/v1/elections/:electionId/results',
    {
      schema: {
        tags: ['results'],
        summary: 'Live tally',
        description:
          'JSON by default; `?format=csv` gives contest,choice,votes rows, each contest followed by its `(blank)` and `(ballots counted)` rows ' +
          '(totals in the X-Total-Ballots, X-Anchored-Ballots and X-As-Of-Seq headers). Percentages are of a contest’s ballotsCounted.',
        params: electionParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { format: { type: 'string', enum: ['json', 'csv'] } },
        },
        response: { 200: resultsSchema, ...commonErrorResponses },
      },
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      const r = await tally.current(electionId);
      if (!r) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      if ((req.query as { format?: string }).format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('x-total-ballots', String(r.totalBallots))
          .header('x-anchored-ballots', String(r.anchoredBallots))
          .header('x-as-of-seq', String(r.asOfSeq))
          .serializer((s: unknown) => s as string)
          .send(resultsCsv(r));
      }
      return r;
    },
  );

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
    },
    async (req, reply) => {
      const { electionId } = req.params as { electionId: string };
      // Each stream holds a socket and a subscription for as long as the client likes: capped per client
      // address and in all. The slot is taken before any await, so concurrent opens cannot pass the cap.
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
      let first: LiveResults | null;
      try {
        first = await tally.current(electionId);
        if (!first) throw new ProtocolError('unknown-election', `no election ${electionId}`);
        reply.hijack();
        res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
        });
        res.write(event(first));
      } catch (err) {
        release();
        throw err;
      } finally {
        opening--;
      }
      let last = resultsJson(first);
      // A client that does not read lets the events pile up in this process: past the bound it is dropped
      // (it may reconnect; the first event of a stream is always the current results).
      const write = (text: string) => {
        if (res.destroyed || res.writableEnded) return;
        if (res.writableLength > limits.maxBufferedBytes) {
          req.log.info({ client, buffered: res.writableLength }, 'results stream dropped: the client does not read');
          res.destroy();
          return;
        }
        res.write(text);
      };
      const send = (r: LiveResults) => {
        const data = resultsJson(r);
        if (data === last) return;
        last = data;
        write(`event: results\nid: ${r.asOfSeq}\ndata: ${data}\n\n`);
      };
      streams.add(res);
      const heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      let unsubscribe: (() => void) | null = null;
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe?.();
        streams.delete(res);
        release();
      };
      res.on('close', end);
      try {
        const off = await tally.subscribe(electionId, send);
        if (ended) off?.();
        else unsubscribe = off;
        if (off === null) res.end(); // the election is gone (never, for a stored one)
      } catch (err) {
        req.log.warn({ err }, 'results stream subscription failed');
        res.destroy();
      }
      if (res.destroyed || res.writableEnded || req.raw.destroyed) end();
    },
  );
}

function event(r: LiveResults): string {
  return `event: results\nid: ${r.asOfSeq}\ndata: ${resultsJson(r)}\n\n`;
}
