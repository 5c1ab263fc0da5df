// What `status hr/NAME` shows of a HotRelease, as data (`-o json` prints it as is;
// releaseRender.ts turns it into lines), and the words for where a release stands. Pure.
// The hub controller's contract (phases, conditions, steps) is docs/crd-reference.md.
import type { ClusterProgress, Condition, GateResult, HotRelease, ReleaseStep } from '../hub/api/types.ts';
import {
  CONDITIONS,
  REASONS,
  type GateState,
  type ReleasePhase,
  type ThresholdOp,
} from '../hub/constants.ts';
import { versionOf } from '../controller/images.ts';
import { FINAL_PHASES, isFinal, rollbackRunning } from '../hub/phases.ts';

// The phases a release ends in (a rollback may still follow Succeeded, Failed and Aborted).
export { FINAL_PHASES, isFinal };
import { describeStep, stepKind, type StepKind } from './steps.ts';

/**
 * Where a release stands, for a watch to stop on. pending: the hub has not written a status
 * for the latest spec; progressing: running, paused or rolling back; succeeded: phase
 * Succeeded; failed: phase Failed, RolledBack or Aborted, with no rollback running.
 */
export type ReleaseOutcome = 'pending' | 'progressing' | 'succeeded' | 'failed';

/** done ✓, current ▶, stopped ✗ (where a failed, aborted or rolled-back release ended), pending ·. */
export type StepState = 'done' | 'current' | 'stopped' | 'pending';

export interface StepLine {
  /** 1-based, as status.currentStep. */
  number: number;
  kind: StepKind | undefined;
  description: string;
  state: StepState;
}

export interface GateView {
  step: number;
  state: GateState;
  query: string;
  op: ThresholdOp | undefined;
  threshold: number | undefined;
  intervalSeconds: number;
  /** Passed rounds in a row so far, and how many pass the gate. */
  successes: number;
  samples: number;
  /** Failed rounds so far, and how many fail the gate. */
  failures: number;
  failureLimit: number;
  /** The last round: one result per cluster. */
  results: GateResult[];
}

export interface ReleaseSummary {
  kind: 'HotRelease';
  namespace: string;
  name: string;
  generation: number;
  /** The generation the status describes; below `generation` while the hub catches up. */
  observedGeneration: number | undefined;
  /** The HotDeployment, in every member cluster. */
  target: { name: string; namespace: string };
  image: string;
  version: string;
  /** The member clusters as the spec names them: "a, b" or "selector env=prod". */
  clusterSelection: string;
  phase: ReleasePhase | undefined;
  currentStep: number | undefined;
  totalSteps: number;
  /** When the current step started, the first step started, the release ended (RFC 3339). */
  stepStartedAt: string | undefined;
  startedAt: string | undefined;
  completedAt: string | undefined;
  /** When a running timed pause ends (RFC 3339). */
  pauseEndsAt: string | undefined;
  steps: StepLine[];
  clusters: ClusterProgress[];
  gates: GateView[];
  conditions: Condition[];
  /** The conditions that are not fine: Progressing False, Paused True, Degraded True, Reachable False, or Unknown. */
  problems: Condition[];
  spec: {
    paused: boolean;
    abort: boolean;
    rollback: boolean;
    autoRollback: boolean;
    approvedStep: number | undefined;
  };
  /** The phase with the reason that matters, for the Phase line: "Paused: awaiting approval of step 4/5". */
  phaseText: string;
  /** Where the release stands, in words that complete "hotrelease/x is ...". */
  state: string;
  outcome: ReleaseOutcome;
  /** What the user may want to do next (a command line), when anything. */
  next: string | undefined;
}

export function releaseCondition(hr: HotRelease, type: string): Condition | undefined {
  return hr.status?.conditions?.find((c) => c.type === type);
}

const isTrue = (c: Condition | undefined): boolean => c?.status === 'True';

/** The status describes the latest spec (a status without observedGeneration is taken as current). */
export function releaseObserved(hr: HotRelease): boolean {
  const s = hr.status;
  if (!s) return false;
  return s.observedGeneration === undefined || s.observedGeneration >= (hr.metadata.generation ?? 0);
}

/** A rollback runs: Progressing True/RollingBack, or spec.rollback set and not yet RolledBack. */
export function rollingBack(hr: HotRelease): boolean {
  return rollbackRunning(hr.status) || (hr.spec.rollback === true && hr.status?.phase !== 'RolledBack');
}

/** The manual pause at status.currentStep waits for spec.approved. */
export function awaitingApproval(hr: HotRelease): boolean {
  const p = releaseCondition(hr, CONDITIONS.paused);
  return hr.status?.phase === 'Paused' && isTrue(p) && p?.reason === REASONS.awaitingApproval;
}

/** Any member cluster has been changed by the release (so there is something to roll back). */
export function touched(hr: HotRelease): boolean {
  const s = hr.status;
  if (!s) return false;
  return (
    s.startedAt !== undefined ||
    (s.clusters ?? []).some((c) => c.previousImage !== undefined || (c.updated ?? 0) > 0)
  );
}

export function releaseOutcome(hr: HotRelease): ReleaseOutcome {
  if (!releaseObserved(hr)) return 'pending';
  const phase = hr.status?.phase;
  if (phase === 'Succeeded' && !rollingBack(hr)) return 'succeeded';
  if (phase === 'RolledBack') return 'failed';
  if ((phase === 'Failed' || phase === 'Aborted') && !rollingBack(hr)) return 'failed';
  return 'progressing';
}

export const releaseRef = (hr: HotRelease): string =>
  `hr/${hr.metadata.name ?? ''} -n ${hr.metadata.namespace ?? 'default'}`;

/** "step 3/5 (pause until approved)". */
export function stepAt(hr: HotRelease, n: number | undefined): string {
  const total = hr.spec.steps.length;
  if (n === undefined) return `before step 1/${total}`;
  const step = hr.spec.steps[n - 1];
  return step ? `step ${n}/${total} (${describeStep(step)})` : `step ${n}/${total}`;
}

const said = (c: Condition | undefined): string => (c ? `${c.reason}: ${c.message}` : '');

/** Where the release stands, in words that complete "hotrelease/x is ...". */
export function describeRelease(hr: HotRelease): string {
  const s = hr.status;
  if (!s?.phase) return 'without a status: the hub controller has not seen it yet (is it running?)';
  if (!releaseObserved(hr)) {
    return `not yet observed at generation ${hr.metadata.generation ?? 0} (the status is of generation ${s.observedGeneration ?? 0}; the hub controller is catching up)`;
  }
  const degraded = releaseCondition(hr, CONDITIONS.degraded);
  const paused = releaseCondition(hr, CONDITIONS.paused);
  const at = stepAt(hr, s.currentStep);
  if (rollingBack(hr)) {
    const p = releaseCondition(hr, CONDITIONS.progressing);
    return `rolling back (phase ${s.phase})${p?.message ? `: ${p.message}` : ''}`;
  }
  switch (s.phase) {
    case 'Succeeded':
      return `Succeeded: every cluster runs ${hr.spec.image}`;
    case 'Failed':
    case 'RolledBack':
    case 'Aborted':
      return `${s.phase} at ${at}${isTrue(degraded) ? `: ${said(degraded)}` : ''}`;
    case 'Pending':
      return `Pending (not started)${isTrue(degraded) ? `: ${said(degraded)}` : ''}`;
    case 'Paused':
      if (awaitingApproval(hr)) {
        return `Paused at ${at}, awaiting approval of step ${(s.currentStep ?? 0) + 1}`;
      }
      if (paused?.reason === REASONS.pausedBySpec) return `Paused by spec.paused at ${at}`;
      return `Paused at ${at}${isTrue(degraded) ? `: ${said(degraded)}` : isTrue(paused) ? `: ${said(paused)}` : ''}`;
    case 'Progressing':
      return `Progressing at ${at}`;
  }
}

/** The phase and the reason that matters: "Failed: GateFailed", "Paused: awaiting approval of step 4/5". */
export function phaseText(hr: HotRelease): string {
  const s = hr.status;
  if (!s?.phase) return 'none yet';
  const reason = (type: string): string => {
    const c = releaseCondition(hr, type);
    return isTrue(c) ? `: ${c?.reason ?? ''}` : '';
  };
  if (rollingBack(hr)) return `${s.phase}: rolling back`;
  switch (s.phase) {
    case 'Paused':
      if (awaitingApproval(hr)) {
        const total = hr.spec.steps.length;
        return `Paused: awaiting approval of step ${Math.min((s.currentStep ?? 0) + 1, total)}/${total}`;
      }
      return `Paused${reason(CONDITIONS.paused)}`;
    case 'Pending':
    case 'Failed':
      return `${s.phase}${reason(CONDITIONS.degraded)}`;
    default:
      return s.phase;
  }
}

/** The command the user most likely runs next, when the release waits for them. */
export function nextForRelease(hr: HotRelease): string | undefined {
  const s = hr.status;
  if (!s || !releaseObserved(hr) || rollingBack(hr)) return undefined;
  const ref = releaseRef(hr);
  const total = hr.spec.steps.length;
  switch (s.phase) {
    case 'Failed':
      return `roll every cluster back to its previous image with: kubectl hotupgrade rollback ${ref}`;
    case 'Aborted':
      return `pods keep the version they run; to go back: kubectl hotupgrade rollback ${ref}`;
    case 'Succeeded':
    case 'RolledBack':
      return undefined;
  }
  if (hr.spec.paused) return `resume with: kubectl hotupgrade resume ${ref}`;
  if (awaitingApproval(hr)) {
    const n = (s.currentStep ?? 0) + 1;
    return `approve step ${Math.min(n, total)}/${total} with: kubectl hotupgrade approve ${ref}`;
  }
  return undefined;
}

function notFine(c: Condition): boolean {
  if (c.status === 'Unknown') return true;
  switch (c.type) {
    case CONDITIONS.progressing:
      return c.status === 'False';
    case CONDITIONS.paused:
    case CONDITIONS.degraded:
      return c.status === 'True';
    case CONDITIONS.reachable:
      return c.status === 'False';
    default:
      return false;
  }
}

function stepState(hr: HotRelease, n: number): StepState {
  const s = hr.status;
  const cur = s?.currentStep;
  if (s?.phase === 'Succeeded') return 'done';
  if (cur === undefined || n > cur) return 'pending';
  if (n < cur) return 'done';
  return isFinal(s?.phase) ? 'stopped' : 'current';
}

function gateView(
  hr: HotRelease,
  g: NonNullable<NonNullable<HotRelease['status']>['gates']>[number],
): GateView {
  const spec = hr.spec.steps[g.step - 1]?.gate;
  return {
    step: g.step,
    state: g.state,
    query: spec?.query ?? '',
    op: spec?.threshold.op,
    threshold: spec?.threshold.value,
    intervalSeconds: spec?.intervalSeconds ?? 60,
    successes: g.successes ?? 0,
    samples: spec?.samples ?? 1,
    failures: g.failures ?? 0,
    failureLimit: spec?.failureLimit ?? 1,
    results: g.results ?? [],
  };
}

function selection(hr: HotRelease): string {
  const c = hr.spec.clusters;
  if (c.names) return c.names.join(', ');
  const sel = c.selector ?? {};
  const labels = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  const exprs = (sel.matchExpressions ?? []).map(
    (e) => `${e.key} ${e.operator}${e.values?.length ? ` (${e.values.join(',')})` : ''}`,
  );
  const all = [...labels, ...exprs];
  return all.length ? `selected by ${all.join(', ')}` : 'every member cluster';
}

/** When the timed pause at the current step ends, if one runs (RFC 3339). */
function pauseEnd(hr: HotRelease, step: ReleaseStep | undefined): string | undefined {
  const s = hr.status;
  const secs = step?.pause?.seconds;
  if (secs === undefined || !s?.stepStartedAt || isFinal(s.phase)) return undefined;
  const t = Date.parse(s.stepStartedAt);
  return Number.isNaN(t) ? undefined : new Date(t + secs * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

export function summarizeRelease(hr: HotRelease): ReleaseSummary {
  const s = hr.status;
  const conditions = s?.conditions ?? [];
  const order: string[] = [
    CONDITIONS.progressing,
    CONDITIONS.paused,
    CONDITIONS.degraded,
    CONDITIONS.reachable,
  ];
  const cur = s?.currentStep;
  return {
    kind: 'HotRelease',
    namespace: hr.metadata.namespace ?? 'default',
    name: hr.metadata.name ?? '',
    generation: hr.metadata.generation ?? 0,
    observedGeneration: s?.observedGeneration,
    target: {
      name: hr.spec.target.name,
      namespace: hr.spec.target.namespace ?? hr.metadata.namespace ?? 'default',
    },
    image: hr.spec.image,
    version: versionOf(hr.spec.image),
    clusterSelection: selection(hr),
    phase: s?.phase,
    currentStep: cur,
    totalSteps: hr.spec.steps.length,
    stepStartedAt: s?.stepStartedAt,
    startedAt: s?.startedAt,
    completedAt: s?.completedAt,
    pauseEndsAt: pauseEnd(hr, cur !== undefined ? hr.spec.steps[cur - 1] : undefined),
    steps: hr.spec.steps.map((step, i) => ({
      number: i + 1,
      kind: stepKind(step),
      description: describeStep(step),
      state: stepState(hr, i + 1),
    })),
    clusters: s?.clusters ?? [],
    gates: [...(s?.gates ?? [])].sort((a, b) => a.step - b.step).map((g) => gateView(hr, g)),
    conditions,
    problems: conditions.filter(notFine).sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type)),
    spec: {
      paused: hr.spec.paused ?? false,
      abort: hr.spec.abort ?? false,
      rollback: hr.spec.rollback ?? false,
      autoRollback: hr.spec.autoRollback ?? false,
      approvedStep: hr.spec.approved?.step,
    },
    phaseText: phaseText(hr),
    state: describeRelease(hr),
    outcome: releaseOutcome(hr),
    next: nextForRelease(hr),
  };
}
