import { describe, expect, it } from 'vitest';
import type { HotDeployment } from '../controller/api/types.ts';
import { ANNOTATIONS } from '../controller/constants.ts';
import { makeHd } from '../controller/fixtures.ts';
import type { JsonPatchOp } from '../controller/jsonPatch.ts';
import type { GateResult, HotRelease, ReleaseStep } from './api/types.ts';
import { answerValue, judge } from './gate.ts';
import { RELEASE_ANNOTATION, releaseMarkOf } from './memberWrites.ts';
import { planRelease, type MemberView, type ReleasePlan } from './plan.ts';

const V1 = 'reg/demo:v1';
const V2 = 'reg/demo:v2';
const T0 = Date.parse('2026-11-29T00:00:00Z');

function release(steps: ReleaseStep[], spec: Partial<HotRelease['spec']> = {}): HotRelease {
  return {
    apiVersion: 'hotupgrade.io/v1alpha1',
    kind: 'HotRelease',
    metadata: { name: 'r', namespace: 'ns', uid: 'rel-1', generation: 1 },
    spec: {
      target: { name: 'demo' },
      image: V2,
      clusters: { names: ['a', 'b'] },
      prometheus: { url: 'http://prom:9090' },
      steps,
      ...spec,
    },
  };
}

/** Applies the ops the hub writes (test, add, replace on plain paths) to a copy. */
function applyPatch(hd: HotDeployment, ops: JsonPatchOp[]): HotDeployment {
  const out = structuredClone(hd) as unknown as Record<string, unknown>;
  const seg = (p: string): string[] =>
    p
      .split('/')
      .slice(1)
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  for (const op of ops) {
    const path = seg(op.path);
    const last = path.pop() ?? '';
    let parent: Record<string, unknown> | undefined = out;
    for (const s of path) parent = parent?.[s] as Record<string, unknown> | undefined;
    if (op.op === 'test') {
      const actual = parent?.[last] ?? null;
      if (JSON.stringify(actual) !== JSON.stringify(op.value)) throw new Error(`test failed at ${op.path}`);
    } else if (parent) parent[last] = structuredClone(op.value);
  }
  (out.metadata as { generation: number }).generation++;
  return out as unknown as HotDeployment;
}

/** A member controller in one step: pods in range take the spec's image at once (all pods for a rollback record). */
function settle(hd: HotDeployment, pods: string[]): { hd: HotDeployment; pods: string[] } {
  const image = hd.spec.template.spec?.containers[0]?.image ?? '';
  const rollback = hd.metadata.annotations?.[ANNOTATIONS.rollback];
  const partition = rollback ? 0 : (hd.spec.updateStrategy?.partition ?? 0);
  const next = pods.map((p, i) => (i >= partition ? image : p));
  const out = structuredClone(hd);
  out.status = {
    observedGeneration: hd.metadata.generation ?? 0,
    replicas: next.length,
    readyReplicas: next.length,
    updatedReplicas: next.filter((p) => p === image).length,
    upgradingReplicas: 0,
    currentImage: pods[0] ?? image,
    updateImage: image,
  };
  return { hd: out, pods: next };
}

/** A hub over simulated members: plans, applies its writes and its status, lets members settle. */
class Sim {
  rel: HotRelease;
  now = T0;
  members = new Map<string, { hd: HotDeployment; pods: string[] }>();
  unreachable = new Set<string>();
  gate: (cluster: string) => number = () => 0;
  writes: { cluster: string; at: number; ops: JsonPatchOp[] }[] = [];
  events: string[] = [];

  constructor(rel: HotRelease, replicas = 4) {
    this.rel = rel;
    for (const c of ['a', 'b'])
      this.members.set(c, settle(makeHd({ name: 'demo', replicas, image: V1 }), Array(replicas).fill(V1)));
  }

  views(): MemberView[] {
    return ['a', 'b'].map((name) =>
      this.unreachable.has(name)
        ? { name, unreachable: 'connect ECONNREFUSED 127.0.0.1:6443' }
        : { name, hd: this.members.get(name)?.hd ?? null },
    );
  }

  step(): ReleasePlan {
    const input = { release: this.rel, members: this.views(), nowMs: this.now };
    let p = planRelease(input);
    if (p.gateQueries) {
      const gate = this.rel.spec.steps[(p.status.currentStep ?? 1) - 1]?.gate;
      const at = new Date(this.now).toISOString();
      const round: GateResult[] = p.gateQueries.map((q) =>
        judge(
          gate ?? { query: '', threshold: { op: '<', value: 0 } },
          q.cluster,
          { value: this.gate(q.cluster) },
          at,
        ),
      );
      p = planRelease({ ...input, gateRound: round });
    }
    for (const w of p.writes) {
      const m = this.members.get(w.cluster);
      if (!m) throw new Error(w.cluster);
      m.hd = applyPatch(m.hd, w.ops);
      this.writes.push({ cluster: w.cluster, at: this.now, ops: w.ops });
    }
    this.events.push(...p.events.map((e) => e.reason));
    this.rel = { ...this.rel, status: p.status };
    for (const [c, m] of this.members)
      if (!this.unreachable.has(c)) this.members.set(c, settle(m.hd, m.pods));
    this.now += 1000;
    return p;
  }

  /** Steps until the phase is one of `phases` (at most n reconciles). */
  until(phases: string[], n = 60): void {
    for (let i = 0; i < n; i++) {
      this.step();
      if (phases.includes(this.rel.status?.phase ?? '')) return;
    }
    throw new Error(
      `still ${this.rel.status?.phase} at step ${this.rel.status?.currentStep}: ${JSON.stringify(this.rel.status?.conditions)}`,
    );
  }

  pods(c: string): string[] {
    return this.members.get(c)?.pods ?? [];
  }

  cond(type: string): string {
    const c = this.rel.status?.conditions?.find((x) => x.type === type);
    return `${c?.status}/${c?.reason}`;
  }
}

const CANARY: ReleaseStep[] = [
  { upgrade: { clusters: ['a'], replicas: 1 } },
  { pause: { manual: true } },
  {
    gate: {
      query: 'err{cluster="$cluster"}',
      threshold: { op: '<', value: 0.01 },
      intervalSeconds: 5,
      samples: 2,
    },
  },
  { upgrade: { replicas: '50%' } },
  { upgrade: { replicas: '100%' } },
];

describe('planRelease: a release through canary, approval, gate, full rollout', () => {
  it('upgrades one pod in a only, waits for approval, passes the gate, then finishes both clusters', () => {
    const sim = new Sim(release(CANARY));
    sim.until(['Paused']);
    expect(sim.pods('a')).toEqual([V1, V1, V1, V2]);
    expect(sim.pods('b')).toEqual([V1, V1, V1, V1]);
    expect(sim.rel.status?.currentStep).toBe(2);
    expect(sim.cond('Paused')).toBe('True/AwaitingApproval');
    expect(sim.events).toContain('AwaitingApproval');
    const mark = releaseMarkOf(sim.members.get('a')?.hd as HotDeployment);
    expect(mark).toEqual({ release: 'ns/r', uid: 'rel-1', image: V2, previousImage: V1 });
    expect(sim.members.get('b')?.hd.metadata.annotations?.[RELEASE_ANNOTATION]).toBeUndefined();

    // Waiting changes nothing, however long.
    const writes = sim.writes.length;
    for (let i = 0; i < 5; i++) sim.step();
    expect(sim.writes.length).toBe(writes);
    expect(sim.events.filter((e) => e === 'AwaitingApproval')).toHaveLength(1);

    sim.rel = { ...sim.rel, spec: { ...sim.rel.spec, approved: { step: 3 } } };
    sim.until(['Succeeded']);
    expect(sim.pods('a')).toEqual(Array(4).fill(V2));
    expect(sim.pods('b')).toEqual(Array(4).fill(V2));
    const gate = sim.rel.status?.gates?.[0];
    expect(gate).toMatchObject({ step: 3, state: 'Passed', successes: 2, failures: 0 });
    expect(gate?.results?.map((r) => [r.cluster, r.value, r.passed])).toEqual([
      ['a', 0, true],
      ['b', 0, true],
    ]);
    expect(sim.events).toEqual(
      expect.arrayContaining(['StepStarted', 'StepCompleted', 'GatePassed', 'ReleaseSucceeded']),
    );
    expect(sim.cond('Progressing')).toBe('True/ReleaseComplete');
    expect(sim.rel.status?.clusters?.map((c) => [c.name, c.updated, c.target, c.version])).toEqual([
      ['a', 4, 4, 'v2'],
      ['b', 4, 4, 'v2'],
    ]);
  });

  it('asks for 50% of each cluster at step 4: partition = replicas - target', () => {
    const sim = new Sim(release(CANARY, { approved: { step: 3 } }));
    sim.until(['Progressing']);
    for (let i = 0; i < 40 && (sim.rel.status?.currentStep ?? 0) < 5; i++) {
      sim.step();
      if (sim.rel.status?.currentStep === 4) break;
    }
    expect(sim.rel.status?.currentStep).toBe(4);
    expect(sim.pods('b')).toEqual([V1, V1, V2, V2]);
    expect(sim.members.get('b')?.hd.spec.updateStrategy?.partition).toBe(2);
  });

  it('the gate evaluates once per interval, the first one interval after the step starts', () => {
    const sim = new Sim(release([CANARY[2] as ReleaseStep, { upgrade: { replicas: '100%' } }]));
    const p0 = sim.step();
    expect(p0.gateQueries).toBeUndefined();
    expect(p0.wakeAtMs).toBe(T0 + 5000);
    expect(p0.status.gates).toEqual([{ step: 1, state: 'Evaluating', failures: 0, successes: 0 }]);
    let rounds = 0;
    for (let i = 0; i < 12; i++)
      if (sim.step().status.gates?.[0]?.results) rounds = sim.rel.status?.gates?.[0]?.successes ?? rounds;
    expect(rounds).toBe(2);
  });
});

describe('planRelease: failures and rollback', () => {
  const GATED: ReleaseStep[] = [
    { upgrade: { clusters: ['a'], replicas: 2 } },
    { upgrade: { clusters: ['b'], replicas: 2 } },
    { gate: { query: 'err{cluster="$cluster"}', threshold: { op: '<', value: 0.01 }, intervalSeconds: 1 } },
    { upgrade: { replicas: '100%' } },
  ];

  it('a failed gate with autoRollback fails the release and rolls back b, then a (reverse of first touch)', () => {
    const sim = new Sim(release(GATED, { autoRollback: true }));
    sim.gate = (c) => (c === 'b' ? 0.5 : 0.001);
    sim.until(['Failed']);
    expect(sim.events).toEqual(expect.arrayContaining(['GateFailed', 'ReleaseFailed']));
    expect(sim.cond('Degraded')).toBe('True/GateFailed');
    expect(sim.rel.status?.gates?.[0]?.results?.find((r) => r.cluster === 'b')).toMatchObject({
      value: 0.5,
      passed: false,
    });
    sim.until(['RolledBack']);
    expect(sim.pods('a')).toEqual(Array(4).fill(V1));
    expect(sim.pods('b')).toEqual(Array(4).fill(V1));
    const back = sim.writes.filter((w) =>
      w.ops.some((o) => o.path.endsWith('image') && o.op === 'replace' && o.value === V1),
    );
    expect(back.map((w) => w.cluster)).toEqual(['b', 'a']);
    expect(back[0]?.at).toBeLessThan(back[1]?.at ?? 0);
    const record = JSON.parse(
      sim.members.get('a')?.hd.metadata.annotations?.[ANNOTATIONS.rollback] ?? '{}',
    ) as { to: string; generation: number };
    expect(record.to).toBe(V1);
    expect(record.generation).toBe(sim.members.get('a')?.hd.metadata.generation);
    expect(sim.cond('Degraded')).toBe('True/RolledBack');
    // Final: nothing more is written.
    const n = sim.writes.length;
    sim.step();
    sim.step();
    expect(sim.writes.length).toBe(n);
  });

  it('without autoRollback the release stops Failed; spec.rollback later rolls it back', () => {
    const sim = new Sim(release(GATED));
    sim.gate = () => 1;
    sim.until(['Failed']);
    for (let i = 0; i < 3; i++) sim.step();
    expect(sim.rel.status?.phase).toBe('Failed');
    expect(sim.pods('a')).toEqual([V1, V1, V2, V2]);
    expect(sim.cond('Progressing')).toBe('False/GateFailed');
    sim.rel = { ...sim.rel, spec: { ...sim.rel.spec, rollback: true } };
    sim.until(['RolledBack']);
    expect(sim.pods('b')).toEqual(Array(4).fill(V1));
  });

  it('a member rollout that turns Degraded fails the release', () => {
    const sim = new Sim(release(GATED));
    sim.step();
    const m = sim.members.get('a');
    if (!m?.hd.status) throw new Error('no status');
    m.hd.status.conditions = [
      {
        type: 'Degraded',
        status: 'True',
        reason: 'HandoverFailed',
        message: 'pod demo-3: crashed',
        lastTransitionTime: '',
      },
    ];
    sim.unreachable.add('a'); // keep the simulated member from overwriting the condition
    sim.unreachable.delete('a');
    const p = planRelease({
      release: sim.rel,
      members: [
        { name: 'a', hd: m.hd },
        { name: 'b', hd: sim.members.get('b')?.hd ?? null },
      ],
      nowMs: sim.now,
    });
    expect(p.status.phase).toBe('Failed');
    expect(p.status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      reason: 'MemberDegraded',
      message: 'cluster a: hotdeployment ns/demo is Degraded (HandoverFailed): pod demo-3: crashed',
    });
  });

  it('an upgrade step without progress past progressDeadlineSeconds fails the release', () => {
    const sim = new Sim(release(GATED, { progressDeadlineSeconds: 5 }));
    sim.step();
    // a stops moving: its controller never settles.
    sim.unreachable.add('a');
    const hd = sim.members.get('a')?.hd as HotDeployment;
    sim.unreachable.delete('a');
    let p: ReleasePlan | undefined;
    for (let i = 0; i < 10; i++) {
      p = planRelease({
        release: sim.rel,
        members: [
          { name: 'a', hd },
          { name: 'b', hd: sim.members.get('b')?.hd ?? null },
        ],
        nowMs: sim.now,
      });
      sim.rel = { ...sim.rel, status: p.status };
      sim.now += 1000;
      if (p.status.phase === 'Failed') break;
    }
    expect(p?.status.phase).toBe('Failed');
    expect(p?.status.conditions?.find((c) => c.type === 'Degraded')?.reason).toBe('ProgressDeadlineExceeded');
  });
});

describe('planRelease: held releases', () => {
  it('an unreachable member pauses the release with a condition naming it; it resumes by itself', () => {
    const sim = new Sim(release([{ upgrade: { replicas: 1 } }, { upgrade: { replicas: '100%' } }]));
    sim.unreachable.add('b');
    sim.step();
    expect(sim.rel.status?.phase).toBe('Paused');
    expect(sim.cond('Reachable')).toBe('False/ClustersUnreachable');
    expect(sim.rel.status?.conditions?.find((c) => c.type === 'Paused')?.message).toContain(
      'cluster b: connect ECONNREFUSED 127.0.0.1:6443',
    );
    expect(sim.rel.status?.clusters?.find((c) => c.name === 'b')).toMatchObject({ reachable: false });
    expect(sim.events).toEqual(['ClusterUnreachable']);
    expect(sim.writes).toEqual([]);
    sim.step();
    expect(sim.events).toEqual(['ClusterUnreachable']);
    sim.unreachable.delete('b');
    sim.until(['Succeeded']);
    expect(sim.cond('Reachable')).toBe('True/ProbeSucceeded');
  });

  it('spec.paused holds the next step; false resumes', () => {
    const sim = new Sim(
      release([{ upgrade: { replicas: 1 } }, { upgrade: { replicas: '100%' } }], { paused: true }),
    );
    sim.step();
    expect(sim.rel.status?.phase).toBe('Paused');
    expect(sim.cond('Paused')).toBe('True/PausedBySpec');
    expect(sim.writes).toEqual([]);
    sim.rel = { ...sim.rel, spec: { ...sim.rel.spec, paused: false } };
    sim.until(['Succeeded']);
  });

  it('a missing target HotDeployment holds the release with TargetNotFound naming the cluster', () => {
    const rel = release([{ upgrade: { replicas: '100%' } }]);
    const p = planRelease({
      release: rel,
      members: [
        { name: 'a', hd: null },
        { name: 'b', hd: makeHd({ name: 'demo' }) },
      ],
      nowMs: T0,
    });
    expect(p.status.phase).toBe('Paused');
    expect(p.writes).toEqual([]);
    expect(p.status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({
      reason: 'TargetNotFound',
      message:
        'cluster a: no hotdeployment ns/demo; create it there, or leave the cluster out of spec.clusters',
    });
  });

  it('a HotDeployment another running release drives holds the release (InvalidSpec)', () => {
    const rel = release([{ upgrade: { replicas: '100%' } }]);
    const hd = makeHd({ name: 'demo' });
    const p = planRelease({
      release: rel,
      members: [
        { name: 'a', hd, busyWith: 'ns/other' },
        { name: 'b', hd },
      ],
      nowMs: T0,
    });
    expect(p.status.phase).toBe('Paused');
    expect(p.status.conditions?.find((c) => c.type === 'Degraded')?.message).toContain(
      'being released by hotrelease ns/other',
    );
  });

  it('a step naming a cluster the selector does not select holds the release', () => {
    const rel = release([{ upgrade: { clusters: ['c'], replicas: 1 } }, { upgrade: { replicas: '100%' } }], {
      clusters: { selector: { matchLabels: { env: 'prod' } } },
    });
    const p = planRelease({
      release: rel,
      members: [{ name: 'a', hd: makeHd({ name: 'demo' }) }],
      nowMs: T0,
    });
    expect(p.status.conditions?.find((c) => c.type === 'Degraded')).toMatchObject({ reason: 'InvalidSpec' });
    expect(p.status.conditions?.find((c) => c.type === 'Degraded')?.message).toContain(
      'spec.steps[0].upgrade.clusters names c',
    );
  });
});

describe('planRelease: abort and restarts', () => {
  it('abort raises the partition so no more pods start, and ends Aborted', () => {
    const sim = new Sim(
      release([{ upgrade: { replicas: 2 } }, { pause: { manual: true } }, { upgrade: { replicas: '100%' } }]),
    );
    sim.until(['Paused']);
    sim.rel = { ...sim.rel, spec: { ...sim.rel.spec, abort: true } };
    const p = sim.step();
    expect(p.status.phase).toBe('Aborted');
    expect(sim.events).toContain('Aborted');
    // Partition already 2 (2 of 4 upgraded): nothing to raise.
    expect(p.writes).toEqual([]);
    expect(sim.pods('a')).toEqual([V1, V1, V2, V2]);
  });

  it('planning again from the same objects writes nothing new and repeats no event (a restarted hub)', () => {
    const sim = new Sim(release(CANARY));
    sim.step();
    sim.step();
    const again = planRelease({ release: sim.rel, members: sim.views(), nowMs: sim.now });
    const twice = planRelease({
      release: { ...sim.rel, status: again.status },
      members: sim.views(),
      nowMs: sim.now,
    });
    expect(twice.writes).toEqual([]);
    expect(twice.events).toEqual([]);
    expect(twice.status.currentStep).toBe(again.status.currentStep);
  });
});

describe('gate answers', () => {
  it.each([
    [
      { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [1, '0.002'] }] } },
      { value: 0.002 },
    ],
    [{ status: 'success', data: { resultType: 'scalar', result: [1, '3'] } }, { value: 3 }],
    [
      { status: 'success', data: { resultType: 'vector', result: [] } },
      { message: 'no data: the query returned no series (add "or vector(0)" if none means 0)' },
    ],
    [
      {
        status: 'success',
        data: { resultType: 'vector', result: [{ value: [1, '1'] }, { value: [1, '2'] }] },
      },
      { message: '2 series: the query must return one number (aggregate it, e.g. sum(...))' },
    ],
    [
      { status: 'success', data: { resultType: 'scalar', result: [1, 'NaN'] } },
      { message: 'the value is NaN, not a number' },
    ],
    [{ status: 'error', error: 'parse error at char 3' }, { message: 'Prometheus: parse error at char 3' }],
  ])('%j -> %j', (body, want) => {
    expect(answerValue(body)).toEqual(want);
  });

  it('judges against the threshold and says why a result failed', () => {
    const gate = { query: 'q', threshold: { op: '<=' as const, value: 0.01 } };
    expect(judge(gate, 'a', { value: 0.01 }, 't')).toEqual({
      cluster: 'a',
      value: 0.01,
      passed: true,
      at: 't',
    });
    expect(judge(gate, 'a', { value: 0.5 }, 't')).toEqual({
      cluster: 'a',
      value: 0.5,
      passed: false,
      at: 't',
      message: '0.5 <= 0.01 does not hold',
    });
  });
});
