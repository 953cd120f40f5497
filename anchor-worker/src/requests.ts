// What the API asks of the worker. Each request is first made durable in the ledger (a frozen roll is
// itself the registration request; a close request sets close_requested_at and closes the head), then a
// job is enqueued as the fast path. A failed enqueue is only logged: the worker's reconcile pass finds
// the request in the database within reconcileIntervalMs.
import type { Sql } from 'postgres';
import type { AnchorQueues, ChainJobData } from './queue.js';
import { errorMessage } from './errors.js';
import type { Logger } from './anchorer.js';

export interface AnchorRequests {
  /** Ask for registerElection of an election whose roll is frozen. Rejects for an unknown election. */
  requestRegistration(electionId: string): Promise<void>;
  /**
   * Close the election: once this resolves no ballot can be committed any more (the head is closed under
   * its lock) and the close is on record; the worker then seals and anchors the last window and sends
   * closeElection. Idempotent. Rejects for an unknown election or when the database is unavailable.
   */
  requestClose(electionId: string): Promise<void>;
  close(): Promise<void>;
}

export function anchorRequestsOver(sql: Sql, queues: AnchorQueues, log: Logger, onClose: () => Promise<void> = async () => {}): AnchorRequests {
  const enqueue = async (data: ChainJobData) => {
    try {
      await queues.addChainJob(data, 2000);
    } catch (err) {
      log('could not enqueue, the reconcile pass will pick the request up', { level: 'warn', electionId: data.electionId, job: data.kind, error: errorMessage(err) });
    }
  };
  return {
    async requestRegistration(electionId) {
      const [e] = await sql`SELECT roll_root IS NOT NULL AS frozen FROM elections WHERE election_id = ${electionId}`;
      if (!e) throw new Error(`requestRegistration: no election ${electionId}`);
      if (!e.frozen) log('registration requested before the roll is frozen; it will be sent once it is', { electionId });
      await enqueue({ kind: 'register', electionId });
    },
    async requestClose(electionId) {
      await sql.begin(async (tx) => {
        const [head] = await tx`SELECT closed FROM election_heads WHERE election_id = ${electionId} FOR UPDATE`;
        if (!head) throw new Error(`requestClose: no election ${electionId}`);
        if (!head.closed) await tx`UPDATE election_heads SET closed = true WHERE election_id = ${electionId}`;
        await tx`UPDATE elections SET close_requested_at = clock_timestamp() WHERE election_id = ${electionId} AND close_requested_at IS NULL`;
      });
      await enqueue({ kind: 'close', electionId });
    },
    close: onClose,
  };
}
