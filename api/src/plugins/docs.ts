// OpenAPI 3 from the route schemas (@fastify/swagger), browsable at /docs, raw at /docs/json.
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** Registered on the root instance (not as a child plugin): swagger's onRoute hook must see every route. */
export async function registerDocs(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Tallyproof API',
        version: '1',
        description:
          'Verifiable vote ledger. Errors are {"error":{"code","message"}} with the stable codes listed in api/README.md; the wire format is docs/protocol.md.',
      },
      tags: [
        { name: 'ballots', description: 'Casting ballots' },
        { name: 'elections', description: 'Elections' },
        { name: 'proofs', description: 'Receipts, proof bundles, windows, ledger export' },
        { name: 'results', description: 'Live tally' },
        {
          name: 'trustees',
          description: 'Encrypted elections: the trustees’ bulletin board, the aggregate, the decryption',
        },
        { name: 'admin', description: 'Election administration (bearer token)' },
        { name: 'operations', description: 'Health and metrics' },
      ],
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } } },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiHooks: {
      // @fastify/swagger-ui redirects /docs/static/index.html to /docs/ by rewriting the URL, which with a
      // query string leaves it unchanged: a redirect to itself, forever. Send every such request to /docs/.
      onRequest: (req, reply, done) => {
        if (req.url.split('?')[0]!.endsWith('/static/index.html')) reply.redirect('/docs/');
        else done();
      },
    },
  });
}
