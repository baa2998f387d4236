/**
 * Where a parsed JSON value holds a key named `__proto__`, if anywhere. JSON.parse makes it an
 * ordinary own key, but much of JavaScript does not: an assignment `out[key] = v` sets a prototype
 * instead, and validators (zod among them) drop the key. A call's arguments holding one could
 * reach the policy, the hash in the log and the approver without it, and the tool with it. So the
 * channels refuse such requests rather than decide on a different object from the one the tool gets.
 */
export function findProtoKey(value: unknown, root = '$'): string | undefined {
  const stack: [unknown, string][] = [[value, root]];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
      continue;
    }
    if (Object.hasOwn(v, '__proto__')) return `${path}.__proto__`;
    for (const k of Object.keys(v).reverse()) stack.push([(v as Record<string, unknown>)[k], `${path}.${k}`]);
  }
  return undefined;
}
