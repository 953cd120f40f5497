// Load generators and child processes for the HTTP ingest bench: autocannon with a new body per request,
// an open-loop paced sender, and the bare fastify route that gives the HTTP ceiling.
import type { ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

export function waitForUrl(child: ChildProcess, pattern: RegExp, what: string): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => reject(new Error(`${what} exited with ${code}:\n${out}`)));
  });
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

export const BARE_SERVER = `
import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.post('/api/v1/elections/:electionId/ballots', async (req, reply) => reply.code(201).send({ ok: true }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log('bare listening on http://127.0.0.1:' + app.server.address().port);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
`;

// ---------------------------------------------------------------------------------------------------
// autocannon with a new body per request; latencies of every response recorded for exact percentiles.

export interface LoadResult {
  seconds: number;
  statuses: Record<number, number>;
  latenciesMs: number[];
  used: number;
  errors: number;
}

export function drive(
  ballotsUrl: string,
  bodies: Buffer[],
  start: number,
  opts: { duration: number; connections: number; cycle?: boolean },
): Promise<LoadResult> {
  let next = start;
  const statuses: Record<number, number> = {};
  const latenciesMs: number[] = [];
  let instance: autocannon.Instance | null = null;
  let exhausted = false;
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    instance = autocannon(
      {
        url: ballotsUrl,
        method: 'POST',
        connections: opts.connections,
        pipelining: 1,
        duration: opts.duration,
        headers: { 'content-type': 'application/json' },
        requests: [
          {
            setupRequest: (req) => {
              if (next >= bodies.length) {
                if (!opts.cycle && !exhausted) {
                  // Out of fresh ballots: stop the run (the few requests still sent are resubmissions, 200).
                  exhausted = true;
                  setImmediate(() => instance?.stop());
                }
                next = start;
              }
              return { ...req, body: bodies[next++]! } as typeof req;
            },
          },
        ],
      },
      (err, result) => {
        if (err) return reject(err);
        resolve({
          seconds: Number(process.hrtime.bigint() - t0) / 1e9,
          statuses,
          latenciesMs,
          used: exhausted ? bodies.length - start : next - start,
          errors: result.errors + result.timeouts,
        });
      },
    ) as unknown as autocannon.Instance;
    instance!.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
      latenciesMs.push(responseTime);
    });
  });
}

/**
 * A fixed arrival rate, open-loop: request i is due at t0 + i/rate and is sent then whether or not earlier
 * ones were answered; its latency runs from that due time to the end of the response, so time spent
 * waiting for a free socket counts (no coordinated omission). autocannon's overallRate is not used here:
 * it gives each connection a budget per second that the connection spends at once, so "1,000/s" arrives
 * as one burst of 1,000 at the top of every second.
 */
export function paced(
  ballotsUrl: string,
  bodies: Buffer[],
  start: number,
  opts: { rate: number; duration: number; sockets: number },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.sockets });
  const target = new URL(ballotsUrl);
  const total = Math.round(opts.rate * opts.duration);
  const statuses: Record<number, number> = {};
  const latenciesMs: number[] = [];
  let sent = 0;
  let settled = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const settle = () => {
      if (++settled < total) return;
      agent.destroy();
      resolve({ seconds: (performance.now() - t0) / 1000, statuses, latenciesMs, used: sent, errors });
    };
    const send = (due: number) => {
      const body = bodies[start + sent++]!;
      const req = httpRequest(
        target,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } },
        (res) => {
          res.resume();
          res.once('end', () => {
            statuses[res.statusCode!] = (statuses[res.statusCode!] ?? 0) + 1;
            latenciesMs.push(performance.now() - due);
            settle();
          });
        },
      );
      req.once('error', () => {
        errors++;
        settle();
      });
      req.end(body);
    };
    const timer = setInterval(() => {
      const now = performance.now();
      while (sent < total && t0 + (sent * 1000) / opts.rate <= now) send(t0 + (sent * 1000) / opts.rate);
      if (sent >= total) clearInterval(timer);
    }, 1);
  });
}

/** The ingest transactions' count, total size and total seconds so far, from the API's /metrics. */
export async function ingestTransactionTotals(
  apiUrl: string,
): Promise<{ count: number; size: number; seconds: number }> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const read = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return {
    count: read('tallyproof_ingest_batch_size_count'),
    size: read('tallyproof_ingest_batch_size_sum'),
    seconds: read('tallyproof_ingest_batch_seconds_sum'),
  };
}
