// The voter page's service worker (built to web/dist/sw.js, served at /sw.js so that its scope is the
// whole site): after one visit the page opens without a network.
// - install: the page shell (the voter page, its script and chunks, the stylesheet, the web app manifest
//   and the icons; the list is written in by web/build.ts) is cached under a name that changes with
//   every build, so a new build is a new worker and the old cache is dropped on activation;
// - the shell and `GET /api/v1/elections/{id}` (the election and its manifest) are fetched network-first,
//   the cache answering only when the network does not, so an online page is never stale;
// - the elections the page fetched before the worker controlled it are cached when the page says so;
// - everything else (ballots, receipts, results, the chain) goes to the network untouched: nothing that
//   changes is answered from a cache, and a POST never is.
// Typed against the DOM library the other web code uses; the few service-worker types are declared here.

interface SwExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface SwFetchEvent extends SwExtendableEvent {
  readonly request: Request;
  respondWith(r: Promise<Response>): void;
}
interface SwMessageEvent extends SwExtendableEvent {
  readonly data: unknown;
}
interface SwScope {
  addEventListener(type: 'install' | 'activate', fn: (e: SwExtendableEvent) => void): void;
  addEventListener(type: 'fetch', fn: (e: SwFetchEvent) => void): void;
  addEventListener(type: 'message', fn: (e: SwMessageEvent) => void): void;
  skipWaiting(): Promise<void>;
  readonly clients: { claim(): Promise<void> };
  readonly location: Location;
}

/** Written in by web/build.ts: the URL paths of the page shell, and a hash of their contents. */
declare const __SHELL__: string[];
declare const __VERSION__: string;

const sw = self as unknown as SwScope;
const SHELL_PREFIX = 'tallyproof-shell-';
const SHELL_CACHE = `${SHELL_PREFIX}${__VERSION__}`;
/** Elections looked at on this device; kept across builds (the data does not depend on the page). */
const DATA_CACHE = 'tallyproof-elections';
const SHELL = new Set(__SHELL__);
const ELECTION = /^\/api\/v1\/elections\/[a-z0-9][a-z0-9-]{0,63}$/;

sw.addEventListener('install', (e) => {
  e.waitUntil(
    caches
      .open(SHELL_CACHE)
      .then((c) => c.addAll([...SHELL]))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith(SHELL_PREFIX) && k !== SHELL_CACHE).map((k) => caches.delete(k))),
      )
      .then(() => sw.clients.claim()),
  );
});

/** The network's answer (a copy kept under `key` when it is a 200), else the cached one. */
async function networkFirst(req: Request, cacheName: string, key: string): Promise<Response> {
  const cache = await caches.open(cacheName);
  try {
    const res = await fetch(req);
    if (res.status === 200) await cache.put(key, res.clone());
    return res;
  } catch (err) {
    const cached = await cache.match(key);
    if (cached) return cached;
    throw err;
  }
}

sw.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== sw.location.origin) return;
  // The voter page under any query (?election=…&receipt=…) is the one page `/`.
  if (req.mode === 'navigate' && url.pathname === '/') e.respondWith(networkFirst(req, SHELL_CACHE, '/'));
  else if (SHELL.has(url.pathname) && url.search === '') e.respondWith(networkFirst(req, SHELL_CACHE, url.pathname));
  else if (ELECTION.test(url.pathname) && url.search === '') e.respondWith(networkFirst(req, DATA_CACHE, url.pathname));
});

// The page's first visit fetched its election before this worker controlled it: the page names the
// election URLs it has fetched (`{type: "cache", urls}`) and they are cached now, so that the next visit
// works offline. Only election URLs of this origin are taken.
sw.addEventListener('message', (e) => {
  const msg = e.data as { type?: unknown; urls?: unknown } | null;
  if (msg?.type !== 'cache' || !Array.isArray(msg.urls)) return;
  const paths = msg.urls
    .map((u) => {
      try {
        const url = new URL(String(u), sw.location.origin);
        return url.origin === sw.location.origin && url.search === '' && ELECTION.test(url.pathname)
          ? url.pathname
          : null;
      } catch {
        return null;
      }
    })
    .filter((p): p is string => p !== null);
  e.waitUntil(caches.open(DATA_CACHE).then((c) => Promise.all(paths.map((p) => c.add(p).catch(() => undefined)))));
});
