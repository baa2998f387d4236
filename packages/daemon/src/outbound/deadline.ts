/**
 * A deadline the daemon keeps itself on a call to a service outside it. Some official clients take
 * a timeout and do not honour it everywhere: GCP's in REST mode sends no deadline with the request,
 * and Entra ID's token flow ignores the abort signal. A provider that never answers would hold the
 * call (and every probe after it) for good; past `ms` it is a failure like any other.
 */
export function deadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
