/**
 * Record ids and times for the append path, which runs once per tool call: monotonic ULIDs
 * (48-bit millisecond time, 80 random bits; within one millisecond, or when the clock steps back,
 * the previous id plus one) and the ISO time, each formatted once per millisecond. Times never
 * go below the latest one the log already holds, nor backward.
 */
import { randomFillSync } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const POOL_BYTES = 4096;

export class RecordClock {
  private lastMs = -1;
  private timePart = '';
  private iso = '';
  /** The random part as 16 base-32 digits. */
  private readonly random = new Uint8Array(16);
  private pool = Buffer.alloc(0);
  private timeMs = -1;
  private timeIso = '';
  private poolAt = 0;

  /** `floorMs`: the latest record time of the log reopened (its next records are not earlier). */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly floorMs = -1,
  ) {}

  /** The next id and the time it was taken at. */
  next(): { id: string; time: string } {
    // Not below a time `time()` gave either: the log's record times rise with seq, whichever gave them.
    const ms = Math.max(this.now(), this.floorMs, this.timeMs);
    if (ms > this.lastMs) {
      this.lastMs = ms;
      this.timePart = encodeTime(ms);
      this.iso = new Date(ms).toISOString();
      this.reseed();
    } else this.increment();
    let id = this.timePart;
    for (const digit of this.random) id += CROCKFORD[digit];
    return { id, time: this.iso };
  }

  /**
   * The time alone, for a record whose id was taken earlier: never below a time already given
   * (the daemon's clock does not run backward, and the floor holds).
   */
  time(): string {
    const ms = Math.max(this.now(), this.floorMs, this.lastMs, this.timeMs);
    if (ms !== this.timeMs) {
      this.timeMs = ms;
      this.timeIso = new Date(ms).toISOString();
    }
    return this.timeIso;
  }

  private reseed(): void {
    if (this.poolAt + 16 > this.pool.length) {
      this.pool = randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
      this.poolAt = 0;
    }
    // 256 is a multiple of 32, so the low five bits of a uniform byte are uniform.
    for (let i = 0; i < 16; i++) this.random[i] = this.pool[this.poolAt++]! & 31;
  }

  private increment(): void {
    for (let i = 15; i >= 0; i--) {
      if (this.random[i]! < 31) {
        this.random[i]!++;
        return;
      }
      this.random[i] = 0;
    }
    throw new Error('ULID random part exhausted within one millisecond');
  }
}

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = CROCKFORD[ms % 32]! + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}
