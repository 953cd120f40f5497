// Clients that hold connections: a body dripped a byte at a time, headers that never end, results streams
// opened past the caps, and a stream reader that stops reading. Real sockets against a real server; every
// wait is on an event or a condition, bounded by the test timeout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { ballotFor, type Voter } from '../../test/support/fixtures.js';
import { createTestDatabase, type TestDatabase } from '../../test/support/db.js';
import { build, type TestApi } from './helper.js';

/** Resolves when `check` holds, polling on the event loop; the test timeout bounds it. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 20));
}

function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.on('error', () => {}); // a reset by the server is one of the outcomes under test
  return once(socket, 'connect').then(() => socket);
}

/** Everything the server sent until it closed the socket. */
function readAll(socket: Socket): Promise<string> {
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  return once(socket, 'close').then(() => text);
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  await db?.drop();
});

describe('request timeouts', () => {
  let api: TestApi;

  beforeAll(async () => {
    api = await build({ db, timeouts: { requestMs: 1500, headersMs: 1000 } });
    await api.election('slow', 1);
  });

  afterAll(async () => {
    await api?.close();
  });

  it('cuts off a client that sends the headers, then drips the body a byte a second', async () => {
    const socket = await open(api.url);
    const answer = readAll(socket);
    const body = JSON.stringify({ manifest: {}, roll: [] });
    socket.write(
      `POST /api/v1/elections/slow/ballots HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n`,
    );
    let sent = 0;
    const drip = setInterval(() => {
      if (!socket.destroyed && sent < body.length) socket.write(body[sent++]!);
    }, 1000);
    try {
      const text = await answer; // the close event: the server ended the connection
      expect(sent).toBeLessThan(body.length);
      expect(text).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
    }
  });

  it('cuts off a client whose headers never end', async () => {
    const socket = await open(api.url);
    const answer = readAll(socket);
    socket.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n');
    const drip = setInterval(() => !socket.destroyed && socket.write('X-Slow: 1\r\n'), 300);
    try {
      expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
    } finally {
      clearInterval(drip);
    }
  });

  it('still serves a request sent at a normal pace', async () => {
    const r = await api.request('GET', '/api/v1/elections/slow');
    expect(r.status).toBe(200);
  });
});

describe('results streams', () => {
  let api: TestApi;

  beforeAll(async () => {
    // The client address is the X-Forwarded-For hop, so one test machine plays several clients.
    api = await build({ db, trustProxy: 1, resultsStreams: { perClient: 2, total: 3 } });
    await api.election('streams', 1);
  });

  afterAll(async () => {
    await api?.close();
  });

  /** Opens a stream as client `ip`; resolves with the status and the socket once the headers are in. */
  async function stream(ip: string): Promise<{ status: number; head: string; socket: Socket }> {
    const socket = await open(api.url);
    socket.write(`GET /api/v1/elections/streams/results/stream HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${ip}\r\n\r\n`);
    let head = '';
    while (!head.includes('\r\n\r\n')) {
      const [chunk] = (await once(socket, 'data')) as [Buffer];
      head += chunk.toString('latin1');
    }
    return { status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1]), head, socket };
  }

  it('caps streams per client (429) and in all (503), with the error body, and frees slots on close', async () => {
    const a1 = await stream('10.0.0.1');
    const a2 = await stream('10.0.0.1');
    expect([a1.status, a2.status]).toEqual([200, 200]);
    const a3 = await stream('10.0.0.1');
    expect(a3.status).toBe(429);
    expect(a3.head).toContain('"code":"rate-limited"');
    const b1 = await stream('10.0.0.2');
    expect(b1.status).toBe(200);
    const c1 = await stream('10.0.0.3');
    expect(c1.status).toBe(503);
    expect(c1.head).toContain('"code":"unavailable"');
    expect(c1.head.toLowerCase()).toContain('retry-after:');

    a1.socket.destroy();
    await until(() => api.app.tp.streams.size === 2);
    const c2 = await stream('10.0.0.3');
    expect(c2.status).toBe(200);
    const a4 = await stream('10.0.0.1');
    expect(a4.status).toBe(503); // 10.0.0.1 has one open, but the total is reached
    for (const s of [a2, a3, b1, c1, c2, a4]) s.socket.destroy();
    await until(() => api.app.tp.streams.size === 0);
    const again = await stream('10.0.0.1');
    expect(again.status).toBe(200);
    again.socket.destroy();
  });
});

describe('a results stream whose client does not read', () => {
  let api: TestApi;
  let vs: Voter[];
  let selections: Record<string, string[]>;
  const E = 'wide';

  beforeAll(async () => {
    api = await build({ db, resultsStreams: { maxBufferedBytes: 64 * 1024 } });
    // The widest manifest the protocol allows: each event carries every choice, about 600 KB, so a few
    // events fill the kernel's socket buffers and then this process's.
    const contests = Array.from({ length: 64 }, (_, c) => ({
      id: `contest-${String(c).padStart(2, '0')}`,
      title: `Contest ${c}`,
      choices: Array.from({ length: 256 }, (_, k) => ({
        id: `choice-${String(k).padStart(3, '0')}-${'x'.repeat(24)}`,
        label: `${k}`,
      })),
      minSelections: 0,
      maxSelections: 1,
    }));
    ({ voters: vs } = await api.election(E, 40, { contests }));
    selections = Object.fromEntries(contests.map((c, i) => [c.id, i === 0 ? [c.choices[0]!.id] : []]));
  });

  afterAll(async () => {
    await api?.close();
  });

  it('is dropped once its buffer passes the bound; a reading client keeps its stream', async () => {
    const reader = await fetch(`${api.url}/api/v1/elections/${E}/results/stream`);
    const readerBody = reader.body!.getReader();
    // The last event id (asOfSeq) the reading client got; ids are short, so a small tail is kept across chunks.
    let lastId = -2;
    let tail = '';
    const decoder = new TextDecoder();
    const reading = (async () => {
      for (;;) {
        const { done, value } = await readerBody.read();
        if (done) return;
        const text = tail + decoder.decode(value, { stream: true });
        for (const m of text.matchAll(/\nid: (-?\d+)\n/g)) lastId = Number(m[1]);
        tail = text.slice(-32);
      }
    })();
    await until(() => lastId === -1);

    const socket = await open(api.url);
    socket.write(`GET /api/v1/elections/${E}/results/stream HTTP/1.1\r\nHost: x\r\n\r\n`);
    await once(socket, 'data');
    socket.pause(); // never reads again: the events pile up on the server
    const closed = once(socket, 'close');
    await until(() => api.app.tp.streams.size === 2);

    let cast = 0;
    // Each accepted ballot changes the results: one event per ballot, to both streams.
    while (api.app.tp.streams.size === 2) {
      expect(cast, 'the stream was never dropped').toBeLessThan(vs.length);
      const r = await api.request('POST', `/api/v1/elections/${E}/ballots`, {
        json: ballotFor(vs[cast]!, E, selections),
      });
      expect(r.status, r.text).toBe(201);
      cast++;
      await until(() => lastId === cast - 1 || api.app.tp.streams.size < 2);
    }
    expect(api.app.tp.streams.size).toBe(1);
    socket.resume();
    await closed;
    // The reading client got every event, the last ballot's included.
    await until(() => lastId === cast - 1);
    await readerBody.cancel();
    await reading.catch(() => {});
  });
});
