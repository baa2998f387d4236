/**
 * A checker and an interpreter for seccomp programs: the checker proves a program loads and always
 * ends in a return (every jump lands inside it, nothing falls off the end); the interpreter runs it
 * on a syscall, which is how the tests show what the filter decides without trusting the kernel alone.
 */
import { type Insn, Op } from './bpf.js';

/** The kernel's limit (BPF_MAXINSNS). */
export const MAX_INSNS = 4096;
const SECCOMP_DATA_SIZE = 64;
const JUMPS = new Set<number>([Op.JeqK, Op.JgtK, Op.JgeK, Op.JsetK]);
const KNOWN = new Set<number>([Op.LdAbsW, Op.AndK, Op.JaK, Op.RetK, ...JUMPS]);

/** Every problem found (none: the program is well formed). */
export function checkProgram(p: readonly Insn[]): string[] {
  const problems: string[] = [];
  if (p.length === 0 || p.length > MAX_INSNS) problems.push(`length ${p.length} is outside 1..${MAX_INSNS}`);
  p.forEach((i, pc) => {
    if (!KNOWN.has(i.code)) problems.push(`${pc}: unknown opcode 0x${i.code.toString(16)}`);
    if (i.code === Op.LdAbsW && (i.k % 4 !== 0 || i.k + 4 > SECCOMP_DATA_SIZE))
      problems.push(`${pc}: load at ${i.k} is outside seccomp_data`);
    if (JUMPS.has(i.code)) {
      for (const d of [i.jt, i.jf]) if (pc + 1 + d >= p.length) problems.push(`${pc}: jump +${d} lands past the end`);
    } else if (i.code === Op.JaK) {
      if (pc + 1 + i.k >= p.length) problems.push(`${pc}: jump +${i.k} lands past the end`);
    } else if (i.code !== Op.RetK && pc + 1 >= p.length) problems.push(`${pc}: falls off the end`);
    if (!JUMPS.has(i.code) && (i.jt !== 0 || i.jf !== 0)) problems.push(`${pc}: jt/jf set on a non-jump`);
  });
  if (p.length > 0 && p[p.length - 1]!.code !== Op.RetK) problems.push('the last instruction is not a return');
  return problems;
}

export interface SyscallData {
  nr: number;
  arch: number;
  /** Up to six arguments (bigint for 64-bit values). */
  args?: (number | bigint)[];
}

/** What the program returns for a syscall (it must have passed `checkProgram`). */
export function runProgram(p: readonly Insn[], d: SyscallData): number {
  const data = Buffer.alloc(SECCOMP_DATA_SIZE);
  data.writeInt32LE(d.nr, 0);
  data.writeUInt32LE(d.arch >>> 0, 4);
  (d.args ?? []).forEach((v, i) => data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), 16 + 8 * i));
  let a = 0;
  for (let pc = 0; pc < p.length;) {
    const i = p[pc]!;
    switch (i.code) {
      case Op.LdAbsW:
        a = data.readUInt32LE(i.k);
        pc++;
        break;
      case Op.AndK:
        a = (a & i.k) >>> 0;
        pc++;
        break;
      case Op.JaK:
        pc += 1 + i.k;
        break;
      case Op.RetK:
        return i.k >>> 0;
      default: {
        const taken = i.code === Op.JeqK ? a === i.k : i.code === Op.JgtK ? a > i.k : i.code === Op.JgeK ? a >= i.k : (a & i.k) !== 0;
        pc += 1 + (taken ? i.jt : i.jf);
      }
    }
  }
  throw new Error('seccomp: the program fell off its end');
}
