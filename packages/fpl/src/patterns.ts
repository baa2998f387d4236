/**
 * Tool patterns: `stripe/refund` is exact (case-sensitive), `*` matches one segment (no `/`),
 * `**` any number of segments, and `*` inside a segment (`*_search`) any run of non-`/` characters.
 */

/** Why a pattern (or a tool id) is malformed, or undefined when it is fine. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'is empty';
  if (pattern.length > 1024) return 'is longer than 1024 characters';
  if (/[\s\p{Cc}]/u.test(pattern)) return 'contains whitespace or a control character';
  for (const segment of pattern.split('/')) {
    if (segment === '') return "has an empty segment (a leading, trailing or doubled '/')";
    if (segment === '.' || segment === '..') return `has a '${segment}' segment`;
    if (segment.includes('**') && segment !== '**') return "uses '**' inside a segment: '**' must be a whole segment";
  }
  return undefined;
}

export function isGlob(pattern: string): boolean {
  return pattern.includes('*');
}

/** Does `pattern` match the tool id? */
export function matchTool(pattern: string, tool: string): boolean {
  if (!isGlob(pattern)) return pattern === tool;
  return matchSegments(pattern.split('/'), 0, tool.split('/'), 0, new Set());
}

/**
 * Segment lists are matched by recursion at each `**`. The positions `(i, j)` already known not to
 * match are remembered (`failed`), so several `**` cost O(|p|·|t|²), never |t|^(number of `**`):
 * a tool id of a few hundred segments must not stall the decision.
 */
function matchSegments(p: string[], i: number, t: string[], j: number, failed: Set<number>): boolean {
  while (i < p.length) {
    const seg = p[i]!;
    if (seg === '**') {
      if (i === p.length - 1) return true;
      for (let k = j; k <= t.length; k++) if (tryOnce(failed, i + 1, k, t.length, () => matchSegments(p, i + 1, t, k, failed))) return true;
      return false;
    }
    if (j >= t.length || !matchSegment(seg, t[j]!)) return false;
    i++;
    j++;
  }
  return j === t.length;
}

/** One segment with `*` wildcards, matched without backtracking blow-up (greedy with last-star restart). */
export function matchSegment(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === text[t] && pattern[p] !== '*') {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = t;
    } else if (star !== -1) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Does every tool `inner` matches also match `outer`? Conservative: true only when provable,
 * which is what warnings need (a false "never matches" warning would be worse than a missed one).
 */
export function covers(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  if (!isGlob(inner)) return matchTool(outer, inner);
  return coverSegments(outer.split('/'), 0, inner.split('/'), 0, new Set());
}

function coverSegments(o: string[], i: number, n: string[], j: number, failed: Set<number>): boolean {
  while (i < o.length) {
    const seg = o[i]!;
    if (seg === '**') {
      if (i === o.length - 1) return true;
      for (let k = j; k <= n.length; k++) if (tryOnce(failed, i + 1, k, n.length, () => coverSegments(o, i + 1, n, k, failed))) return true;
      return false;
    }
    if (j >= n.length) return false;
    const inner = n[j]!;
    if (inner === '**') return false;
    if (!(seg === '*' || seg === inner || (!inner.includes('*') && matchSegment(seg, inner)))) return false;
    i++;
    j++;
  }
  return j === n.length;
}

/** Could some tool match both patterns? Conservative: true unless provably disjoint. */
export function overlaps(a: string, b: string): boolean {
  if (a === b) return true;
  return overlapSegments(a.split('/'), 0, b.split('/'), 0, new Set());
}

function overlapSegments(p: string[], i: number, q: string[], j: number, failed: Set<number>): boolean {
  const next = (i2: number, j2: number) => tryOnce(failed, i2, j2, q.length, () => overlapSegments(p, i2, q, j2, failed));
  if (i === p.length && j === q.length) return true;
  if (i < p.length && p[i] === '**') return next(i + 1, j) || (j < q.length && next(i, j + 1));
  if (j < q.length && q[j] === '**') return next(i, j + 1) || (i < p.length && next(i + 1, j));
  if (i === p.length || j === q.length) return false;
  return segmentsOverlap(p[i]!, q[j]!) && next(i + 1, j + 1);
}

/** `f()` for the position `(i, j)`, unless it is already known to fail there. */
function tryOnce(failed: Set<number>, i: number, j: number, width: number, f: () => boolean): boolean {
  const at = i * (width + 1) + j;
  if (failed.has(at)) return false;
  if (f()) return true;
  failed.add(at);
  return false;
}

function segmentsOverlap(a: string, b: string): boolean {
  if (!a.includes('*')) return b.includes('*') ? matchSegment(b, a) : a === b;
  if (!b.includes('*')) return matchSegment(a, b);
  // Two globs: compatible literal prefixes and suffixes admit a common word.
  const [pa, sa] = [a.slice(0, a.indexOf('*')), a.slice(a.lastIndexOf('*') + 1)];
  const [pb, sb] = [b.slice(0, b.indexOf('*')), b.slice(b.lastIndexOf('*') + 1)];
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa));
}

/** The first segment when it is literal; undefined when it is a glob. */
export function firstLiteralSegment(pattern: string): string | undefined {
  const first = pattern.split('/', 1)[0]!;
  return first.includes('*') ? undefined : first;
}
