// A sealed window's tree as C2SP tlog-tiles (docs/protocol.md section 14): hash tiles and entry bundles,
// immutable once the window is sealed, so a CDN may cache them forever and readers compute inclusion
// proofs from a few tile reads, checked against the roots on chain. The ETag is the window's root with the
// tile's coordinates: the root names exactly one sequence of leaves, hence one content for each tile, so a
// revalidation is answered without reading the tile.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  parseTilePath,
  sealedWindowOnClusters,
  readEntryBundle,
  readWindowTile,
  type SealedWindow,
} from '../../../ledger/src/index.js';
import { ProtocolError } from '../errors.js';
import { ifNoneMatch } from '../services/read-snapshots.js';
import { ID_PATTERN, UINT_QUERY_PATTERN, commonErrorResponses } from '../schemas/common.js';

export const TILE_CACHE_CONTROL = 'public, max-age=31536000, immutable';
/** A tile that does not exist yet (its window is not sealed) may exist soon: cache the 404 briefly. */
export const MISSING_TILE_CACHE_CONTROL = 'public, max-age=10';

/** Sealed windows kept per process (their rows never change but for the anchor, which tiles do not use). */
const WINDOW_CACHE_ENTRIES = 10_000;

/** A sealed window and the shard count of its election (which says the cluster holding it). */
interface KnownWindow {
  window: SealedWindow;
  shards: number;
}

class SealedWindowCache {
  private readonly entries = new Map<string, KnownWindow>();

  get(key: string): KnownWindow | undefined {
    const w = this.entries.get(key);
    if (w) {
      this.entries.delete(key);
      this.entries.set(key, w);
    }
    return w;
  }

  set(key: string, w: KnownWindow): void {
    this.entries.set(key, w);
    if (this.entries.size > WINDOW_CACHE_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}

const tileParams = (withShard: boolean) =>
  ({
    type: 'object',
    required: ['electionId', 'window', '*', ...(withShard ? ['shard'] : [])],
    additionalProperties: false,
    properties: {
      electionId: { type: 'string', pattern: ID_PATTERN },
      ...(withShard ? { shard: { type: 'string', pattern: UINT_QUERY_PATTERN } } : {}),
      window: { type: 'string', pattern: UINT_QUERY_PATTERN },
      '*': { type: 'string', maxLength: 100 },
    },
  }) as const;

const DESCRIPTION =
  'C2SP tlog-tiles of the sealed window’s RFC 6962 tree (docs/protocol.md section 14): `tile/<L>/<N>[.p/<W>]` ' +
  'hash tiles (W × 32 bytes: the tree’s hashes at level 8·L), `tile/entries/<N>[.p/<W>]` entry bundles (each ' +
  'ballot hash after its uint16 big-endian length, 32). The tree’s size is the window’s `count`; a tile that tree ' +
  'does not have is 404. Immutable: `Cache-Control: public, max-age=31536000, immutable` and a strong ETag.';

export default async function tileRoutes(app: FastifyInstance): Promise<void> {
  const { clusters } = app.tp;
  const windows = new SealedWindowCache();

  async function sealedWindow(electionId: string, shard: number, index: number): Promise<KnownWindow | null> {
    const key = `${electionId}/${shard}/${index}`;
    const hit = windows.get(key);
    if (hit) return hit;
    const known = await sealedWindowOnClusters(clusters, electionId, shard, index);
    if (known === 'unknown-election') throw new ProtocolError('unknown-election', `no election ${electionId}`);
    if (known) windows.set(key, known);
    return known;
  }

  async function serveTile(req: FastifyRequest, reply: FastifyReply, shard: number) {
    const params = req.params as { electionId: string; window: string; '*': string };
    const notFound = (what: string) => {
      reply.header('cache-control', MISSING_TILE_CACHE_CONTROL);
      return new ProtocolError('not-found', what);
    };
    const tile = parseTilePath(`tile/${params['*']}`);
    if (!tile) throw notFound(`tile/${params['*']} is not a tile path (docs/protocol.md section 14)`);
    const index = Number(params.window);
    if (!Number.isSafeInteger(index) || index > 2 ** 31 - 1 || shard > 2 ** 31 - 1) {
      throw notFound(`no window ${params.window}`);
    }
    const known = await sealedWindow(params.electionId, shard, index);
    const where = `election ${params.electionId}${shard === 0 ? '' : ` shard ${shard}`} window ${index}`;
    if (!known) throw notFound(`${where} is not sealed`);
    const w = known.window;
    const etag = `"${w.root}-${tile.kind === 'entries' ? 'e' : tile.level}-${tile.index}-${tile.width}"`;
    const sql = clusters.sqlFor(w.shard, known.shards);
    let body: Buffer | null;
    if (ifNoneMatch(req.headers['if-none-match'], etag)) body = null;
    else {
      body =
        tile.kind === 'entries'
          ? await readEntryBundle(sql, w, tile.index, tile.width)
          : await readWindowTile(sql, w, tile);
      if (!body) throw notFound(`${where} (${w.count} ballots) has no tile/${params['*']}`);
    }
    // Public, immutable and checked by every reader against the chain: any page may read them (a voter page or
    // an observer's served from elsewhere).
    reply.header('cache-control', TILE_CACHE_CONTROL).header('etag', etag).header('access-control-allow-origin', '*');
    if (body === null) return reply.code(304).send();
    return reply.type('application/octet-stream').send(body);
  }

  const schema = (withShard: boolean) => ({
    tags: ['proofs'],
    summary: withShard ? 'Tiles of a shard’s sealed window' : 'Tiles of a sealed window',
    description: DESCRIPTION,
    params: tileParams(withShard),
    produces: ['application/octet-stream'],
    response: {
      200: { description: 'the tile’s bytes', content: { 'application/octet-stream': { schema: { type: 'string' } } } },
      ...commonErrorResponses,
    },
  });

  app.get('/api/v1/elections/:electionId/windows/:window/tile/*', { schema: schema(false) }, (req, reply) =>
    serveTile(req, reply, 0),
  );
  app.get(
    '/api/v1/elections/:electionId/shards/:shard/windows/:window/tile/*',
    { schema: schema(true) },
    (req, reply) => serveTile(req, reply, Number((req.params as { shard: string }).shard)),
  );
}
