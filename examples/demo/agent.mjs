// A small scripted agent, run through the stack's launcher (.faramesh/bin/agent -- node agent.mjs):
// it learns the daemon's socket and its own id from agent.env, and asks the daemon before every
// tool call. (The TypeScript SDK wraps exactly this exchange; the agent here speaks it directly.)
import { createConnection } from 'node:net';
import { setTimeout } from 'node:timers';

const socket = process.env.FARAMESH_SOCKET;
const agent = process.env.FARAMESH_AGENT_ID;
if (!socket || !agent) throw new Error('run me through .faramesh/bin/agent: FARAMESH_SOCKET and FARAMESH_AGENT_ID are unset');

function ask(message) {
  return new Promise((resolve, reject) => {
    const s = createConnection(socket);
    let data = '';
    s.on('connect', () => s.write(`${JSON.stringify(message)}\n`));
    s.on('data', (d) => (data += d));
    s.on('error', reject);
    s.on('end', () => resolve(JSON.parse(data)));
  });
}

const tools = {
  'ticket/read': ({ id }) => `ticket #${id}: "my order arrived broken"`,
  'stripe/refund': ({ amount, currency }) => `refunded ${amount} ${currency}`,
  'stripe/payouts': () => 'paid out everything',
};

/** Call a tool the governed way: it runs only after a PERMIT. */
async function call(name, args, { waitForApproval = false } = {}) {
  const [tool, operation] = name.split('/');
  const { result } = await ask({ jsonrpc: '2.0', id: 1, method: 'govern', params: { agent_id: agent, tool, operation, args } });
  if (result.effect === 'PERMIT') {
    console.log(`  agent: ${name} → PERMIT → ${tools[name](args)}`);
    return 'PERMIT';
  }
  const denial = result.structured_denial;
  console.log(
    `  agent: ${name} → ${result.effect} ${denial.code}: ${denial.human_message}${result.defer_token ? ` (approval ${result.defer_token})` : ''}`,
  );
  if (result.effect !== 'DEFER' || !waitForApproval) return result.effect;
  // Wait for the operator, as an SDK's onDefer: "block" does, then retry the identical call.
  for (;;) {
    const poll = await ask({ type: 'poll_defer', agent_id: agent, defer_token: result.defer_token });
    if (poll.status === 'approved') break;
    if (poll.status !== 'pending') return `DEFER→${poll.status}`;
    await new Promise((r) => setTimeout(r, 200));
  }
  console.log('  agent: approved; retrying the identical call');
  return call(name, args);
}

const outcomes = [
  await call('ticket/read', { id: 4711 }),
  await call('stripe/payouts', { amount: 10_000 }),
  await call('stripe/refund', { amount: 800, currency: 'USD' }, { waitForApproval: true }),
  // The approval was for one call: the same refund again needs a human again.
  await call('stripe/refund', { amount: 800, currency: 'USD' }),
];
const expected = ['PERMIT', 'DENY', 'PERMIT', 'DEFER'];
process.exit(JSON.stringify(outcomes) === JSON.stringify(expected) ? 0 : 1);
