/**
 * Whether a parsed request can be decided on faithfully: the object the policy judges, the log
 * hashes and an approver sees must be the one the tool gets. Three things break that, so the
 * channels refuse them before anything is decided, fetched or counted:
 *
 * - a key named `__proto__`. JSON.parse makes it an ordinary own key, but much of JavaScript does
 *   not: an assignment `out[key] = v` sets a prototype instead, and validators (zod among them) drop
 *   the key. The policy and the log would see the arguments without it, the tool with it;
 * - a number JSON.parse reads as Infinity (`1e400`): the canonical form the log hashes has none;
 * - nesting deeper than `MAX_JSON_DEPTH`: no policy reads that deep, and the recursive readers
 *   downstream (canonical JSON, redaction) would run out of stack.
 *
 * And, read from the text since the parsed value has lost it, an integer JSON.parse rounds
 * (`roundedNumber`).
 */

/** The deepest nesting a request may have (the request itself is depth 0). */
export const MAX_JSON_DEPTH = 64;

/** A key as lenient decoders compare them (Go's encoding/json, ASP.NET binding): compatibility-normalised, case-folded. */
export function foldKey(key: string): string {
  // ASCII is its own NFKC form, and upper-then-lower casing is lower casing there: the common case, fast.
  return ASCII.test(key) ? key.toLowerCase() : key.normalize('NFKC').toUpperCase().toLowerCase();
}

const ASCII = /^[\x00-\x7f]*$/;

/**
 * `foldedKeys`: also refuse an object with two keys that differ only in letter case or Unicode
 * form, which a lenient decoder on the other side could read either of (the MCP proxy's upstreams).
 */
export function unfaithfulJson(value: unknown, root = '$', options: { foldedKeys?: boolean } = {}): string | undefined {
  const fault = walk(value, 0, options.foldedKeys === true);
  if (!fault) return undefined;
  let path = root;
  for (let i = fault.at.length - 1; i >= 0; i--) {
    const step = fault.at[i]!;
    path += typeof step === 'number' ? `[${step}]` : `.${step}`;
  }
  return fault.why(path);
}

/** What is wrong, and where: the steps from the fault up to the root (a path is built only for a fault). */
interface Fault {
  at: (string | number)[];
  why: (path: string) => string;
}

const fault = (why: (path: string) => string): Fault => ({ at: [], why });

/** Depth-first, in document order; recursion is bounded by MAX_JSON_DEPTH. */
function walk(v: unknown, depth: number, folded: boolean): Fault | undefined {
  if (typeof v === 'number')
    return Number.isFinite(v) ? undefined : fault((p) => `${p} is a number too large to represent: refused, because it reads as Infinity`);
  if (v === null || typeof v !== 'object') return undefined;
  if (depth >= MAX_JSON_DEPTH) return fault((p) => `${p} nests deeper than ${MAX_JSON_DEPTH} levels: refused`);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const f = walk(v[i], depth + 1, folded);
      if (f) return (f.at.push(i), f);
    }
    return undefined;
  }
  if (Object.hasOwn(v, '__proto__'))
    return fault(
      (p) => `${p}.__proto__ is a key named __proto__: refused, because the policy and the log would not see the object the tool gets`,
    );
  const keys = Object.keys(v);
  if (folded && keys.length > 1) {
    const seen = new Map<string, string>();
    for (const k of keys) {
      const key = foldKey(k);
      const other = seen.get(key);
      if (other !== undefined)
        return fault(
          (p) =>
            `${p} has keys '${other}' and '${k}', which differ only in letter case or Unicode form: refused, because the tool could read either`,
        );
      seen.set(key, k);
    }
  }
  for (const k of keys) {
    const f = walk((v as Record<string, unknown>)[k], depth + 1, folded);
    if (f) return (f.at.push(k), f);
  }
  return undefined;
}

/**
 * Why valid JSON `text` cannot be decided on faithfully because of a number JSON.parse rounds, if it
 * holds one: `12345678901234567999` reads as 12345678901234567000, the number an approver is shown
 * and the approval binds, while a tool in Python, Go or behind a proxy gets the number as written.
 * Every such pair would be one call to the policy and two to the tool, so an approval of one would
 * run the other (and `1.0000000000000000001` would pass `amount <= 1` to a tool reading decimals).
 *
 * Up to 15 significant digits, distinct numbers read as distinct doubles, so nothing is lost that
 * tells two calls apart. Past that, a number is taken only when its digits are those of the number it
 * reads as, shortest form (what JavaScript, Python and Go write for a double they hold), in whatever
 * layout: `12345678901234567000`, `1.2345678901234567e+19` and `12345678901234567000.0` alike.
 */
export function roundedNumber(text: string): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // A string: skipped whole, escapes included (digits in it are no number).
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if (c === MINUS || isDigit(c)) {
      // Outside a string, in valid JSON, a digit or a minus starts a number.
      let end = i + 1;
      let digits = isDigit(c) ? 1 : 0;
      let exponent = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (isDigit(d)) digits++;
        else if (d === 0x65 || d === 0x45) exponent = true;
        else if (d !== DOT && d !== PLUS && d !== MINUS) break;
      }
      const literal = text.slice(i, end);
      i = end - 1;
      // Up to 15 digits and no exponent: exact enough (an exponent may reach where doubles thin out, `1e-400` reads as 0).
      if (digits < 16 && !exponent) continue;
      const read = Number(literal);
      // A number read as infinite is refused by unfaithfulJson, with its path.
      if (!Number.isFinite(read)) continue;
      // Written as JavaScript writes it (the common case, and the cheap one), or laid out otherwise.
      const printed = String(read);
      if (printed === literal || sameDecimal(literal, printed)) continue;
      const what = /[.eE]/.test(literal) ? 'number' : 'integer';
      return `the ${what} ${shown(literal)} reads as ${printed} (JSON numbers are doubles: past 15 significant digits they are rounded): refused, because the policy, the log and an approver would see another number than the tool gets; send it as a string`;
    }
  }
  return undefined;
}

/** Whether two JSON number literals (or JavaScript's writing of one) name the same decimal value. */
function sameDecimal(a: string, b: string): boolean {
  const x = decimal(a);
  const y = decimal(b);
  return x.negative === y.negative && x.digits === y.digits && (x.digits === '' || x.exponent === y.exponent);
}

/** A number literal as sign, significant digits (no leading or trailing zeros) and the power of ten of the last. */
function decimal(literal: string): { negative: boolean; digits: string; exponent: number } {
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(literal)!;
  const fraction = m[3] ?? '';
  const all = m[2]! + fraction;
  // Trimmed by scanning, not by `/0+$/`: that regex retries at every zero of a run not at the end,
  // quadratic in an agent's `1.000…0001` (a 1 MiB body would hold the daemon for minutes).
  let start = 0;
  let end = all.length;
  while (start < end && all.charCodeAt(start) === ZERO) start++;
  while (end > start && all.charCodeAt(end - 1) === ZERO) end--;
  const digits = all.slice(start, end);
  const exponent = Number(m[4] ?? 0) - fraction.length + (all.length - end);
  return { negative: m[1] === '-' && digits !== '', digits, exponent };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
/** A literal as a message quotes it: an agent's megabyte of digits is not echoed back whole. */
const shown = (literal: string) =>
  literal.length <= 64 ? literal : `${literal.slice(0, 40)}…${literal.slice(-16)} (${literal.length} characters)`;
