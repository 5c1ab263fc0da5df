// The hub's decisions for one HotRelease, from the release and what each member cluster
// holds right now: the next status, the member writes, the Events, and whether a gate
// round is due. Pure: no clock, no I/O. Level-triggered: a restarted hub plans the same
// from the same objects, and every member write is idempotent.
import type { HotDeployment } from '../controller/api/types.ts';
import { rfc3339, setConditions, type ConditionInput } from '../controller/conditions.ts';
import type { PlanEvent } from '../controller/plan.ts';
import { versionOf } from '../controller/images.ts';
import type { JsonPatchOp } from '../controller/jsonPatch.ts';
import type { ClusterProgress, GateResult, GateStatus, HotRelease, HotReleaseStatus } from './api/types.ts';
import { CONDITIONS, EVENTS, REASONS, type ReleasePhase } from './constants.ts';
import { gateQuery, type GateQuery } from './gate.ts';
import { isFinal, rollbackRunning } from './phases.ts';
import {
  degraded,
  freezeOps,
  imageBefore,
  reached,
  releaseMarkOf,
  rollbackOps,
  updatedAt,
  upgradeOps,
  type ReleaseMark,
} from './memberWrites.ts';
import { clusterTarget, describeStep, stepClusters, stepKind, touchOrder } from './targets.ts';

/** What the hub could learn about one member cluster of the release in this reconcile. */
export interface MemberView {
  name: string;
  /** The member could not be asked: its MemberCluster or kubeconfig is missing or broken (fix on the hub). */
  invalid?: string;
  /** The member did not answer (network, timeout, 5xx, auth). */
  unreachable?: string;
  /** The target HotDeployment; null when the member says it does not exist. */
  hd?: HotDeployment | null;
  /** The HotDeployment is driven by another HotRelease that is still running ("ns/name"). */
  busyWith?: string;
  /** The MemberCluster's spec.prometheus.url. */
  prometheusUrl?: string;
}

export interface PlanInput {
  release: HotRelease;
  /** The release's clusters, in the order of spec.clusters.names (by name for a selector). */
  members: MemberView[];
  /** Why the clusters themselves are wrong (a selector that matches nothing). */
  clustersProblem?: string;
  nowMs: number;
  /** The results of the gate round that the previous plan asked for, evaluated just now. */
  gateRound?: GateResult[];
}

export interface MemberWrite {
  cluster: string;
  namespace: string;
  name: string;
  ops: JsonPatchOp[];
  why: string;
}

export interface ReleasePlan {
  status: HotReleaseStatus;
  writes: MemberWrite[];
  events: PlanEvent[];
  /** A gate round is due: evaluate these, then plan again with gateRound. Nothing else is to be done with this plan. */
  gateQueries?: GateQuery[];
  /** When to look again at the latest (a timed pause ends, a gate round is due). */
  wakeAtMs?: number;
}

const DEFAULT_DEADLINE_S = 600;
const DEFAULT_INTERVAL_S = 60;

const ms = (iso: string | undefined): number | undefined => (iso ? Date.parse(iso) : undefined);

type Cond = ConditionInput;
const cond = (type: string, status: Cond['status'], reason: string, message: string): Cond => ({
  type,
  status,
  reason,
  message,
});

/** The state one reconcile works on and hands to the status at the end. */
interface Work {
  in: PlanInput;
  rel: HotRelease;
  now: string;
  clusters: string[];
  byName: Map<string, MemberView>;
  s: HotReleaseStatus;
  phase: ReleasePhase;
  writes: MemberWrite[];
  events: PlanEvent[];
  progressing: Cond;
  paused: Cond;
  degraded: Cond;
  wakeAtMs?: number;
  gateQueries?: GateQuery[];
}

export function planRelease(input: PlanInput): ReleasePlan {
  const rel = input.release;
  const prev = rel.status ?? {};
  const w: Work = {
    in: input,
    rel,
    now: rfc3339(input.nowMs),
    clusters: input.members.map((m) => m.name),
    byName: new Map(input.members.map((m) => [m.name, m])),
    s: { ...prev, gates: [...(prev.gates ?? [])] },
    phase: prev.phase ?? 'Pending',
    writes: [],
    events: [],
    progressing: cond(CONDITIONS.progressing, 'True', REASONS.upgrading, ''),
    paused: cond(CONDITIONS.paused, 'False', REASONS.notPaused, 'not paused'),
    degraded: cond(CONDITIONS.degraded, 'False', REASONS.healthy, 'no problem'),
  };
  decide(w);
  return finish(w);
}

function decide(w: Work): void {
  const { rel } = w;
  if (w.phase === 'RolledBack') return keepFinal(w);
  if (rel.spec.rollback || rollbackRunning(rel.status))
    return rollback(w, rel.spec.rollback ? 'spec.rollback is true' : undefined);
  if (isFinal(w.phase)) return keepFinal(w);
  if (rel.spec.abort) return abort(w);
  if (blocked(w)) return;
  const failure = memberFailure(w);
  if (failure) return fail(w, REASONS.memberDegraded, failure);
  if (rel.spec.paused) {
    pause(
      w,
      REASONS.pausedBySpec,
      'spec.paused is true: no step starts and no member is asked for more; set it to false to resume',
    );
    return;
  }
  run(w);
}

// ---- problems that hold the release -------------------------------------------------

/** Members that cannot be read or worked on hold the release (Paused); true when held. */
function blocked(w: Work): boolean {
  const invalid: string[] = [];
  const missing: string[] = [];
  if (w.in.clustersProblem) invalid.push(w.in.clustersProblem);
  w.rel.spec.steps.forEach((step, i) => {
    const kind = step.upgrade ? 'upgrade' : 'gate';
    const stray = (step.upgrade?.clusters ?? step.gate?.clusters ?? []).filter(
      (c) => !w.clusters.includes(c),
    );
    if (stray.length > 0)
      invalid.push(
        `spec.steps[${i}].${kind}.clusters names ${stray.join(', ')}, not a cluster of this release (spec.clusters selects ${w.clusters.join(', ') || 'none'}); fix the step or the selector`,
      );
  });
  for (const m of w.in.members) {
    if (m.invalid) invalid.push(`cluster ${m.name}: ${m.invalid}`);
    else if (m.busyWith)
      invalid.push(
        `cluster ${m.name}: ${targetRef(w)} is being released by hotrelease ${m.busyWith}; let it finish, abort it, or delete it`,
      );
    else if (m.hd === null)
      missing.push(
        `cluster ${m.name}: no hotdeployment ${targetRef(w)}; create it there, or leave the cluster out of spec.clusters`,
      );
  }
  const unreachable = w.in.members.filter((m) => m.unreachable);
  if (unreachable.length > 0) {
    const msg = unreachable.map((m) => `cluster ${m.name}: ${m.unreachable}`).join('; ');
    pause(
      w,
      REASONS.clustersUnreachable,
      `waiting for unreachable clusters (the release resumes when they answer): ${msg}`,
    );
  }
  if (invalid.length > 0 || missing.length > 0) {
    w.degraded = cond(
      CONDITIONS.degraded,
      'True',
      invalid.length > 0 ? REASONS.invalidSpec : REASONS.targetNotFound,
      [...invalid, ...missing].join('; '),
    );
    if (unreachable.length === 0) pause(w, w.degraded.reason, `held until fixed: ${w.degraded.message}`);
  }
  return unreachable.length > 0 || invalid.length > 0 || missing.length > 0;
}

function targetRef(w: Work): string {
  return `${w.rel.spec.target.namespace ?? w.rel.metadata.namespace ?? 'default'}/${w.rel.spec.target.name}`;
}

/** A touched member whose own rollout is Degraded stops the release. */
function memberFailure(w: Work): string | undefined {
  for (const m of w.in.members) {
    if (!m.hd || !ours(w, m.hd)) continue;
    const d = degraded(m.hd);
    if (d) return `cluster ${m.name}: hotdeployment ${targetRef(w)} is Degraded (${d.reason}): ${d.message}`;
  }
  return undefined;
}

const ours = (w: Work, hd: HotDeployment): boolean => releaseMarkOf(hd)?.uid === w.rel.metadata.uid;

// ---- phases ------------------------------------------------------------------------------

function pause(w: Work, reason: string, message: string): void {
  const before = w.rel.status;
  const was = before?.conditions?.find((c) => c.type === CONDITIONS.paused);
  const entering = before?.phase !== 'Paused' || was?.reason !== reason || was.message !== message;
  if (entering && reason === REASONS.awaitingApproval)
    w.events.push({ type: 'Normal', reason: EVENTS.awaitingApproval, message });
  w.phase = 'Paused';
  w.paused = cond(CONDITIONS.paused, 'True', reason, message);
  w.progressing = cond(CONDITIONS.progressing, 'Unknown', reason, message);
}

function keepFinal(w: Work): void {
  const prev = w.rel.status?.conditions ?? [];
  const keep = (type: string, fallback: Cond): Cond => {
    const c = prev.find((x) => x.type === type);
    return c ? cond(type, c.status, c.reason, c.message) : fallback;
  };
  w.progressing = keep(CONDITIONS.progressing, w.progressing);
  w.paused = keep(CONDITIONS.paused, w.paused);
  w.degraded = keep(CONDITIONS.degraded, w.degraded);
}

function fail(w: Work, reason: string, message: string): void {
  w.phase = 'Failed';
  w.s.completedAt = w.now;
  w.degraded = cond(CONDITIONS.degraded, 'True', reason, message);
  w.events.push({ type: 'Warning', reason: EVENTS.releaseFailed, message });
  if (w.rel.spec.autoRollback) {
    w.events.push({
      type: 'Warning',
      reason: EVENTS.rolledBack,
      message: 'spec.autoRollback: rolling every upgraded cluster back, last upgraded first',
    });
    rollback(w, undefined, message);
  } else {
    w.progressing = cond(
      CONDITIONS.progressing,
      'False',
      reason,
      `${message}; to roll back: set spec.rollback to true`,
    );
  }
}

function abort(w: Work): void {
  w.phase = 'Aborted';
  w.s.completedAt = w.now;
  const touched: string[] = [];
  for (const m of w.in.members) {
    if (!m.hd || !ours(w, m.hd)) continue;
    touched.push(m.name);
    const ops = freezeOps(m.hd);
    if (ops.length > 0) w.writes.push(write(w, m.name, m.hd, ops, 'abort: start no more pod upgrades'));
  }
  const msg = `aborted (spec.abort): every pod stays at the version it runs${touched.length > 0 ? `; clusters upgraded so far: ${touched.join(', ')}` : ''}`;
  w.events.push({ type: 'Warning', reason: EVENTS.aborted, message: msg });
  w.progressing = cond(CONDITIONS.progressing, 'False', REASONS.aborted, msg);
  w.degraded = cond(CONDITIONS.degraded, 'True', REASONS.aborted, msg);
}

function write(w: Work, cluster: string, hd: HotDeployment, ops: JsonPatchOp[], why: string): MemberWrite {
  return {
    cluster,
    namespace: hd.metadata.namespace ?? '',
    name: hd.metadata.name ?? w.rel.spec.target.name,
    ops,
    why,
  };
}

// ---- rollback -------------------------------------------------------------------------

/**
 * Every touched cluster back to its previous image, one at a time, last upgraded first.
 * `requested` when the user asked; `cause` when a failure did (the phase stays Failed
 * until the end).
 */
function rollback(w: Work, requested: string | undefined, cause?: string): void {
  const why =
    requested ??
    `autoRollback after: ${cause ?? w.rel.status?.conditions?.find((c) => c.type === CONDITIONS.degraded)?.message ?? 'a failure'}`;
  if (!isFinal(w.phase)) w.phase = 'Progressing';
  const order = touchOrder(w.rel.spec, w.clusters).reverse();
  for (const name of order) {
    const m = w.byName.get(name);
    if (!m || m.invalid || m.hd === null) continue;
    if (m.unreachable || !m.hd) {
      const msg = `rolling back: waiting for cluster ${name}, unreachable: ${m.unreachable ?? 'not read'}`;
      w.progressing = cond(CONDITIONS.progressing, 'True', REASONS.rollingBack, msg);
      return;
    }
    const mark = releaseMarkOf(m.hd);
    if (!mark || mark.uid !== w.rel.metadata.uid) continue; // never touched
    const hd = m.hd;
    if (!reached(hd, mark.previousImage, hd.spec.replicas ?? 1)) {
      const ops = rollbackOps(hd, mark, `rolled back by hotrelease ${releaseRef(w)}: ${why}`, w.now);
      if (ops.length > 0) w.writes.push(write(w, name, hd, ops, `rollback to ${mark.previousImage}`));
      w.progressing = cond(
        CONDITIONS.progressing,
        'True',
        REASONS.rollingBack,
        `rolling back cluster ${name} to ${mark.previousImage} (${updatedAt(hd, mark.previousImage)}/${hd.spec.replicas ?? 1} pods); ${why}`,
      );
      return;
    }
  }
  w.phase = 'RolledBack';
  w.s.completedAt = w.now;
  const msg = `rolled back: every upgraded cluster runs its previous image again; ${why}`;
  w.events.push({ type: 'Warning', reason: EVENTS.rolledBack, message: msg });
  w.progressing = cond(CONDITIONS.progressing, 'False', REASONS.rolledBack, msg);
  w.degraded = cond(CONDITIONS.degraded, 'True', REASONS.rolledBack, msg);
}

const releaseRef = (w: Work): string =>
  `${w.rel.metadata.namespace ?? 'default'}/${w.rel.metadata.name ?? ''}`;

// ---- steps ----------------------------------------------------------------------------

/** Walks the steps from status.currentStep; each finished step starts the next in the same plan. */
function run(w: Work): void {
  const steps = w.rel.spec.steps;
  if (w.s.currentStep === undefined) {
    w.s.startedAt = w.now;
    startStep(w, 1);
  }
  for (let guard = 0; guard <= steps.length; guard++) {
    const k = w.s.currentStep ?? 1;
    if (k > steps.length) return succeed(w);
    const done = runStep(w, k);
    if (w.phase === 'Failed' || w.phase === 'RolledBack' || !done) return;
    w.events.push({
      type: 'Normal',
      reason: EVENTS.stepCompleted,
      message: `step ${k}/${steps.length} done: ${describe(w, k)}`,
    });
    startStep(w, k + 1);
  }
}

const describe = (w: Work, k: number): string => {
  const s = w.rel.spec.steps[k - 1];
  return s ? describeStep(s, w.clusters) : 'no such step';
};

function startStep(w: Work, k: number): void {
  w.s.currentStep = k;
  w.s.stepStartedAt = w.now;
  w.s.lastProgressTime = w.now;
  const n = w.rel.spec.steps.length;
  if (k <= n)
    w.events.push({
      type: 'Normal',
      reason: EVENTS.stepStarted,
      message: `step ${k}/${n}: ${describe(w, k)}`,
    });
}

function succeed(w: Work): void {
  w.phase = 'Succeeded';
  w.s.currentStep = w.rel.spec.steps.length;
  w.s.completedAt = w.now;
  const msg = `every cluster runs ${w.rel.spec.image} on every pod`;
  w.events.push({ type: 'Normal', reason: EVENTS.releaseSucceeded, message: msg });
  w.progressing = cond(CONDITIONS.progressing, 'True', REASONS.releaseComplete, msg);
}

/** Runs step k; true when it is done. */
function runStep(w: Work, k: number): boolean {
  const step = w.rel.spec.steps[k - 1];
  if (!step) return true;
  w.phase = 'Progressing';
  switch (stepKind(step)) {
    case 'upgrade':
      return upgradeStep(w, k);
    case 'gate':
      return gateStep(w, k);
    case 'pause': {
      if (step.pause?.manual) {
        if ((w.rel.spec.approved?.step ?? 0) > k) return true;
        pause(
          w,
          REASONS.awaitingApproval,
          `step ${k}/${w.rel.spec.steps.length} waits for approval: set spec.approved.step to ${k + 1} (kubectl hotupgrade approve hr/${w.rel.metadata.name ?? ''})`,
        );
        return false;
      }
      const ends = (ms(w.s.stepStartedAt) ?? w.in.nowMs) + (step.pause?.seconds ?? 0) * 1000;
      if (w.in.nowMs >= ends) return true;
      w.wakeAtMs = ends;
      w.progressing = cond(
        CONDITIONS.progressing,
        'True',
        REASONS.stepPaused,
        `step ${k}: pause until ${rfc3339(ends)}`,
      );
      return false;
    }
  }
}

/** Writes every cluster's image and partition for steps 1..k; done when each has its target. */
function upgradeStep(w: Work, k: number): boolean {
  const { spec } = w.rel;
  let done = true;
  const waiting: string[] = [];
  for (const m of w.in.members) {
    const hd = m.hd;
    if (!hd) continue;
    const replicas = hd.spec.replicas ?? 1;
    const target = clusterTarget(spec, w.clusters, m.name, k, replicas);
    if (target === 0) continue;
    const own = releaseMarkOf(hd);
    const mark: ReleaseMark =
      own && own.uid === w.rel.metadata.uid
        ? own
        : {
            release: releaseRef(w),
            uid: w.rel.metadata.uid ?? '',
            image: spec.image,
            previousImage: imageBefore(hd, spec.image),
          };
    const ops = upgradeOps(hd, mark, replicas - target);
    if (ops.length > 0) {
      w.writes.push(write(w, m.name, hd, ops, `step ${k}: ${target}/${replicas} pods at ${spec.image}`));
      done = false;
      waiting.push(`${m.name} ${updatedAt(hd, spec.image)}/${target}`);
    } else if (!reached(hd, spec.image, target)) {
      done = false;
      waiting.push(`${m.name} ${updatedAt(hd, spec.image)}/${target}`);
    }
  }
  if (done) return true;
  // Progress: any cluster's count at the new image moved since the last status.
  const before = new Map((w.rel.status?.clusters ?? []).map((c) => [c.name, c.updated ?? 0]));
  const moved = w.in.members.some((m) => m.hd && updatedAt(m.hd, spec.image) !== (before.get(m.name) ?? 0));
  if (moved) w.s.lastProgressTime = w.now;
  const deadline = (spec.progressDeadlineSeconds ?? DEFAULT_DEADLINE_S) * 1000;
  // The deadline counts from the last progress, or from the end of a pause: not across it.
  const resumed = w.rel.status?.conditions?.find((c) => c.type === CONDITIONS.paused && c.status === 'False');
  const since = Math.max(ms(w.s.lastProgressTime) ?? w.in.nowMs, ms(resumed?.lastTransitionTime) ?? 0);
  if (w.in.nowMs - since > deadline) {
    fail(
      w,
      REASONS.progressDeadlineExceeded,
      `step ${k}: no progress for ${spec.progressDeadlineSeconds ?? DEFAULT_DEADLINE_S}s (spec.progressDeadlineSeconds); pods at the new image / step target: ${waiting.join(', ')}`,
    );
    return false;
  }
  w.wakeAtMs = since + deadline + 1000;
  w.progressing = cond(
    CONDITIONS.progressing,
    'True',
    REASONS.upgrading,
    `step ${k}/${spec.steps.length}: ${describe(w, k)}; pods at ${spec.image} / step target: ${waiting.join(', ')}`,
  );
  return false;
}

/** Evaluates the gate of step k when a round is due; true when it passed. */
function gateStep(w: Work, k: number): boolean {
  const gate = w.rel.spec.steps[k - 1]?.gate;
  if (!gate) return true;
  const gates = w.s.gates ?? [];
  const i = gates.findIndex((g) => g.step === k);
  const started = ms(w.s.stepStartedAt) ?? w.in.nowMs;
  const g: GateStatus = gates[i] ?? { step: k, state: 'Evaluating', failures: 0, successes: 0 };
  const put = (x: GateStatus): void => {
    if (i >= 0) gates[i] = x;
    else gates.push(x);
    w.s.gates = gates;
  };
  if (g.state === 'Passed') return true;
  const interval = (gate.intervalSeconds ?? DEFAULT_INTERVAL_S) * 1000;
  const last = Math.max(started, ...(g.results ?? []).map((r) => ms(r.at) ?? 0));
  const due = last + interval;
  const clusters = stepClusters({ gate }, w.clusters);
  const missing = clusters.filter(
    (c) => !(gate.prometheus?.url ?? w.byName.get(c)?.prometheusUrl ?? w.rel.spec.prometheus?.url),
  );
  if (missing.length > 0) {
    const msg = `step ${k}: no Prometheus to ask for cluster ${missing.join(', ')}: set spec.steps[${k - 1}].gate.prometheus.url, the MemberCluster's spec.prometheus.url, or spec.prometheus.url`;
    w.degraded = cond(CONDITIONS.degraded, 'True', REASONS.invalidSpec, msg);
    pause(w, REASONS.invalidSpec, `held until fixed: ${msg}`);
    put(g);
    return false;
  }
  w.progressing = cond(
    CONDITIONS.progressing,
    'True',
    REASONS.evaluatingGate,
    `step ${k}/${w.rel.spec.steps.length}: ${describe(w, k)}; ${g.successes ?? 0}/${gate.samples ?? 1} rounds passed in a row, ${g.failures ?? 0}/${gate.failureLimit ?? 1} failed`,
  );
  if (w.in.nowMs < due) {
    put(g);
    w.wakeAtMs = due;
    return false;
  }
  if (!w.in.gateRound) {
    put(g);
    w.gateQueries = clusters.map((c) =>
      gateQuery(
        gate,
        c,
        gate.prometheus?.url ?? w.byName.get(c)?.prometheusUrl ?? w.rel.spec.prometheus?.url ?? '',
      ),
    );
    return false;
  }
  const results = w.in.gateRound;
  const passed = results.length > 0 && results.every((r) => r.passed);
  const next: GateStatus = {
    step: k,
    state: 'Evaluating',
    results,
    failures: (g.failures ?? 0) + (passed ? 0 : 1),
    successes: passed ? (g.successes ?? 0) + 1 : 0,
  };
  const shown = results
    .map((r) => `${r.cluster}: ${r.value ?? 'no value'}${r.message ? ` (${r.message})` : ''}`)
    .join(', ');
  if ((next.successes ?? 0) >= (gate.samples ?? 1)) {
    put({ ...next, state: 'Passed' });
    w.events.push({
      type: 'Normal',
      reason: EVENTS.gatePassed,
      message: `step ${k}: ${describe(w, k)} passed: ${shown}`,
    });
    return true;
  }
  if ((next.failures ?? 0) >= (gate.failureLimit ?? 1)) {
    put({ ...next, state: 'Failed' });
    const msg = `step ${k}: ${describe(w, k)} failed ${next.failures} time(s) (failureLimit ${gate.failureLimit ?? 1}): ${shown}`;
    w.events.push({ type: 'Warning', reason: EVENTS.gateFailed, message: msg });
    fail(w, REASONS.gateFailed, msg);
    return false;
  }
  put(next);
  w.wakeAtMs = w.in.nowMs + interval;
  return false;
}

// ---- status ---------------------------------------------------------------------------

function progressOf(w: Work, m: MemberView): ClusterProgress {
  const prevRow = w.rel.status?.clusters?.find((c) => c.name === m.name);
  const base: ClusterProgress = { name: m.name, reachable: !m.unreachable && !m.invalid };
  const message =
    m.invalid ?? m.unreachable ?? (m.hd === null ? `no hotdeployment ${targetRef(w)}` : undefined);
  if (!m.hd) {
    // Keep the last figures known while a cluster cannot be read.
    const { message: _m, reachable: _r, ...kept } = prevRow ?? { name: m.name };
    return { ...kept, ...base, ...(message ? { message } : {}) };
  }
  const hd = m.hd;
  const mark = releaseMarkOf(hd);
  const mine = mark?.uid === w.rel.metadata.uid;
  const replicas = hd.spec.replicas ?? 1;
  const upTo = Math.min(w.s.currentStep ?? 0, w.rel.spec.steps.length);
  const image = hd.status?.updateImage;
  const d = degraded(hd);
  return {
    ...base,
    replicas: hd.status?.replicas ?? 0,
    updated: updatedAt(hd, w.rel.spec.image),
    ready: hd.status?.readyReplicas ?? 0,
    target: clusterTarget(w.rel.spec, w.clusters, m.name, upTo, replicas),
    ...(image ? { image, version: versionOf(image) } : {}),
    ...(mine && mark ? { previousImage: mark.previousImage } : {}),
    ...(d ? { message: `Degraded (${d.reason}): ${d.message}` } : message ? { message } : {}),
  };
}

function finish(w: Work): ReleasePlan {
  const { rel } = w;
  const generation = rel.metadata.generation ?? 0;
  const unreachable = w.in.members.filter((m) => m.unreachable);
  // Events for clusters that stopped answering since the last status.
  for (const m of unreachable) {
    const before = rel.status?.clusters?.find((c) => c.name === m.name);
    if (before?.reachable !== false)
      w.events.push({
        type: 'Warning',
        reason: EVENTS.clusterUnreachable,
        message: `cluster ${m.name}: ${m.unreachable ?? ''}`,
      });
  }
  const reachable =
    unreachable.length > 0
      ? cond(
          CONDITIONS.reachable,
          'False',
          REASONS.clustersUnreachable,
          unreachable.map((m) => `cluster ${m.name}: ${m.unreachable ?? ''}`).join('; '),
        )
      : cond(
          CONDITIONS.reachable,
          'True',
          REASONS.probeSucceeded,
          `every cluster answered (${w.clusters.join(', ') || 'none'})`,
        );
  if (w.phase === 'Pending')
    w.progressing = cond(CONDITIONS.progressing, 'Unknown', REASONS.upgrading, 'not started');
  const status: HotReleaseStatus = {
    ...w.s,
    observedGeneration: generation,
    phase: w.phase,
    clusters: w.in.members.map((m) => progressOf(w, m)),
    conditions: setConditions(
      rel.status?.conditions,
      [w.progressing, w.paused, w.degraded, reachable],
      w.in.nowMs,
      generation,
    ),
  };
  if ((status.gates ?? []).length === 0) delete status.gates;
  return {
    status,
    writes: w.writes,
    events: w.events,
    ...(w.gateQueries ? { gateQueries: w.gateQueries } : {}),
    ...(w.wakeAtMs !== undefined ? { wakeAtMs: w.wakeAtMs } : {}),
  };
}
