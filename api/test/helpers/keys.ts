// Many valid credential keys fast, for roll tests: consecutive points P0 + i·B (each a canonical point of
// large order), normalised to affine with one shared inversion (Montgomery's trick). ~11 µs a key,
// where generating key pairs costs ~70 µs.
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';

const P = 2n ** 255n - 19n;

function modpow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b %= P;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

/** `n` distinct valid Ed25519 public keys (32 raw bytes each), deterministic in `label`. */
export function validKeys(n: number, label = 'roll'): Buffer[] {
  const start = BigInt('0x' + createHash('sha256').update(label).digest('hex')) % ed25519.Point.Fn.ORDER;
  const B = ed25519.Point.BASE;
  const out: Buffer[] = new Array(n);
  const BATCH = 4096;
  let point = B.multiply(start === 0n ? 1n : start);
  for (let base = 0; base < n; base += BATCH) {
    const m = Math.min(BATCH, n - base);
    const pts = new Array(m);
    for (let i = 0; i < m; i++) {
      pts[i] = point;
      point = point.add(B);
    }
    const acc: bigint[] = new Array(m);
    let a = 1n;
    for (let i = 0; i < m; i++) {
      acc[i] = a;
      a = (a * pts[i].Z) % P;
    }
    let inv = modpow(a, P - 2n);
    for (let i = m - 1; i >= 0; i--) {
      const zi = (inv * acc[i]!) % P;
      inv = (inv * pts[i].Z) % P;
      const x = (pts[i].X * zi) % P;
      let y = (pts[i].Y * zi) % P;
      const bytes = Buffer.alloc(32);
      for (let j = 0; j < 32; j++) {
        bytes[j] = Number(y & 0xffn);
        y >>= 8n;
      }
      if (x & 1n) bytes[31]! |= 0x80;
      out[base + i] = bytes;
    }
  }
  return out;
}
