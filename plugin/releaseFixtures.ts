// Builders for the plugin's HotRelease unit tests: a release with the status the hub
// controller writes at a given point (docs/crd-reference.md, the hub's contract). Only
// tests import this file.
import type {
  ClusterProgress,
  Condition,
  GateStatus,
  HotRelease,
  HotReleaseSpec,
  ReleaseStep,
} from '../hub/api/types.ts';
import type { ReleasePhase } from '../hub/constants.ts';
import { cond } from './fixtures.ts';

export const IMAGE = 'registry.example.com/web:v2';
export const OLD = 'registry.example.com/web:v1';
export const QUERY = 'error_ratio{cluster="$cluster"}';

/** 1 pod in a, a gate in a, a manual pause, 50%, 100%: five steps. */
export const PLAN: ReleaseStep[] = [
  { upgrade: { clusters: ['a'], replicas: 1 } },
  {
    gate: {
      clusters: ['a'],
      query: QUERY,
      threshold: { op: '<', value: 0.01 },
      intervalSeconds: 30,
      samples: 3,
      failureLimit: 2,
    },
  },
  { pause: { manual: true } },
  { upgrade: { replicas: '50%' } },
  { upgrade: { replicas: '100%' } },
];

/** The four conditions of a release; override each by its reason ("Type/Reason" shape). */
export function releaseConditions(
  o: { progressing?: string; paused?: string; degraded?: string; unreachable?: string } = {},
): Condition[] {
  const progressing = o.progressing ?? 'Upgrading';
  return [
    cond(
      'Progressing',
      progressing === 'ProgressDeadlineExceeded' ? 'False' : 'True',
      progressing,
      `progressing: ${progressing}`,
    ),
    cond(
      'Paused',
      o.paused ? 'True' : 'False',
      o.paused ?? 'NotPaused',
      o.paused ? `paused: ${o.paused}` : 'not paused',
    ),
    cond(
      'Degraded',
      o.degraded ? 'True' : 'False',
      o.degraded ?? 'Healthy',
      o.degraded ? `degraded: ${o.degraded}` : 'no failure',
    ),
    cond(
      'Reachable',
      o.unreachable ? 'False' : 'True',
      o.unreachable ? 'ClustersUnreachable' : 'ProbeSucceeded',
      o.unreachable ?? 'every cluster answered',
    ),
  ];
}

export const member = (name: string, o: Partial<ClusterProgress> = {}): ClusterProgress => ({
  name,
  replicas: 4,
  updated: 0,
  ready: 4,
  target: 0,
  image: OLD,
  version: 'v1',
  reachable: true,
  ...o,
});

export interface ReleaseOptions {
  phase?: ReleasePhase;
  step?: number;
  conditions?: Condition[];
  clusters?: ClusterProgress[];
  gates?: GateStatus[];
  spec?: Partial<HotReleaseSpec>;
  generation?: number;
  /** observedGeneration (default: the generation). */
  observed?: number;
  startedAt?: string;
  stepStartedAt?: string;
  /** No status at all (the hub has not seen the release). */
  noStatus?: boolean;
}

/**
 * `web-v2` in namespace `apps`, to clusters a and b, awaiting approval at step 3 (the
 * manual pause) after the canary in a, unless told otherwise.
 */
export function makeRelease(o: ReleaseOptions = {}): HotRelease {
  const generation = o.generation ?? 1;
  const hr: HotRelease = {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotRelease',
    metadata: { name: 'web-v2', namespace: 'apps', generation, resourceVersion: '42' },
    spec: {
      target: { name: 'web' },
      image: IMAGE,
      clusters: { names: ['a', 'b'] },
      steps: PLAN,
      ...o.spec,
    },
  };
  if (o.noStatus) return hr;
  hr.status = {
    observedGeneration: o.observed ?? generation,
    phase: o.phase ?? 'Paused',
    currentStep: o.step ?? 3,
    startedAt: o.startedAt ?? '2026-01-01T00:00:00Z',
    stepStartedAt: o.stepStartedAt ?? '2026-01-01T00:05:00Z',
    clusters: o.clusters ?? [
      member('a', { updated: 1, target: 1, image: IMAGE, version: 'v2', previousImage: OLD }),
      member('b'),
    ],
    gates: o.gates ?? [
      {
        step: 2,
        state: 'Passed',
        successes: 3,
        failures: 0,
        results: [{ cluster: 'a', value: 0.002, passed: true, at: '2026-01-01T00:04:30Z' }],
      },
    ],
    conditions: o.conditions ?? releaseConditions({ paused: 'AwaitingApproval' }),
  };
  return hr;
}

/** The same release at a later phase: final phases carry their Degraded reason. */
export function finalRelease(phase: ReleasePhase, o: ReleaseOptions = {}): HotRelease {
  const conditions: Record<string, Condition[]> = {
    Succeeded: releaseConditions({ progressing: 'ReleaseComplete' }),
    Failed: releaseConditions({ progressing: 'Upgrading', degraded: 'GateFailed' }),
    RolledBack: releaseConditions({ progressing: 'ReleaseComplete', degraded: 'RolledBack' }),
    Aborted: releaseConditions({ degraded: 'Aborted' }),
  };
  const hr = makeRelease({
    phase,
    step: phase === 'Succeeded' ? 5 : 2,
    conditions: conditions[phase] ?? [],
    ...o,
  });
  if (hr.status) hr.status.completedAt = '2026-01-01T01:00:00Z';
  return hr;
}
