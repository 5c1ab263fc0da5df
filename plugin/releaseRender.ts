// A ReleaseSummary as the lines `status hr/NAME` prints: the image and target, the phase,
// every step with a mark, each cluster with a progress bar, the gates' last results, the
// conditions that are not fine, and the next command. Pure (the clock comes in as nowMs).
import type { ClusterProgress, GateResult, HotRelease } from '../hub/api/types.ts';
import { age, progressBar, table } from './render.ts';
import { summarizeRelease, type GateView, type ReleaseSummary, type StepState } from './releaseSummary.ts';
import { describeStep, seconds, shorten } from './steps.ts';

export const STEP_MARKS: Record<StepState, string> = { done: '✓', current: '▶', stopped: '✗', pending: '·' };

/** Longest query shown in a gate result. */
const QUERY_CHARS = 60;

const label = (s: string): string => (s ? `${s}:` : '').padEnd(12);

/** 0.0021234 -> "0.002123": four significant digits, no exponent for everyday sizes. */
export function formatValue(v: number): string {
  return String(Number(v.toPrecision(4)));
}

function clusterRow(c: ClusterProgress): string[] {
  const replicas = c.replicas ?? 0;
  const state =
    c.reachable === false
      ? `unreachable${c.message ? `: ${c.message}` : ''}`
      : c.message
        ? c.message
        : c.reachable
          ? 'reachable'
          : '';
  return [
    c.name,
    progressBar(c.updated ?? 0, replicas),
    c.target !== undefined ? String(c.target) : '-',
    `${c.ready ?? 0}/${replicas}`,
    c.version ?? '-',
    state,
  ];
}

/** `error_ratio{cluster="a"} = 0.002 < 0.01 ✓`, with $cluster in the query replaced. */
export function gateResultLine(g: GateView, r: GateResult): string {
  const query = shorten(g.query.replaceAll('$cluster', r.cluster), QUERY_CHARS);
  const bound = g.op !== undefined ? `${g.op} ${g.threshold ?? ''}` : '';
  const mark = r.passed ? '✓' : '✗';
  if (r.value === undefined) return `${query}: no value${r.message ? ` (${r.message})` : ''} ${mark}`;
  return `${query} = ${formatValue(r.value)} ${bound} ${mark}`;
}

function gateLines(g: GateView, total: number): string[] {
  const head = `  step ${g.step}/${total} ${g.state}: ${g.successes}/${g.samples} passed in a row, ${g.failures}/${g.failureLimit} failed, every ${seconds(g.intervalSeconds)}`;
  return [
    head,
    ...table(
      g.results.map((r) => [r.cluster, gateResultLine(g, r)]),
      '    ',
    ),
  ];
}

function when(iso: string | undefined, nowMs: number): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  return t >= nowMs ? `${iso} (in ${age(t - nowMs)})` : `${iso} (${age(nowMs - t)} ago)`;
}

export function renderRelease(s: ReleaseSummary, nowMs: number): string[] {
  const out: string[] = [];
  out.push(`hotrelease/${s.name} in namespace ${s.namespace}`);
  out.push(`${label('Image')}${s.image} (version ${s.version})`);
  out.push(`${label('Target')}hotdeployment/${s.target.name} in namespace ${s.target.namespace}`);
  out.push(`${label('Clusters')}${s.clusterSelection}`);

  if (s.phase === undefined) {
    out.push(`${label('Status')}none yet: the hub controller has not seen this HotRelease (is it running?)`);
  } else if (s.observedGeneration !== undefined && s.observedGeneration < s.generation) {
    out.push(
      `${label('Status')}of generation ${s.observedGeneration}; the spec is at ${s.generation} (the hub controller is catching up)`,
    );
  }
  const held = [
    ...(s.spec.paused ? ['spec.paused'] : []),
    ...(s.spec.abort ? ['spec.abort'] : []),
    ...(s.spec.rollback ? ['spec.rollback'] : []),
  ];
  out.push(`${label('Phase')}${s.phaseText}${held.length ? ` (${held.join(', ')})` : ''}`);
  if (s.startedAt) out.push(`${label('Started')}${when(s.startedAt, nowMs)}`);
  if (s.completedAt) out.push(`${label('Completed')}${when(s.completedAt, nowMs)}`);

  const current = s.steps.find((x) => x.number === s.currentStep);
  if (current) {
    const ends = s.pauseEndsAt ? `; the next step starts at ${when(s.pauseEndsAt, nowMs)}` : '';
    out.push(`${label('Step')}${current.number}/${s.totalSteps} ${current.description}${ends}`);
  }
  out.push('Steps:');
  for (const st of s.steps) out.push(`  ${STEP_MARKS[st.state]} ${st.number}  ${st.description}`);

  if (s.clusters.length > 0) {
    out.push('Clusters:');
    out.push(
      ...table([
        ['CLUSTER', `PODS AT ${s.version}`, 'TARGET', 'READY', 'ASKS FOR', 'STATE'],
        ...s.clusters.map(clusterRow),
      ]),
    );
  }
  if (s.gates.length > 0) {
    out.push('Gates:');
    for (const g of s.gates) out.push(...gateLines(g, s.totalSteps));
  }
  if (s.problems.length > 0) {
    out.push('Conditions:');
    out.push(...table(s.problems.map((c) => [c.type, c.status, c.reason, c.message])));
  }
  if (s.next) out.push(`${label('Next')}${s.next}`);
  return out;
}

/** What `release` prints once the API server created (or, with --dry-run, accepted) a HotRelease. */
export function renderCreated(hr: HotRelease, dryRun: boolean): string[] {
  const s = summarizeRelease(hr);
  const ref = `hr/${s.name} -n ${s.namespace}`;
  const done = dryRun ? 'checked (dry run: the API server accepted it; nothing was saved)' : 'created';
  const extras = [
    ...(hr.spec.autoRollback ? ['rolls back by itself on a failure (autoRollback)'] : []),
    ...(hr.spec.progressDeadlineSeconds !== undefined
      ? [`an upgrade step may make no progress for ${seconds(hr.spec.progressDeadlineSeconds)}`]
      : []),
    ...(hr.spec.prometheus ? [`gates ask ${hr.spec.prometheus.url} unless a cluster names its own`] : []),
  ];
  return [
    `hotrelease/${s.name} ${done} in namespace ${s.namespace}: ${s.image} to hotdeployment/${s.target.name} (namespace ${s.target.namespace}) in ${hr.spec.clusters.names ? 'clusters ' : s.clusterSelection.startsWith('selected') ? 'the clusters ' : ''}${s.clusterSelection}`,
    ...(extras.length ? [`${extras.join('; ')}.`] : []),
    `Steps:`,
    ...hr.spec.steps.map((st, i) => `  ${i + 1}  ${describeStep(st)}`),
    dryRun ? `Create it without --dry-run.` : `Follow it with: kubectl hotupgrade status ${ref} -w`,
  ];
}
