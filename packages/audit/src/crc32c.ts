/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum of every log frame.
 * `@node-rs/crc32` computes it with the CPU's CRC instructions, in half the time of the portable
 * code below for a record (verification reads every frame). The portable code — slicing-by-8:
 * eight tables fold eight bytes a step — stands in where no prebuilt binary loads.
 */
import { createRequire } from 'node:module';

const TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) t[k]![n] = (t[k - 1]![n]! >>> 8) ^ t[0]![t[k - 1]![n]! & 0xff]!;
  return t;
})();
const [T0, T1, T2, T3, T4, T5, T6, T7] = TABLES as [
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
  Uint32Array,
];

export function crc32cPortable(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    c =
      T7[c & 0xff]! ^
      T6[(c >>> 8) & 0xff]! ^
      T5[(c >>> 16) & 0xff]! ^
      T4[c >>> 24]! ^
      T3[bytes[i + 4]!]! ^
      T2[bytes[i + 5]!]! ^
      T1[bytes[i + 6]!]! ^
      T0[bytes[i + 7]!]!;
  }
  for (; i < bytes.length; i++) c = T0[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

type Crc32c = (bytes: Uint8Array, crc?: number) => number;

const native = ((): Crc32c | undefined => {
  try {
    const { crc32c } = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c: (b: Buffer, crc?: number) => number };
    // Checked once against the portable code: a binary that answers differently is not used.
    const probe = Buffer.from('123456789');
    return crc32c(probe) === 0xe3069283 && crc32c(probe, 0x1234) === crc32cPortable(probe, 0x1234)
      ? (bytes, crc) => crc32c(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), crc)
      : undefined;
  } catch {
    return undefined;
  }
})();

/** CRC-32C of `bytes`, continuing from `crc` (the CRC of what came before them). */
export const crc32c: Crc32c = native ?? crc32cPortable;
