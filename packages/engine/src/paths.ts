/**
 * A path argument as the tool will reach it, so that a rule on `path` judges where the call goes
 * rather than how it was spelt: `./drafts/../../.ssh/id_rsa` does not start with `./drafts/`, and
 * `/tmp/../etc/passwd` starts with `/etc`. The HTTP proxies resolve their own paths; this is for the
 * `path` an SDK or MCP call carries as an argument.
 */

/** Any `.` or `..` segment, or a doubled slash: the rest is already in lexical form (the common case). */
const UNRESOLVED = /(?:^|\/)\.\.?(?:\/|$)|\/\//;

/** A start that names another place than the working directory: the home, a variable, a Windows drive or root. */
const ELSEWHERE = /^(?:~|\$|%|[A-Za-z]:|\\)/;

/**
 * `p` with `.` segments and repeated slashes dropped and each `..` taking off the segment before it,
 * in one spelling: a path relative to the working directory always starts with `./` (`.git/config`,
 * `x/../.git/config` and `./.git/config` are one file, and a rule on `"./.git/"` must meet all
 * three), an absolute one with `/`. A relative path that climbs out keeps its `..` segments (`../x`
 * starts with neither), one that starts elsewhere (`~/`, `$HOME/`, `C:`) gets no `./`, and an
 * absolute one stops at the root, as the kernel does. A trailing `/` is kept.
 */
export function lexicalPath(p: string): string {
  if (!UNRESOLVED.test(p)) return p === '' || p.startsWith('/') || p.startsWith('./') || ELSEWHERE.test(p) ? p : `./${p}`;
  if (p === './' || p === '.') return './';
  const absolute = p.startsWith('/');
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg !== '..') out.push(seg);
    else if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (!absolute) out.push('..');
  }
  const body = out.join('/');
  const trailing = body !== '' && /\/\.{0,2}$/.test(p) ? '/' : '';
  if (absolute) return `/${body}${trailing}`;
  if (out[0] === '..' || ELSEWHERE.test(p)) return `${body}${trailing}`;
  return `./${body}${trailing}`;
}

/**
 * `p` without its trailing `/`: `.env/` is the file `.env` to a tool that resolves its argument
 * (Node's `path.resolve`, Python's `pathlib`, the MCP filesystem server), so a rule naming `.env`
 * must meet it. The root (`/`) and the working directory (`./`) keep theirs.
 */
export function withoutTrailingSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') && p !== './' ? p.slice(0, -1) : p;
}

/**
 * The spellings of a path in lexical form: `./x` is `x` too, and `x/` is `x`. A regular expression
 * or a glob written for any of them (`^drafts/`, `drafts/*`, `\.pem$`) is tried on each, since they
 * name the same file.
 */
export function pathSpellings(p: string): readonly string[] {
  const forms = p.startsWith('./') && p.length > 2 ? [p, p.slice(2)] : [p];
  const bare = withoutTrailingSlash(p);
  return bare === p ? forms : [...forms, ...pathSpellings(bare)];
}

/**
 * A path that starts elsewhere (`~`, `$HOME`, `%VAR%`, `C:`) and climbs above that start with `..`:
 * its file depends on the tool. One that expands the start reaches `/home/x` for `~/../x`, one that
 * does not reaches `./x`. Rules cannot tell which, so such a path is judged as an argument of the
 * wrong type is: a deny or defer that reads it applies, a permit does not.
 */
export function ambiguousPath(p: string): boolean {
  if (!ELSEWHERE.test(p) || !p.includes('..')) return false;
  let depth = 0;
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    depth += seg === '..' ? -1 : 1;
    if (depth < 1) return true;
  }
  return false;
}
