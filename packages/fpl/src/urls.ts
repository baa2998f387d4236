/**
 * Where the daemon may fetch keys from (a JWKS, an issuer's OpenID discovery): `https://`, or plain
 * `http://` to this machine only, since keys fetched in clear could be swapped on the way. Shared by
 * `check`, which warns, and the daemon, which refuses.
 */
export function fetchableKeyUrl(url: string): boolean {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  return parsed?.protocol === 'https:' || (parsed?.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname));
}
