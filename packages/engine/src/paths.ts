/**
 * A path argument as the tool will reach it, so that a rule on `path` judges where the call goes
 * rather than how it was spelt: `./drafts/../../.ssh/id_rsa` does not start with `./drafts/`, and
 * `/tmp/../etc/passwd` starts with `/etc`. The HTTP proxies resolve their own paths; this is for the
 * `path` an SDK or MCP call carries as an argument.
 */

/** Any `.` or `..` segment, or a doubled slash: the rest is already in lexical form (the common case). */
const UNRESOLVED = /(?:^|\/)\.\.?(?:\/|$)|\/\//;

/**
 * `p` with `.` segments and repeated slashes dropped and each `..` taking off the segment before it.
 * A leading `/` (absolute) or `./` (relative to the working directory, the form `startsWith "./"`
 * rules read) is kept, a trailing `/` too; a relative path that climbs out keeps its `..` segments
 * (`../x` starts with neither), and an absolute one stops at the root, as the kernel does.
 */
export function lexicalPath(p: string): string {
  if (!UNRESOLVED.test(p) || p === './' || p === '.') return p;
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
  if (out[0] === '..') return `${body}${trailing}`;
  return p.startsWith('./') || body === '' ? `./${body}${trailing}` : `${body}${trailing}`;
}
