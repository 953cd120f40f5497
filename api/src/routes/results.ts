// Live results: JSON (or CSV) on request, and a Server-Sent Events stream pushed after every commit.
import type { FastifyInstance } from 'fastify';
import { ProtocolError } from '../errors.js';
import type { LiveResults } from '../services/tally.js';
import { commonErrorResponses, electionParams } from '../schemas/common.js';

export const resultsSchema = {
  type: 'object',
  required: ['electionId', 'tally', 'totalBallots', 'anchoredBallots', 'asOfSeq'],
  properties: {
    electionId: { type: 'string' },
    tally: {
      type: 'object',
      description: 'contest → choice → votes, every choice listed',
      additionalProperties: { type: 'object', additionalProperties: { type: 'integer' } },
    },
    totalBallots: { type: 'integer' },
    anchoredBallots: { type: 'integer', description: 'ballots in windows whose root is on chain' },
    asOfSeq: { type: 'integer', description: 'last seq counted, -1 when none' },
  },
} as const;

/** Results JSON, keys in DESIGN order (used for the SSE data lines, which bypass the serializer). */
export function resultsJson(r: LiveResults): string {
  return JSON.stringify({
    electionId: r.electionId,
    tally: r.tally,
    totalBallots: r.totalBallots,
    anchoredBallots: r.anchoredBallots,
    asOfSeq: r.asOfSeq,
  });
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per choice: contest,choice,votes (ids, so the file joins back to the manifest). */
export function resultsCsv(r: LiveResults): string {
  let out = 'contest,choice,votes\r\n';
  for (const [contest, choices] of Object.entries(r.tally)) {
    for (const [choice, n] of Object.entries(choices)) out += `${csvField(contest)},${csvField(choice)},${n}\r\n`;
  }
  return out;
}

const HEARTBEAT_MS = 15_000;

export default async function resultRoutes(app: FastifyInstance): Promise<void> {
  const { tally, streams } = app.tp;

  app.get(
    '/api/v1/elections/:electionId/results',
    {
      schema: {
        tags: ['results'],
        summary: 'Live tally',
        description:
          'JSON by default; `?format=csv` gives contest,choice,votes rows (totals in the X-Total-Ballots, X-Anchored-Ballots and X-As-Of-Seq headers).',
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
      const first = await tally.current(electionId);
      if (!first) throw new ProtocolError('unknown-election', `no election ${electionId}`);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      let last = '';
      const send = (r: LiveResults) => {
        const data = resultsJson(r);
        if (data === last || res.writableEnded) return;
        last = data;
        res.write(`event: results\nid: ${r.asOfSeq}\ndata: ${data}\n\n`);
      };
      send(first);
      streams.add(res);
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const unsubscribe = await tally.subscribe(electionId, send);
      const end = () => {
        clearInterval(heartbeat);
        unsubscribe?.();
        streams.delete(res);
      };
      if (res.writableEnded || req.raw.destroyed) end();
      else res.on('close', end);
    },
  );
}
