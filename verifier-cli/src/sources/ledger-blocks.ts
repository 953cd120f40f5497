// The ledger's NDJSON, from either source, cut into blocks of whole lines for the row-check workers.
// The main thread only finds line ends in the bytes: it never decodes or parses a line.

/** A piece of the ledger that ends at a line end (or the stream's end): whole lines, as bytes. */
export interface LedgerBlock {
  bytes: Uint8Array;
  /** Lines in the block (newlines, plus one for a last line without one). */
  lines: number;
}

const NEWLINE = 0x0a;

function countNewlines(bytes: Uint8Array): number {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let i = buf.indexOf(NEWLINE); i !== -1; i = buf.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

function concatBytes(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total); // a fresh ArrayBuffer of its own: transferable to a worker
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/**
 * Cuts a byte stream into blocks of whole lines of about `targetBytes` (never splitting a line, however
 * the stream is chunked), so the main thread hands raw bytes to the workers and never decodes or splits
 * lines itself.
 */
export async function* ledgerBlocks(
  chunks: AsyncIterable<Uint8Array>,
  targetBytes = 128 * 1024,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<LedgerBlock> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const chunk of chunks) {
    onBytes?.(chunk.byteLength);
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let offset = 0;
    while (offset < buf.length) {
      // The block ends at the first line end once it holds targetBytes.
      const end = buf.indexOf(NEWLINE, offset + Math.max(0, targetBytes - pendingBytes - 1));
      if (end === -1) {
        pending.push(buf.subarray(offset));
        pendingBytes += buf.length - offset;
        break;
      }
      pending.push(buf.subarray(offset, end + 1));
      const bytes = concatBytes(pending, pendingBytes + end + 1 - offset);
      yield { bytes, lines: countNewlines(bytes) };
      pending = [];
      pendingBytes = 0;
      offset = end + 1;
    }
  }
  if (pendingBytes > 0) {
    const bytes = concatBytes(pending, pendingBytes);
    yield { bytes, lines: countNewlines(bytes) + (bytes[bytes.byteLength - 1] === NEWLINE ? 0 : 1) };
  }
}
