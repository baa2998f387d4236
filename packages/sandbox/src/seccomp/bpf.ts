/**
 * Classic BPF as seccomp runs it: 8-byte instructions (`struct sock_filter`: u16 code, u8 jt, u8 jf,
 * u32 k, in host byte order), conditional jumps only forward and at most 255 instructions ahead.
 * A tiny assembler with labels keeps the filter readable; `encode` gives the bytes bubblewrap loads.
 */

export const Op = {
  /** A ← 32-bit word at offset k of `struct seccomp_data`. */
  LdAbsW: 0x20,
  /** A ← A & k. */
  AndK: 0x54,
  JaK: 0x05,
  JeqK: 0x15,
  JgtK: 0x25,
  JgeK: 0x35,
  JsetK: 0x45,
  RetK: 0x06,
} as const;

export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** Offsets into `struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }` (little-endian). */
export const DATA = {
  nr: 0,
  arch: 4,
  /** The low 32 bits of argument `i`. */
  argLow: (i: number) => 16 + 8 * i,
  /** The high 32 bits of argument `i`. */
  argHigh: (i: number) => 20 + 8 * i,
} as const;

/** Filter return values. */
export const RET = {
  killProcess: 0x80000000,
  allow: 0x7fff0000,
  errno: (e: number) => (0x00050000 | (e & 0xffff)) >>> 0,
} as const;

export const ERRNO = { EPERM: 1, ENOSYS: 38 } as const;

/** A jump target: a label, or `next` (fall through to the next instruction). */
export type Target = string;
export const NEXT = '';

type Pending = { code: number; k: number; jt: Target; jf: Target } | { label: string };

/** Collects instructions and labels; `assemble` resolves jumps and refuses any it cannot encode. */
export class Assembler {
  private readonly items: Pending[] = [];

  label(name: string): this {
    this.items.push({ label: name });
    return this;
  }
  load(offset: number): this {
    return this.op(Op.LdAbsW, offset);
  }
  and(mask: number): this {
    return this.op(Op.AndK, mask);
  }
  ret(value: number): this {
    return this.op(Op.RetK, value);
  }
  /** if (A == k) goto jt else goto jf. */
  jeq(k: number, jt: Target, jf: Target = NEXT): this {
    return this.op(Op.JeqK, k, jt, jf);
  }
  /** if (A >= k) goto jt else goto jf. */
  jge(k: number, jt: Target, jf: Target = NEXT): this {
    return this.op(Op.JgeK, k, jt, jf);
  }
  /** if (A & k) goto jt else goto jf. */
  jset(k: number, jt: Target, jf: Target = NEXT): this {
    return this.op(Op.JsetK, k, jt, jf);
  }

  private op(code: number, k: number, jt: Target = NEXT, jf: Target = NEXT): this {
    this.items.push({ code, k: k >>> 0, jt, jf });
    return this;
  }

  assemble(): Insn[] {
    const at = new Map<string, number>();
    let n = 0;
    for (const it of this.items) {
      if ('label' in it) {
        if (at.has(it.label)) throw new Error(`seccomp: label '${it.label}' defined twice`);
        at.set(it.label, n);
      } else n++;
    }
    const out: Insn[] = [];
    for (const it of this.items) {
      if ('label' in it) continue;
      const pc = out.length;
      const rel = (t: Target) => {
        if (t === NEXT) return 0;
        const to = at.get(t);
        if (to === undefined) throw new Error(`seccomp: jump to undefined label '${t}'`);
        const d = to - pc - 1;
        if (d < 0 || d > 255) throw new Error(`seccomp: jump from ${pc} to '${t}' (${to}) cannot be encoded`);
        return d;
      };
      out.push({ code: it.code, k: it.k, jt: rel(it.jt), jf: rel(it.jf) });
    }
    return out;
  }
}

/** The bytes of a program, as `struct sock_filter[]` on a little-endian machine (x86-64, arm64). */
export function encode(program: readonly Insn[]): Buffer {
  const b = Buffer.alloc(program.length * 8);
  program.forEach((i, n) => {
    b.writeUInt16LE(i.code, n * 8);
    b.writeUInt8(i.jt, n * 8 + 2);
    b.writeUInt8(i.jf, n * 8 + 3);
    b.writeUInt32LE(i.k >>> 0, n * 8 + 4);
  });
  return b;
}

export function decode(bytes: Buffer): Insn[] {
  if (bytes.length % 8 !== 0) throw new Error(`seccomp: ${bytes.length} bytes is not a whole number of instructions`);
  const out: Insn[] = [];
  for (let o = 0; o < bytes.length; o += 8)
    out.push({ code: bytes.readUInt16LE(o), jt: bytes.readUInt8(o + 2), jf: bytes.readUInt8(o + 3), k: bytes.readUInt32LE(o + 4) });
  return out;
}
