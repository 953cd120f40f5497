// The admin bearer check. Both sides are hashed to a fixed length first so that timingSafeEqual compares
// in constant time whatever the length of the presented token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ProtocolError } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** onRequest hook: refuse (401) before the body is read unless `Authorization: Bearer <ADMIN_TOKEN>`. */
export function requireAdmin(adminToken: string | null) {
  return async (req: FastifyRequest): Promise<void> => {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
    if (adminToken === null)
      throw new ProtocolError('unauthorized', 'admin routes are disabled: ADMIN_TOKEN is not set');
    if (!m || !tokenMatches(m[1]!, adminToken))
      throw new ProtocolError('unauthorized', 'a valid admin bearer token is required (Authorization: Bearer …)');
  };
}
