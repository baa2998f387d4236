/**
 * One governed call: ask the daemon, and run the tool only on PERMIT. A DENY or DEFER becomes a
 * ToolDeniedError (or what the caller's onDeny/onDefer returns — never the tool's own run). With
 * `onDefer: "block"` the SDK waits for the operator's decision and, once approved, asks again: the
 * daemon permits the identical call once. DAEMON_NOT_READY is retried after the daemon's
 * `retry_after` within the timeout, and a daemon that is not there yet (restarting) is waited for
 * briefly. `failOpen` runs the tool only when the daemon cannot be reached at all — never on a deny.
 */
import { deniedBy, ToolDeniedError } from './errors.js';
import { processEnv, transportFromEnv } from './transports/select.js';
import { NoTransportError, TransportError, type GovernRequest, type GovernResult, type SpawnEnded, type Transport } from './wire.js';

export interface GovernOptions {
  /** The `agent "<id>"` of governance.fms (default: FARAMESH_AGENT_ID). */
  agentId?: string;
  /** Default: chosen from the environment (FARAMESH_REMOTE_URL, FARAMESH_SOCKET, FARAMESH_BASE_URL). */
  transport?: Transport;
  /** `throw` (default) raises ToolDeniedError; `block` waits for the operator; a function's result stands in for the tool's. */
  onDefer?: 'throw' | 'block' | ((denial: ToolDeniedError, approvalId: string) => unknown);
  /** `throw` (default), or a function whose result stands in for the tool's. */
  onDeny?: 'throw' | ((denial: ToolDeniedError) => unknown);
  /** Cap on asking the daemon, retries included (default 10 s). */
  timeoutMs?: number;
  /**
   * How long a call waits for a daemon that is not there yet — starting beside the agent, or
   * restarting for an apply — before it is DAEMON_UNREACHABLE (default 2 s, within timeoutMs). Once
   * such a wait was in vain, calls fail at once until the daemon answers again.
   */
  startGraceMs?: number;
  /** `onDefer: "block"`: how long to wait for a human (default 10 min), and how often to ask (default 1 s). */
  approvalTimeoutMs?: number;
  pollIntervalMs?: number;
  /** Run tools when the daemon cannot be reached. Never in production; never on a deny. */
  failOpen?: boolean;
  /** Forwarded to the daemon: verified identity (a JWT; default: FARAMESH_PRINCIPAL_TOKEN), stated claims, correlation, tags. */
  principalToken?: string;
  /**
   * A worker's proof that its work was delegated to it (default: FARAMESH_DELEGATION_TOKEN): the token
   * the supervisor's permitted `delegate/<worker>` call received (`delegationToken()` in that tool).
   */
  delegationToken?: string;
  principal?: Record<string, unknown>;
  sessionId?: string;
  /**
   * The correlation id every call of one task shares, kept in each decision's record (`faramesh audit
   * trace`, `faramesh explain run`). A function is asked on every call, e.g. to read the current
   * task's id from an AsyncLocalStorage; a framework's own per-call request id wins over it.
   */
  requestId?: string | (() => string | undefined);
  tags?: string[];
  /** Where FARAMESH_* are read from (default: process.env where there is one). */
  env?: Record<string, string | undefined>;
}

/** What a framework tells about one call: its session (thread) and its correlation id. */
export interface CallContext {
  sessionId?: string;
  requestId?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A credential the daemon brokered for one permitted call, as the tool sees it. */
export interface CallCredential {
  value: string;
  header: string;
  expiresAt: string;
}
/**
 * What a permitted call hands its tool body: the brokered credential, and for a permitted
 * `delegate/<worker>` call the token the worker proves its delegation with.
 */
export interface CallGrant {
  credential?: CallCredential;
  delegationToken?: string;
}
type Runner = <T>(grant: CallGrant | undefined, run: () => T) => T;
/**
 * Kept on globalThis, not in this module: the ESM and the CommonJS builds are two module instances
 * (an autoloaded agent's frameworks are governed by the ESM one while a `require()` reads
 * `credential()` from the other), and a credential must reach the tool whichever decided the call.
 */
const RUNNER = Symbol.for('faramesh.sdk.credentialRunner');
const runnerHolder = globalThis as { [RUNNER]?: Runner };
const withGrant: Runner = (grant, run) => {
  const runner = runnerHolder[RUNNER];
  return runner ? runner(grant, run) : run();
};
/** How a permitted call's grant reaches the tool body (set by the Node entry point; edge runtimes have none). */
export function setCredentialRunner(runner: Runner): void {
  runnerHolder[RUNNER] = runner;
}
/**
 * A stream a permitted tool returns, each step run with the call's credential: an async generator's
 * body runs on `next()`, after `run` has returned, so the credential must go along with every step.
 */
export function withCredentialEach<T>(grant: CallGrant | undefined, stream: AsyncIterator<T>): AsyncIterableIterator<T> {
  const step =
    (k: 'next' | 'return' | 'throw') =>
    (v?: unknown): Promise<IteratorResult<T>> => {
      const f = stream[k] as ((v?: unknown) => Promise<IteratorResult<T>>) | undefined;
      if (!f) return k === 'throw' ? Promise.reject(v) : Promise.resolve({ done: true, value: v as T });
      return withGrant(grant, () => f.call(stream, v));
    };
  return {
    next: step('next'),
    return: step('return'),
    throw: step('throw'),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
function granted(r: GovernResult): CallGrant | undefined {
  const c = r.credential;
  const token = typeof r.delegation_token === 'string' && r.delegation_token !== '' ? r.delegation_token : undefined;
  if (!c && !token) return undefined;
  return {
    ...(c ? { credential: { value: c.value, header: c.header, expiresAt: c.expires_at } } : {}),
    ...(token ? { delegationToken: token } : {}),
  };
}

export class Governor {
  readonly agentId: string;
  private transport?: Promise<Transport>;
  private warnedOpen = false;
  /** The last wait for the daemon was in vain: the next calls try once, without waiting. */
  private absent = false;
  private readonly principalToken: string | undefined;
  private readonly delegationToken: string | undefined;

  constructor(private readonly options: GovernOptions) {
    const env = options.env ?? processEnv();
    const agentId = options.agentId ?? env.FARAMESH_AGENT_ID;
    if (!agentId) throw new TypeError('governedTools needs agentId (or FARAMESH_AGENT_ID): the agent "<id>" of governance.fms');
    this.agentId = agentId;
    this.principalToken = options.principalToken || env.FARAMESH_PRINCIPAL_TOKEN || undefined;
    this.delegationToken = options.delegationToken || env.FARAMESH_DELEGATION_TOKEN || undefined;
    if (options.onDeny === ('block' as unknown)) throw new TypeError('onDeny cannot be "block": a deny is final');
    if (options.transport) this.transport = Promise.resolve(options.transport);
  }

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 10_000;
  }

  private transportNow(): Promise<Transport> {
    // A lookup that failed (no variable set yet) is not kept: the next call looks again.
    this.transport ??= transportFromEnv(this.options.env ?? processEnv()).catch((e: unknown) => {
      this.transport = undefined;
      throw e;
    });
    return this.transport;
  }

  /** Decide `toolId` with these arguments; run `execute` only if permitted. */
  async run<T>(
    toolId: string,
    args: Record<string, unknown>,
    execute: (credential?: CallCredential, grant?: CallGrant) => T | Promise<T>,
    extra: CallContext = {},
  ): Promise<T | unknown> {
    const o = this.options;
    const requestId = extra.requestId ?? (typeof o.requestId === 'function' ? o.requestId() : o.requestId);
    const request: GovernRequest = {
      agent_id: this.agentId,
      tool_id: toolId,
      args,
      call_id: newCallId(),
      ...((extra.sessionId ?? o.sessionId) ? { session_id: extra.sessionId ?? o.sessionId } : {}),
      ...(requestId ? { request_id: requestId } : {}),
      ...(o.tags ? { tags: o.tags } : {}),
      ...(o.principal ? { principal: o.principal } : {}),
      ...(this.principalToken ? { principal_token: this.principalToken } : {}),
      ...(this.delegationToken ? { delegation_token: this.delegationToken } : {}),
    };
    // What JSON cannot carry as it is (Infinity and NaN become null, a BigInt or a cycle throws) would
    // be decided on another value than the tool gets, or fail inside the transport: denied here.
    const unsendable = unsendableReason(request);
    if (unsendable) throw unreachable(toolId, new TransportError(unsendable, false, false, true));
    let result: GovernResult;
    try {
      result = await this.decide(request);
    } catch (e) {
      if (!(e instanceof TransportError)) throw e;
      // Only a daemon that never had the request: one that received it may have denied it.
      if (e.unreachable && !e.delivered && o.failOpen && !(e instanceof NoTransportError)) {
        if (!this.warnedOpen) console.warn(`faramesh: the daemon is unreachable (${e.message}); failOpen runs ${toolId} ungoverned`);
        this.warnedOpen = true;
        return execute();
      }
      throw unreachable(toolId, e);
    }
    if (result.effect === 'PERMIT') return runGranted(granted(result), execute);
    const denial = deniedBy(result, toolId);
    if (result.effect === 'DEFER') {
      if (o.onDefer === 'block' && denial.approvalId) return this.awaitApproval(request, denial, execute);
      if (typeof o.onDefer === 'function') return o.onDefer(denial, denial.approvalId ?? '');
      throw denial;
    }
    if (typeof o.onDeny === 'function') return o.onDeny(denial);
    throw denial;
  }

  /**
   * Tell the daemon that `count` children this agent spawned (permitted `spawn/<type>` calls) have
   * ended, so that `spawn { max_concurrent }` counts only the live ones. Rejects with a
   * TransportError when none was live or the daemon cannot be reached.
   */
  async spawnEnded(count = 1): Promise<SpawnEnded> {
    const transport = await this.transportNow();
    if (!transport.spawnEnded) throw new TypeError('this transport cannot report ended spawns');
    const end = transport.spawnEnded.bind(transport);
    return this.reach((left) => end(this.agentId, count, left), Date.now() + this.timeoutMs);
  }

  /**
   * Ask the daemon, retrying DAEMON_NOT_READY and RATE_EXCEEDED after their retry_after when the
   * wait ends within the timeout (errors.md: the SDKs back off by themselves); a longer wait is the
   * caller's, as the denial.
   */
  private async decide(request: GovernRequest): Promise<GovernResult> {
    let transport: Transport;
    try {
      transport = await this.transportNow();
    } catch (e) {
      // No transport, or one misconfigured (a malformed URL): a deployment mistake, never opened.
      if (e instanceof TransportError) throw e;
      throw new NoTransportError((e as Error).message);
    }
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const result = await this.reach((left) => transport.govern(request, left), deadline);
      const r = result.structured_denial?.resolution;
      const code = result.structured_denial?.code;
      if (result.effect !== 'DENY' || (code !== 'DAEMON_NOT_READY' && code !== 'RATE_EXCEEDED') || r?.type !== 'retry_after') return result;
      const wait = r.retry_after_seconds * 1000;
      if (Date.now() + wait >= deadline) return result;
      await sleep(wait);
    }
  }

  /**
   * Ask the daemon; one that is not there yet (restarting) is asked again until `startGraceMs` has
   * passed. Unreachable means never connected: the daemon has not seen the request, so asking again is safe.
   */
  private async reach<T>(ask: (left: number) => Promise<T>, deadline: number): Promise<T> {
    const graceEnd = this.absent ? 0 : Date.now() + (this.options.startGraceMs ?? 2000);
    // Once an attempt may have reached the daemon, so may the call: later attempts' errors say so too.
    let delivered = false;
    for (let pause = 50; ; pause = Math.min(pause * 2, 400)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new TransportError(`no decision within ${this.timeoutMs} ms`, false);
      try {
        const answer = await ask(left);
        this.absent = false;
        return answer;
      } catch (e) {
        const unreachable = e instanceof TransportError && e.unreachable;
        if (e instanceof TransportError && e.delivered) delivered = true;
        if (!unreachable || Date.now() + pause > Math.min(graceEnd, deadline)) {
          if (unreachable) this.absent = true;
          // Still refused as it stands when it was: a retry meets the same answer.
          if (delivered && e instanceof TransportError && !e.delivered) throw e.asDelivered();
          throw e;
        }
        await sleep(pause);
      }
    }
  }

  /**
   * `onDefer: "block"`: wait for the operator, then ask again (the approval lets the identical call
   * run once; a denial refuses it once, with the operator's reason). When another identical call
   * spent the approval first, the daemon defers this one anew and the wait goes on for that approval
   * (a denial spent first is still final here), as it does for an approval that expired unresolved
   * or that the daemon no longer knows.
   * A daemon lost while waiting denies, as before it.
   */
  private async awaitApproval<T>(
    request: GovernRequest,
    first: ToolDeniedError,
    execute: (credential?: CallCredential, grant?: CallGrant) => T | Promise<T>,
  ): Promise<T> {
    const o = this.options;
    const timeoutMs = o.approvalTimeoutMs ?? 600_000;
    const deadline = Date.now() + timeoutMs;
    const every = o.pollIntervalMs ?? 1000;
    let denial = first;
    let lostOnce = false;
    for (;;) {
      let status: Awaited<ReturnType<Transport['poll']>>;
      let again: GovernResult | undefined;
      try {
        const transport = await this.transportNow();
        status = await this.reach((left) => transport.poll(denial.approvalId!, this.agentId, left), Date.now() + this.timeoutMs);
        // Denied, the call is asked again too: the daemon then denies it with the operator's reason,
        // records that deny, and spends the denial on this call (left unspent, it would refuse the
        // agent's next identical call instead of letting that one ask a human afresh).
        // Expired (nobody decided within the approval's ttl, which may have begun before this call
        // joined it) or unknown to the daemon (gone from its book), the call is asked again too: the
        // daemon defers it anew, and the wait goes on for that approval. Thrown as it stood, the
        // error named an approval no one can resolve. Unknown twice is thrown: a daemon that does not
        // know the approvals it just made would have the agent ask again without end.
        if (status === 'unknown' && lostOnce) again = undefined;
        else if (status !== 'pending') {
          lostOnce ||= status === 'unknown';
          again = await this.decide({ ...request, call_id: newCallId() });
        }
      } catch (e) {
        if (e instanceof TransportError) throw unreachable(request.tool_id, e);
        throw e;
      }
      if (again?.effect === 'PERMIT') return runGranted(granted(again), execute);
      if (again?.effect === 'DENY' || (again && status !== 'denied')) {
        const next = deniedBy(again, request.tool_id);
        if (again.effect !== 'DEFER' || !next.approvalId || Date.now() + every > deadline) throw next;
        denial = next;
      } else if (status === 'denied')
        throw new ToolDeniedError({
          ...denial,
          code: 'POLICY_DENY',
          effect: 'DENY',
          humanMessage: `${denial.humanMessage} (approval denied)`,
          // Final: the operator said no, so nothing is pending any more.
          resolution: { type: 'rule_block', ruleId: denial.ruleRef ?? '' },
        });
      else if (status !== 'pending' || Date.now() + every > deadline)
        throw new ToolDeniedError({
          ...denial,
          humanMessage:
            status === 'pending'
              ? `${denial.humanMessage} (no decision within ${Math.round(timeoutMs / 1000)} s)`
              : `${denial.humanMessage} (approval ${status})`,
        });
      await sleep(every);
    }
  }
}

const runGranted = <T>(grant: CallGrant | undefined, execute: (credential?: CallCredential, grant?: CallGrant) => T): T =>
  withGrant(grant, () => execute(grant?.credential, grant));

/** A call id: random where the runtime has Web Crypto (Node 19+, Node 18 with it enabled, edge runtimes). */
function newCallId(): string {
  const uuid = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto?.randomUUID;
  if (uuid) return uuid.call(globalThis.crypto);
  // Node 18 without the global: unique within the process, which is all a call id needs to be.
  return `call-${Date.now().toString(36)}-${(++calls).toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
let calls = 0;

/** Why a request cannot be sent as the tool will get it (JSON would change or refuse a value), or undefined. */
function unsendableReason(request: GovernRequest): string | undefined {
  try {
    JSON.stringify(request, (key, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v))
        throw new RangeError(`${key ? `"${key}"` : 'a value'} is ${v}, which JSON sends as null`);
      return v;
    });
    return undefined;
  } catch (e) {
    return `the call cannot be sent as JSON: ${(e as Error).message.split('\n')[0]}`;
  }
}

/**
 * The daemon could not be asked: a denial, since nothing decided the call. A request the daemon
 * refused as it stands is not worth retrying (an agent that retries on `retry_after` would loop):
 * someone must look at it.
 */
function unreachable(toolId: string, e: TransportError): ToolDeniedError {
  return new ToolDeniedError({
    code: e.unreachable ? 'DAEMON_UNREACHABLE' : 'DAEMON_ERROR',
    humanMessage: `denied: the governance daemon could not decide (${e.message})`,
    resolution: e.refused ? { type: 'manual_audit' } : { type: 'retry_after', retryAfterSeconds: e.retryAfterSeconds ?? 2 },
    effect: 'DENY',
    toolId,
  });
}
