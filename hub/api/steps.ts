// The steps of a HotRelease: upgrade a batch, pause, or wait at a Prometheus gate; and
// the CEL rules over the whole list (cumulative replicas, an upgrade to "100%").
import {
  bool,
  int,
  intOrPercent,
  list,
  num,
  obj,
  rule,
  str,
  type JSONSchema,
} from '../../controller/api/schema.ts';
import { CLUSTER_VARIABLE, THRESHOLD_OPS } from '../constants.ts';
import { clusterNames, MAX_STEP_CLUSTERS, MAX_STEPS, prometheus } from './common.ts';

const EVERY_RELEASE_CLUSTER = 'leave out clusters for every cluster of the release';

const upgradeStep = (): JSONSchema =>
  obj(
    "Upgrade a batch: in each of clusters, the target's hot image becomes spec.image on replicas pods (cumulative).",
    {
      clusters: clusterNames(
        `The clusters this step upgrades (MemberCluster names, at most ${MAX_STEP_CLUSTERS}); every cluster of the release when absent. With spec.clusters.names, each must be one of them.`,
        'spec.steps[].upgrade.clusters',
        EVERY_RELEASE_CLUSTER,
        MAX_STEP_CLUSTERS,
      ),
      replicas: intOrPercent(
        'Cumulative, per cluster: how many of the target\'s pods run spec.image once the step is done, a number of pods >= 1 or a percent of the target\'s spec.replicas in that cluster ("1%" to "100%", rounded up). A later step must not ask for fewer in a cluster than an earlier one.',
        'spec.steps[].upgrade.replicas',
        { min: 1, example: '1 or "50%"', of: 'the replicas of the target in the cluster' },
      ),
    },
    { required: ['replicas'] },
  );

const pauseStep = (): JSONSchema =>
  obj(
    'Wait before the next step. Set exactly one of seconds or manual.',
    {
      seconds: int('A timed pause, in seconds (1 to 86400).', { minimum: 1, maximum: 86400 }),
      manual: bool('true: wait until spec.approved.step reaches the next step.'),
    },
    {
      'x-kubernetes-validations': [
        rule(
          'has(self.seconds) != (has(self.manual) && self.manual)',
          'spec.steps[].pause: set either seconds (a timed pause) or manual: true (wait for spec.approved), not both and not neither',
        ),
      ],
    },
  );

const gateStep = (): JSONSchema =>
  obj(
    `Wait until a Prometheus query says the new version is healthy. Every intervalSeconds the query is evaluated for each of clusters (${CLUSTER_VARIABLE} in it stands for the cluster's name); a round passes when every result satisfies the threshold. samples passed rounds in a row pass the gate; failureLimit failed rounds fail it, and the release (rolled back with spec.autoRollback). A query that returns no single number fails its round.`,
    {
      query: str(
        `A PromQL instant query that returns one number (a scalar or a one-series vector), e.g. (sum(rate(http_requests_total{cluster="${CLUSTER_VARIABLE}",code=~"5.."}[1m])) or vector(0)) / sum(rate(http_requests_total{cluster="${CLUSTER_VARIABLE}"}[1m])). ${CLUSTER_VARIABLE} is replaced by the member cluster's name. No data fails: add "or vector(0)" where none means none.`,
        { minLength: 1, maxLength: 4096 },
      ),
      threshold: obj(
        'When a result passes: value <op> threshold.value.',
        {
          op: str('The comparison: <, <=, > or >=.', { enum: [...THRESHOLD_OPS] }),
          value: num('The bound, in the unit of the query result (e.g. 0.01 for an error ratio of 1%).'),
        },
        { required: ['op', 'value'] },
      ),
      intervalSeconds: int('Seconds between evaluations (1 to 3600). Default 60.', {
        minimum: 1,
        maximum: 3600,
        default: 60,
      }),
      failureLimit: int('Failed rounds (in total) that fail the gate (1 to 100). Default 1.', {
        minimum: 1,
        maximum: 100,
        default: 1,
      }),
      samples: int('Passed rounds in a row that pass the gate (1 to 100). Default 1.', {
        minimum: 1,
        maximum: 100,
        default: 1,
      }),
      clusters: clusterNames(
        `The clusters the query is evaluated for (MemberCluster names, at most ${MAX_STEP_CLUSTERS}); every cluster of the release when absent. With spec.clusters.names, each must be one of them.`,
        'spec.steps[].gate.clusters',
        EVERY_RELEASE_CLUSTER,
        MAX_STEP_CLUSTERS,
      ),
      prometheus: prometheus(
        "The Prometheus to ask for every cluster. Absent: each member's spec.prometheus, else the release's spec.prometheus.",
        'spec.steps[].gate.prometheus',
      ),
    },
    { required: ['query', 'threshold'] },
  );

/**
 * CEL over the steps: for two upgrade steps that share a cluster (absent clusters: all),
 * the later one asks for no fewer pods, counts against counts and percents against
 * percents. A count and a percent are not compared: the percent resolves against each
 * cluster's replicas.
 */
const cumulativeCel =
  'self.all(i, a, !has(a.upgrade) || self.all(j, b, j <= i || !has(b.upgrade) || ' +
  '(has(a.upgrade.clusters) && has(b.upgrade.clusters) && !a.upgrade.clusters.exists(c, c in b.upgrade.clusters)) || ' +
  '(type(a.upgrade.replicas) == int && type(b.upgrade.replicas) == int ? int(a.upgrade.replicas) <= int(b.upgrade.replicas) : ' +
  "type(a.upgrade.replicas) == string && type(b.upgrade.replicas) == string ? int(string(a.upgrade.replicas).replace('%', '')) <= int(string(b.upgrade.replicas).replace('%', '')) : true)))";

/** HotRelease.spec.steps. */
export const steps = (): JSONSchema =>
  list(
    `The plan, in order (1 to ${MAX_STEPS} steps). Each step is exactly one of upgrade, pause and gate. A step starts when the one before is done; one upgrade step must take every cluster to "100%".`,
    obj(
      'One step of the release: exactly one of upgrade, pause and gate.',
      { upgrade: upgradeStep(), pause: pauseStep(), gate: gateStep() },
      {
        'x-kubernetes-validations': [
          rule(
            '(has(self.upgrade) ? 1 : 0) + (has(self.pause) ? 1 : 0) + (has(self.gate) ? 1 : 0) == 1',
            'spec.steps[]: set exactly one of upgrade, pause and gate in each step (make two steps of one)',
          ),
        ],
      },
    ),
    {
      minItems: 1,
      maxItems: MAX_STEPS,
      'x-kubernetes-validations': [
        rule(
          cumulativeCel,
          'spec.steps: upgrade replicas are cumulative per cluster (pods at spec.image once the step is done), so a later step must not ask for fewer pods in a cluster than an earlier one: counts must not decrease, nor percents, e.g. 1, "50%", "100%"',
        ),
        rule(
          "self.exists(s, has(s.upgrade) && !has(s.upgrade.clusters) && type(s.upgrade.replicas) == string && string(s.upgrade.replicas) == '100%')",
          'spec.steps: no step takes every cluster to "100%"; end the upgrades with a step upgrade: {replicas: "100%"} without clusters, so that the release leaves every pod at spec.image',
        ),
      ],
    },
  );
