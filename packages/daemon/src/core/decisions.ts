/**
 * Every call the daemon decides goes through here: the engine decides against the policy in use,
 * the state delta is applied at once (so concurrent calls see each other's rate and budget use),
 * approvals bind deferred calls, and the decision record is made durable before the reply — a
 * decision that cannot be recorded is a deny. Effects on the wire are only PERMIT, DENY, DEFER.
 */
import type { ReverseConfig } from '../http-proxy/reverse.js';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { argsHash, type AuditLog, type RecordInput } from '@faramesh/audit';
import {
  applyDelta,
  callCost,
  checkCompletion,
  giveBack,
  liveSpawns,
  spawnEnded,
  valuesOf,
  decide,
  delegateTarget,
  Trace,
  type DecideResult,
  type EngineState,
  type PreparedPolicy,
} from '@faramesh/engine';
import type { Decision, DecisionRequest, HttpFields, StructuredDenial } from '@faramesh/protocol';
import type { PolicyIR } from '@faramesh/fpl';
import type { Issued, Unavailable } from '../credentials/broker.js';
import type { Carrier } from '../credentials/carrier.js';
import type { CompiledPolicy } from '../stack/compiled.js';
import { decisionRequest, type GovernParams, type GovernResult, type PollParams } from '../wire/agent-protocol.js';
import { LatencyHistogram } from '../wire/metrics.js';
import { bindingOf, type Approval, type ApprovalBook } from './approvals.js';
import type { PrincipalGate, PrincipalOutcome } from './principals.js';
import type { DelegationTokens } from './delegation.js';
import type { AlertSubject } from '../outbound/alerts.js';
import type { Quiesced } from './state-replay.js';

export interface PolicyInUse {
  compiled: CompiledPolicy;
  prepared: PreparedPolicy;
  /** Verifies principal tokens against this policy's identity providers. */
  principals: PrincipalGate;
  /** Its reverse proxy (`http_upstream` and the routes), if it has one. */
  reverse?: ReverseConfig;
  /** Why a socket or `/v1/evaluate` caller may not hold a tool's credential: a proxy attaches it. */
  proxyOnly?: (tool: string) => string | undefined;
  appliedAt: string;
  /** `runtime { mode }`: swapped with the policy, so flipping audit → enforce takes effect on apply. */
  mode: 'enforce' | 'audit';
  /** `runtime { wal_retention }`, when set. */
  walRetentionMs?: number;
}

export interface DecisionDeps {
  log: AuditLog;
  state: EngineState;
  approvals: ApprovalBook;
  /** Make the approval book durable, synchronously (before anything that depends on it); throws when it cannot. */
  saveApprovals(): void;
  now(): number;
  /** Mints and verifies delegation tokens. */
  delegation: DelegationTokens;
  /** Diagnostic lines for the daemon log. */
  say?: (line: string) => void;
  /** Before a decision's record is appended: its id and the redacted arguments (for the sink stream). */
  recording?: (id: string, redactedArgs: Record<string, unknown>, principal?: Record<string, unknown>) => void;
  /** Once a decision's record is durable, the alerts it fired (never before: an alert names a recorded decision). */
  alert?: (fired: Decision['alerts'], subject: AlertSubject) => void;
  /**
   * The agent's attested identity, for the record (a SPIFFE provider, or `faramesh dev`'s stub); none
   * without an identity provider. `refused`: the provider attests no identity for it, so it is denied.
   */
  agentSvid?: (agent: string, nowMs: number) => { svid: string; expires_at?: string } | { refused: string } | undefined;
  /**
   * The credential a permitted call needs, fetched for it (undefined: none is bound to the tool).
   * `carrier`: where a proxy would send it, when that may rule the credential out (carrier.ts).
   */
  credentials?: (ir: PolicyIR, agent: string, tool: string, nowMs: number, carrier?: Carrier) => Promise<Issued | Unavailable> | undefined;
  /** The agent's unfinished work outside the daemon's approvals (MCP tasks), for `no_uncommitted_writes`. */
  openTasks?: (agent: string) => string[];
}

/** A hypothetical call as the daemon would decide it now. */
export interface Explained {
  policy_version: string;
  mode: PolicyInUse['mode'];
  steps: Trace['steps'];
  rules: Trace['rules'];
  decision: Decision;
  /** The agent is quiesced: every call of its is denied, whatever the policy says. */
  quiesced?: Quiesced;
}

export class DecisionService {
  /** Swapped whole by apply: a call in progress keeps the policy it started with. */
  policy: PolicyInUse;
  /** Set when the log failed: every call is denied until the log resumes (log-resume.ts) or the daemon restarts. */
  degraded?: string;
  readonly counts = { permit: 0, deny: 0, defer: 0 };
  /**
   * Calls whose state delta is applied but not yet appended (a permit waiting for its credential):
   * the engine state cannot be rebuilt from the log meanwhile, or their use would be lost (log-resume.ts).
   */
  unrecorded = 0;
  /** Of `counts`, the denials and deferrals audit mode did not enforce: the agent was told PERMIT. */
  readonly notEnforced = { deny: 0, defer: 0 };
  /**
   * The same, per agent the policy in use declares (status and `explain agent` show no other). Any
   * other id is the caller's to choose: counted, a caller naming a new agent for each call would grow
   * this map by every call for the life of the daemon.
   */
  readonly countsByAgent = new Map<string, { permit: number; deny: number; defer: number }>();
  /** Agents an operator quiesced: every call of theirs is denied (and recorded) until resumed. */
  readonly quiesced = new Map<string, Quiesced>();
  readonly latency = new LatencyHistogram();

  constructor(
    policy: PolicyInUse,
    private readonly deps: DecisionDeps,
  ) {
    this.policy = policy;
  }

  /**
   * `http`: the request's HTTP fields, set only by the daemon's own HTTP proxy (never from an agent's
   * message). `carrier`: where a bound credential would travel, if that may rule it out (carrier.ts).
   */
  async govern(params: GovernParams, tool: string, http?: HttpFields, carrier?: Carrier): Promise<GovernResult> {
    const started = performance.now();
    const callId = params.call_id ?? randomUUID();
    if (this.degraded) return refusal(callId, auditUnavailable(this.degraded), started);
    const { log, state } = this.deps;
    let nowMs = this.deps.now();
    let awaited = false;
    let policy: PolicyInUse;
    let request: DecisionRequest;
    let who: PrincipalOutcome | { refused: string };
    let svid: ReturnType<NonNullable<DecisionDeps['agentSvid']>>;
    /** When the delegation token this call came with expires: a token it mints expires no later. */
    let delegatedUntilS: number | undefined;
    // A token is verified before the call is decided, and that awaits. A policy swapped in meanwhile
    // decides the call, its tokens checked again under it: a call started before a swap and decided
    // after it would be recorded under the old version after decisions of the new one, and log order
    // would switch versions more than once (nor may a call mix one policy's identities with another's rules).
    for (;;) {
      policy = this.policy;
      request = decisionRequest(params, tool);
      if (http) request.http = http;
      // Only a token needs awaiting; plain calls go straight on.
      let resolving = policy.principals.resolve(params, nowMs);
      if (resolving instanceof Promise) {
        awaited = true;
        resolving = await resolving;
      }
      who = resolving;
      if ('principal' in who && who.principal) request.principal = who.principal;
      svid = this.deps.agentSvid?.(request.agent_id, nowMs);
      if (svid && 'refused' in svid && !('refused' in who)) who = svid;
      if (params.delegation_token !== undefined && !('refused' in who)) {
        awaited = true;
        const proven = await this.deps.delegation.verify(params.delegation_token, request.agent_id, nowMs);
        if ('refused' in proven) who = proven;
        else ({ chain: request.delegation_chain, expiresS: delegatedUntilS } = proven);
      }
      if (this.policy === policy) break;
    }
    // Decided at the time it is decided, not the time it arrived: calls decided during the wait moved
    // the rate buckets on, and a bucket refilled to an earlier time would refill the same interval twice.
    if (awaited) nowMs = this.deps.now();
    if ('ignored' in who) this.noteIgnoredClaims(request.agent_id, policy.prepared.agents.has(request.agent_id));
    // Audit mode lets through what the policy would refuse, never what an operator stopped: a
    // quiesced agent's calls are denied in either mode (`faramesh agent quiesce` promises as much).
    const halted = this.haltedBy(request);
    const mode = halted ? 'enforce' : policy.mode;
    let { decision, stateDelta } =
      'refused' in who
        ? { decision: unverifiedDecision(who, request.args ?? {}), stateDelta: [] }
        : halted
          ? { decision: quiescedDecision(request.agent_id, halted, request.args ?? {}), stateDelta: [] }
          : this.decideRequest(policy, request, nowMs);
    // A deferral an operator resolved: approved, the call is decided again as approved (the engine is
    // pure and nothing has changed yet), so it runs as a permit runs: it spends, and a budget that
    // denies still denies. A retry the rate limit refused is looked up too: the deferral took the
    // token it would have needed, and its approval lets it run without another.
    const limited = decision.code === 'RATE_EXCEEDED';
    let binding =
      (decision.effect === 'DEFER' || limited) && mode !== 'audit'
        ? bindingOf(request.agent_id, tool, request.args, costOf(request))
        : undefined;
    let resolved = binding === undefined ? undefined : this.deps.approvals.resolvedFor(binding, nowMs);
    if (limited && resolved?.status !== 'approved') binding = resolved = undefined;
    if (resolved?.status === 'approved') ({ decision, stateDelta } = this.decideRequest(policy, request, nowMs, true));
    // The record's hashes come first: what cannot be hashed (the channels refuse it, so this throws
    // only on a fault of ours) fails the call before anything is saved, counted or stamped.
    const hashes = {
      // The claims themselves may be personal data: the log keeps their hash, the sinks the claims.
      ...(request.principal ? { principal_claims_hash: argsHash(request.principal) } : {}),
      args_hash: argsHash(decision.redacted_args),
    };
    const stamp = log.stamp();
    // An agent without a block of its own is decided by the top-level rules, and its id is only a claim.
    const topLevel = !policy.prepared.agents.has(request.agent_id);
    // A deferral keeps the call's price: an operator approves a cost, not only arguments.
    const costUsd = binding === undefined ? undefined : recordedCost(policy, request, tool).cost?.usd;
    let outcome = this.resolveApproval(decision, request.agent_id, tool, stamp.id, nowMs, binding, resolved, { topLevel, costUsd });
    // The approval book is saved before anything is applied or recorded, so the record says what
    // happened. A book that cannot be saved (a full disk, no file descriptors left) refuses this call
    // alone: its change to the book is taken back and nothing of it is counted; the log is unharmed.
    if (outcome.approvalsChanged) {
      try {
        this.deps.saveApprovals();
      } catch (e) {
        outcome.undo?.();
        stateDelta = [];
        outcome = {
          effect: 'deny',
          wire: 'DENY',
          denial: {
            code: 'AUDIT_UNAVAILABLE',
            human_message: `denied: the approvals could not be saved (${(e as Error).message}); retry`,
            resolution: { type: 'retry_after', retry_after_seconds: 5 },
          },
        };
      }
    }
    // Applied before anything awaits: the next call, even a concurrent one, sees this one's use. A
    // permit whose credential may yet fail keeps what it changed, to give it back.
    const prior = outcome.effect === 'permit' && this.deps.credentials && stateDelta.length > 0 ? valuesOf(state, stateDelta) : undefined;
    applyDelta(state, stateDelta);
    const decided = performance.now() - started;
    // A permitted call's credential is fetched before anything is recorded: a provider that fails
    // blocks it. A completion event is no call to a tool: it is never handed a credential.
    let credential: Issued | undefined;
    let credentialMs: number | undefined;
    const t0 = performance.now();
    // Undefined, synchronously, when no credential is bound: a plain permit awaits nothing more.
    const fetching =
      outcome.effect === 'permit' && request.action !== 'completion_event'
        ? this.deps.credentials?.(policy.compiled.ir, request.agent_id, tool, nowMs, carrier)
        : undefined;
    if (fetching) {
      // An approval spent by this call is not run until its credential is had: meanwhile the
      // agent's completion gate still counts it (a failed fetch gives it back, unrun).
      const settling = outcome.approval?.id;
      if (settling) this.settling.set(settling, request.agent_id);
      let got: Awaited<typeof fetching>;
      this.unrecorded++;
      try {
        got = await fetching;
      } finally {
        this.unrecorded--;
        if (settling) this.settling.delete(settling);
      }
      credentialMs = performance.now() - t0;
      // Calls decided during the wait may have moved the same counters: the log gets their values now.
      if (got.ok) {
        credential = got;
        stateDelta = valuesOf(state, stateDelta);
      } else {
        // The call does not run: its rate, budget and spawn use is given back (the log records the
        // values now), and an approval it spent stays for the retry.
        if (prior) stateDelta = giveBack(state, stateDelta, prior);
        this.takeBack(outcome);
        outcome = {
          effect: 'deny',
          wire: 'DENY',
          denial: {
            code: 'CREDENTIAL_UNAVAILABLE',
            human_message: got.message,
            // A surface that can never carry the credential is a standing block; a provider's failure may pass.
            resolution: got.blockedBy ? { type: 'rule_block', rule_id: got.blockedBy } : { type: 'retry_after', retry_after_seconds: 30 },
            provider: got.provider,
          },
        };
      }
    }
    if (mode === 'audit') outcome = { ...outcome, wire: 'PERMIT' };
    const record: RecordInput = {
      type: 'decision',
      schema: 'dpr/2.0',
      // The id was taken when the call was decided (approvals name it), but the time is the log's,
      // taken as the record is sequenced: so times rise with seq. A decision stamped before a slow
      // credential fetch would otherwise land after later-timed records, and an evidence bundle
      // could leave it out of its window while its edges still looked complete.
      id: stamp.id,
      agent_id: request.agent_id,
      ...(request.delegation_chain ? { delegation_chain: request.delegation_chain.map((h) => h.agent_id) } : {}),
      ...(params.session_id ? { session_id: params.session_id } : {}),
      ...(params.request_id ? { request_id: params.request_id } : {}),
      ...(hashes.principal_claims_hash ? { principal_claims_hash: hashes.principal_claims_hash } : {}),
      ...(svid && 'svid' in svid ? { agent_svid: svid.svid, ...(svid.expires_at ? { agent_svid_expiry: svid.expires_at } : {}) } : {}),
      tool,
      action_type: params.action_type ?? 'tool_call',
      args_hash: hashes.args_hash,
      effect: outcome.effect,
      ...(outcome.denial ? { code: outcome.denial.code, denial: outcome.denial } : {}),
      ...(decision.rule_ref ? { rule_ref: decision.rule_ref } : {}),
      policy_version: policy.compiled.policy_version,
      latency_ms: { decide: round(decided), ...(credentialMs !== undefined ? { credential: round(credentialMs) } : {}) },
      ...(credential ? { credential_ref: credential.ref } : {}),
      ...(outcome.effect === 'permit' ? recordedCost(policy, request, tool) : {}),
      // A stub secret served outside `faramesh dev` (a provider no block declares) is as obvious in
      // the log as dev mode is: `audit verify --strict` refuses it.
      ...(credential?.ref.provider === 'stub' ? { dev: true as const } : {}),
      ...(outcome.approval ? { approval: outcome.approval } : {}),
      ...(mode === 'audit' ? { mode: 'audit' as const } : {}),
    };
    this.deps.recording?.(stamp.id, decision.redacted_args, request.principal);
    const appended = log.append(record);
    const writes: Promise<unknown>[] = [appended];
    if (stateDelta.length > 0)
      writes.push(log.append({ type: 'state_delta', agent_id: request.agent_id, delta: { ops: [...stateDelta] } }));
    try {
      await Promise.all(writes);
    } catch (e) {
      this.degraded = (e as Error).message;
      // The call does not run, and its record goes when the log is cut back to what was acknowledged:
      // its change to the book goes with it (a deferral it made waits for nothing). No other call
      // could have spent that approval meanwhile: it was spent in memory from the decision until now.
      this.takeBack(outcome);
      return refusal(callId, auditUnavailable(this.degraded), started);
    }
    const alerts = recordedAlerts(decision, outcome.effect, policy.prepared.agents.get(request.agent_id) ?? policy.prepared.flat);
    if (alerts.length > 0)
      this.deps.alert?.(alerts, {
        agent_id: request.agent_id,
        tool,
        effect: outcome.effect,
        action_id: `action-${stamp.id}`,
        time: (await appended).time,
        policy_version: policy.compiled.policy_version,
        ...(outcome.denial ? { code: outcome.denial.code, message: outcome.denial.human_message } : {}),
        ...(decision.rule_ref ? { rule_ref: decision.rule_ref } : {}),
        // What the operator alerted to a deferral approves or denies (the call may have joined an
        // approval an earlier deferral made, whose action id is not this one).
        ...(outcome.denial?.resolution.type === 'pending_approval' ? { approval_id: outcome.denial.resolution.approval_id } : {}),
      });
    this.counts[outcome.effect]++;
    if (outcome.effect !== 'permit' && outcome.wire === 'PERMIT') this.notEnforced[outcome.effect]++;
    if (!topLevel) {
      let mine = this.countsByAgent.get(request.agent_id);
      if (!mine) this.countsByAgent.set(request.agent_id, (mine = { permit: 0, deny: 0, defer: 0 }));
      mine[outcome.effect]++;
    }
    const elapsed = performance.now() - started;
    this.latency.observe(elapsed / 1000);
    const result: GovernResult = {
      call_id: callId,
      action_id: `action-${stamp.id}`,
      effect: outcome.wire,
      latency_ms: round(elapsed),
    };
    if (outcome.wire !== 'PERMIT' && outcome.denial) describeDenial(result, outcome.denial, stamp.id);
    // The agent hears a budget running low while its call still runs.
    if (decision.signals.length > 0) result.signals = decision.signals;
    // For this call only: the SDK hands it to the tool, the HTTP proxy puts it in the request.
    if (credential && outcome.wire === 'PERMIT')
      result.credential = { value: credential.value, header: credential.header, expires_at: credential.expires_at };
    if (outcome.effect === 'permit') {
      const target = delegateTarget(request, tool);
      const grant = target
        ? policy.compiled.ir.agents.find((a) => a.id === request.agent_id)?.delegates.find((d) => d.targets.includes(target))
        : undefined;
      if (target && grant)
        result.delegation_token = await this.deps.delegation.mint(
          request.agent_id,
          target,
          request.delegation_chain ?? [],
          grant.ttl_s,
          nowMs,
          delegatedUntilS,
        );
    }
    return result;
  }

  /**
   * `count` of `agent`'s spawned children have ended (the agent says so, or an operator): their
   * places under `spawn { max_concurrent }` are free again. Recorded before the answer, as a
   * state delta (naming the operator, when one said it); with none live, nothing changes.
   */
  async endSpawns(agent: string, count: number, by?: string): Promise<{ agent_id: string; ended: number; live: number }> {
    if (this.degraded) throw new SpawnRefusal('AUDIT_UNAVAILABLE', `the audit log failed (${this.degraded}): nothing can be recorded`);
    const { state, log } = this.deps;
    const before = liveSpawns(state, agent);
    if (before === 0) throw new SpawnRefusal('NO_LIVE_SPAWNS', `agent ${agent} has no live spawned children`);
    const delta = spawnEnded(state, agent, count);
    applyDelta(state, delta);
    try {
      await log.append({ type: 'state_delta', agent_id: agent, ...(by ? { by } : {}), delta: { ops: [...delta] } });
    } catch (e) {
      this.degraded = (e as Error).message;
      throw new SpawnRefusal('AUDIT_UNAVAILABLE', `the audit log failed (${this.degraded}): nothing can be recorded`);
    }
    const live = liveSpawns(state, agent);
    return { agent_id: agent, ended: before - live, live };
  }

  /**
   * `faramesh explain --agent --tool`: the call decided as `govern` would decide it now, on the live
   * state, traced; nothing is applied or recorded. Approvals are not looked up: the question is what
   * the policy says of the call, not whether an operator already answered it.
   */
  explain(request: DecisionRequest, nowMs: number): Explained {
    const policy = this.policy;
    const halted = this.haltedBy(request);
    const trace = new Trace();
    // Claims are taken as if a token had carried them, where a call could carry any.
    if (request.principal && !policy.principals.takesClaims) {
      trace.step('principal', 'claims dropped: this stack verifies no principal tokens and trusts no stated claims');
      delete request.principal;
    }
    const decision = halted
      ? quiescedDecision(request.agent_id, halted, request.args ?? {})
      : decide(policy.prepared, request, this.deps.state, { nowMs }, { trace }).decision;
    return {
      policy_version: policy.compiled.policy_version,
      mode: policy.mode,
      steps: trace.steps,
      rules: trace.rules,
      decision,
      ...(halted ? { quiesced: this.quiesced.get(halted)! } : {}),
    };
  }

  /**
   * Agents whose unverified claims were dropped, told once each in the daemon log. Agents the policy
   * does not declare are told of once between them (TOP_LEVEL): their ids are the caller's to choose,
   * and one line and one entry each would let a caller grow the set and the log without bound.
   */
  private readonly claimsNoted = new Set<string | typeof TOP_LEVEL>();
  /** Approvals spent by permits still awaiting their credential (approval id → agent): not yet run. */
  private readonly settling = new Map<string, string>();

  private noteIgnoredClaims(agent: string, declared: boolean): void {
    const noted = declared ? agent : TOP_LEVEL;
    if (this.claimsNoted.has(noted)) return;
    this.claimsNoted.add(noted);
    this.deps.say?.(
      `agent ${agent}${declared ? '' : ' (and any other agent the policy does not declare)'} sent principal claims without a principal_token: ignored (principal.* is only what the daemon verified; declare identity "…" { type = "oidc" }, or runtime { trust_sdk_principal = true })`,
    );
  }

  /** A tool call goes to the engine; an agent's completion event to its completion gate. */
  private decideRequest(policy: PolicyInUse, request: DecisionRequest, nowMs: number, approved = false): DecideResult {
    const agent = request.action === 'completion_event' ? policy.compiled.ir.agents.find((a) => a.id === request.agent_id) : undefined;
    if (!agent) return decide(policy.prepared, request, this.deps.state, { nowMs }, { approved });
    const mine = this.deps.approvals.list(nowMs).filter((a) => a.agent_id === agent.id);
    const facts = {
      pending: mine.filter((a) => a.status === 'pending').map((a) => a.id),
      unrun: [
        ...mine.filter((a) => a.status === 'approved' && !a.used_at).map((a) => a.id),
        ...[...this.settling].filter(([, who]) => who === agent.id).map(([id]) => id),
      ],
      openTasks: this.deps.openTasks?.(agent.id) ?? [],
    };
    return { decision: checkCompletion(agent, request, this.deps.state, facts, nowMs), stateDelta: [] };
  }

  /**
   * What a call becomes given the approvals. `binding`: a deferral's exact call (its arguments and
   * declared cost); `resolved`: an operator's decision on it, spent here. Approved, `decision` was made
   * as approved: a permit runs once under the approval; a deny (a budget that denies, a limit) leaves
   * the approval for a later try. Denied, the call is denied once. Otherwise the deferral waits;
   * `topLevel` (the agent has no block of its own) puts it in the allowance such agents share.
   */
  /**
   * The quiesced agent that stops this call, if any: its own, or one that delegated the work to it.
   * Quiescing a supervisor stops what it handed out too, or its workers would go on for the life of
   * their tokens (an hour by default), re-delegating as they went.
   */
  private haltedBy(request: DecisionRequest): string | undefined {
    if (this.quiesced.size === 0) return undefined;
    if (this.quiesced.has(request.agent_id)) return request.agent_id;
    return request.delegation_chain?.find((hop) => this.quiesced.has(hop.agent_id))?.agent_id;
  }

  /**
   * A call that will not run gives back its change to the approval book (an approval it spent stays
   * for the retry), saved so a restart agrees. A save that fails is made whole by the next change;
   * a restart meanwhile finds the approval spent, which fails closed (the operator approves again).
   */
  private takeBack(outcome: Outcome): void {
    if (!outcome.undo) return;
    outcome.undo();
    try {
      this.deps.saveApprovals();
    } catch {
      // Made whole by the next change to the book.
    }
  }

  private resolveApproval(
    decision: Decision,
    agent: string,
    tool: string,
    actionId: string,
    nowMs: number,
    binding: string | undefined,
    resolved: Approval | undefined,
    { topLevel, costUsd }: { topLevel: boolean; costUsd: number | undefined },
  ): Outcome {
    const denial = denialOf(decision);
    const { approvals } = this.deps;
    // Spent now, in the same step as the decision: no concurrent identical call can spend it too.
    const spend = (a: Approval) => {
      const spent = approvals.spend(a, nowMs);
      return { approvalsChanged: true, undo: () => approvals.unspend(spent) };
    };
    if (resolved?.status === 'approved' && decision.effect === 'PERMIT') {
      return {
        effect: 'permit',
        wire: 'PERMIT',
        ...spend(resolved),
        approval: {
          id: resolved.id,
          approved_by: resolved.resolved_by ?? 'operator',
          at: resolved.resolved_at!,
          ...(resolved.resolution_reason ? { reason: resolved.resolution_reason } : {}),
        },
      };
    }
    if (decision.effect === 'PERMIT') return { effect: 'permit', wire: 'PERMIT' };
    if (decision.effect === 'DENY') return { effect: 'deny', wire: 'DENY', denial };
    if (binding === undefined) return { effect: 'defer', wire: 'DEFER', denial };
    if (resolved?.status === 'denied') {
      const by = resolved.resolved_by ?? 'operator';
      return {
        effect: 'deny',
        wire: 'DENY',
        ...spend(resolved),
        denial: {
          code: 'POLICY_DENY',
          human_message: `denied by ${by}${resolved.resolution_reason ? `: ${resolved.resolution_reason}` : ''}`,
          resolution: { type: 'rule_block', rule_id: decision.rule_ref ?? 'approval' },
          ...(decision.rule_ref ? { rule_ref: decision.rule_ref } : {}),
        },
      };
    }
    const deferred = approvals.defer(
      {
        agent_id: agent,
        tool,
        args: decision.redacted_args,
        binding,
        action_id: actionId,
        ...(decision.rule_ref ? { rule_ref: decision.rule_ref } : {}),
        ...(decision.human_message ? { reason: decision.human_message } : {}),
        ...(topLevel ? { top_level: true as const } : {}),
        ...(costUsd ? { cost_usd: costUsd } : {}),
      },
      nowMs,
    );
    // Too much already waiting: this call is refused now, and nothing is written for it.
    if ('refused' in deferred)
      return {
        effect: 'deny',
        wire: 'DENY',
        denial: {
          code: 'RATE_EXCEEDED',
          human_message: `${tool} needs an approval, and agent ${agent} cannot defer more: ${deferred.refused}. Resolve them, or let them expire, then retry`,
          resolution: { type: 'pending_approvals', approval_ids: deferred.waiting.slice(0, 20) },
          ...(decision.rule_ref ? { rule_ref: decision.rule_ref } : {}),
        },
      };
    const { approval, created } = deferred;
    return {
      effect: 'defer',
      wire: 'DEFER',
      approvalsChanged: created,
      ...(created ? { undo: () => approvals.withdraw(approval) } : {}),
      denial: {
        ...(denial ?? { code: 'POLICY_DEFER', human_message: `${tool} deferred for operator approval` }),
        resolution: { type: 'pending_approval', approval_id: approval.id },
      },
    };
  }

  /** `poll_defer`: where an approval stands. Only the agent it belongs to may ask (others hear `unknown`). */
  poll(p: PollParams): { defer_token: string; status: 'pending' | 'approved' | 'denied' | 'expired' | 'unknown' } {
    const a: Approval | undefined = this.deps.approvals.get(p.defer_token, this.deps.now());
    if (!a || (p.agent_id !== undefined && p.agent_id !== a.agent_id)) return { defer_token: p.defer_token, status: 'unknown' };
    return { defer_token: p.defer_token, status: a.status };
  }
}

interface Outcome {
  effect: 'permit' | 'deny' | 'defer';
  wire: 'PERMIT' | 'DENY' | 'DEFER';
  denial?: StructuredDenial;
  approval?: { id: string; approved_by: string; reason?: string; at: string };
  approvalsChanged?: boolean;
  /** Takes the change to the approval book back (the book could not be saved, or the call will not run). */
  undo?: () => void;
}

/**
 * What a permitted call costs, as its budgets count it (its `cost_usd`, else its priced model usage,
 * else the policy's `cost` for the tool): the record's `cost`, which `audit stats`, `explain run`
 * and `explain decision` add up. Nothing when the call costs nothing and reports no usage.
 */
function recordedCost(
  policy: PolicyInUse,
  r: DecisionRequest,
  tool: string,
): { cost?: { usd: number; input_tokens?: number; output_tokens?: number } } {
  if (r.action === 'completion_event') return {};
  const agent = policy.prepared.agents.get(r.agent_id) ?? policy.prepared.flat;
  const usd = callCost(r, agent?.toolFacts(tool).declaredCost);
  const tokens = (n: unknown) => (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined);
  const input = tokens(r.usage?.input_tokens);
  const output = tokens(r.usage?.output_tokens);
  if (!(usd > 0) && input === undefined && output === undefined) return {};
  return {
    cost: {
      usd: Number.isFinite(usd) && usd > 0 ? usd : 0,
      ...(input !== undefined ? { input_tokens: input } : {}),
      ...(output !== undefined ? { output_tokens: output } : {}),
    },
  };
}

/** What a call declares it costs, which an approval binds with its arguments. */
function costOf(r: DecisionRequest): object | undefined {
  if (r.cost_usd === undefined && r.usage === undefined) return undefined;
  // Usage is priced by `usage.model`, else by the call's own `model`: bound with it, or a call approved
  // as 1M tokens of gpt-5-nano ($0.05) comes back as 1M tokens of o1-pro ($150) under the same approval.
  const pricedBy = r.usage !== undefined && r.usage.model === undefined && r.model !== undefined ? { model: r.model } : {};
  return { cost_usd: r.cost_usd ?? null, usage: r.usage ?? null, ...pricedBy };
}

/** A deny made before the policy looked at the call: nothing of the arguments is shown, only their hash is recorded. */
function refusedBeforePolicy(code: 'POLICY_DENY' | 'IDENTITY_UNVERIFIED', message: string, args: Record<string, unknown>): Decision {
  return {
    effect: 'DENY',
    code,
    human_message: message,
    resolution: { type: 'manual_audit' },
    signals: [],
    alerts: [],
    redacted_args: Object.fromEntries(Object.keys(args).map((k) => [k, '[REDACTED]'])),
  };
}

const quiescedDecision = (agent: string, halted: string, args: Record<string, unknown>) =>
  refusedBeforePolicy(
    'POLICY_DENY',
    halted === agent
      ? `denied: agent ${agent} is quiesced by the operator`
      : `denied: agent ${halted}, which delegated this work, is quiesced by the operator`,
    args,
  );

const unverifiedDecision = (who: { refused: string }, args: Record<string, unknown>) =>
  refusedBeforePolicy('IDENTITY_UNVERIFIED', `denied: ${who.refused}`, args);

function denialOf(d: Decision): StructuredDenial | undefined {
  if (d.effect === 'PERMIT' || !d.code) return undefined;
  return {
    code: d.code,
    human_message: d.human_message ?? `${d.effect.toLowerCase()}`,
    resolution: d.resolution ?? { type: 'manual_audit' },
    ...(d.rule_ref ? { rule_ref: d.rule_ref } : {}),
    ...(d.budget_id ? { budget_id: d.budget_id } : {}),
    ...(d.provider ? { provider: d.provider } : {}),
  };
}

function describeDenial(result: GovernResult, denial: StructuredDenial, actionId: string): void {
  result.reason_code = denial.code;
  result.structured_denial = denial;
  if (denial.rule_ref) result.rule_ref = denial.rule_ref;
  if (denial.resolution.type === 'rule_block') result.rule_id = denial.resolution.rule_id;
  if (denial.resolution.type === 'pending_approval') result.defer_token = denial.resolution.approval_id;
  else result.denial_token = `action-${actionId}`;
}

export function auditUnavailable(why: string): StructuredDenial {
  return {
    code: 'AUDIT_UNAVAILABLE',
    human_message: `denied: the audit log cannot record decisions (${why}); every call is denied until it recovers`,
    resolution: { type: 'retry_after', retry_after_seconds: 30 },
  };
}

/** A deny the daemon gives without deciding (not ready, log unavailable): nothing is recorded. */
export function refusal(callId: string, denial: StructuredDenial, started: number): GovernResult {
  const result: GovernResult = { call_id: callId, effect: 'DENY', latency_ms: round(performance.now() - started) };
  result.reason_code = denial.code;
  result.structured_denial = denial;
  return result;
}

/** The one entry of `claimsNoted` for every agent the policy does not declare (no agent id can equal it). */
const TOP_LEVEL = Symbol('agents without a block');

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Spawned children could not be marked ended: none is live, or nothing can be recorded. */
export class SpawnRefusal extends Error {
  override name = 'SpawnRefusal';
  constructor(
    readonly code: 'NO_LIVE_SPAWNS' | 'AUDIT_UNAVAILABLE',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The alerts of the effect recorded: the engine's, unless the call ended otherwise (a permit whose
 * credential failed, a deferral an operator denied), when those of the engine's effect (and a budget
 * warning of a spend given back) give way to the agent's alerts on the recorded one. A call refused
 * before the engine saw it (a delegation or principal token that did not verify, a quiesced agent, a
 * completion event) carries no alerts of its own: the agent's alerts on the recorded effect fire too.
 */
function recordedAlerts(
  decision: Decision,
  recorded: 'permit' | 'defer' | 'deny',
  agent: { alerts: ReadonlyMap<string, readonly { on: string; notify: string }[]> } | undefined,
): Decision['alerts'] {
  const decided = decision.effect.toLowerCase();
  const kept =
    decided === recorded
      ? decision.alerts
      : decision.alerts.filter((a) => a.on !== decided && !(decided === 'permit' && a.on === 'budget_warning'));
  const missing = (agent?.alerts.get(recorded) ?? []).filter((a) => !kept.some((k) => k.on === a.on && k.notify === a.notify));
  return missing.length === 0 ? kept : [...kept, ...missing.map((a) => ({ on: a.on, notify: a.notify }))];
}
