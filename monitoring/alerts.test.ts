import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpYaml } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ALERTS, RUNBOOK_BASE, alertExpr, runbookAnchor, type Alert } from './alerts.ts';
import { RULES_FILE } from './paths.ts';
import { promtool, promtoolMissing } from './promtool.ts';

const skip = promtoolMissing();
const tmp = mkdtempSync(join(tmpdir(), 'hotupgrade-alerts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An input series in promtool's notation: `0 0 1 1`, `0+1x30` (start+step x count), `1x10`. */
interface Series {
  series: string;
  values: string;
}

interface Case {
  title: string;
  alert: string;
  series: Series[];
  /** Evaluation time, minutes after the first sample (series are 1 minute apart). */
  at: number;
  /** Labels of each alert expected to fire at `at` (besides alertname); [] for none. */
  fires: Record<string, string>[];
}

const byName = (name: string): Alert => {
  const a = ALERTS.find((x) => x.name === name);
  if (!a) throw new Error(`no alert ${name}`);
  return a;
};

/** What Prometheus makes of `{{ $labels.x }}` in an annotation. */
const expand = (template: string, labels: Record<string, string>): string =>
  template.replace(/\{\{ \$labels\.(\w+) \}\}/g, (_m, k: string) => labels[k] ?? '');

const CART = 'namespace="shop", name="cart"';
const PROGRESSING_FALSE = `hotupgrade_rollout_condition{${CART}, type="Progressing", status="False"}`;
const PROGRESSING_TRUE = `hotupgrade_rollout_condition{${CART}, type="Progressing", status="True"}`;
const LEADER = (pod: string): string =>
  `leader_election_master_status{name="hotupgrade-controller", namespace="hotupgrade-system", pod="${pod}"}`;
const ERRORS = (controller: string): string =>
  `controller_runtime_reconcile_errors_total{controller="${controller}", namespace="hotupgrade-system", pod="ctrl-0"}`;

const PHASE = (phase: string): string =>
  `hotupgrade_release_phase{namespace="shop", hotrelease="cart-v2", phase="${phase}", pod="hub-0"}`;
const REACHABLE = (cluster: string): string =>
  `hotupgrade_member_cluster_reachable{cluster="${cluster}", namespace="hotupgrade-system", pod="hub-0"}`;
const HUB_LEADER = (pod: string): string =>
  `leader_election_master_status{name="hotupgrade-hub", namespace="hotupgrade-system", pod="${pod}"}`;

const CASES: Case[] = [
  {
    title: 'fires 1 minute after Progressing turns False (ProgressDeadlineExceeded)',
    alert: 'HotDeploymentRolloutStuck',
    series: [{ series: PROGRESSING_FALSE, values: '0 0 1 1 1 1' }],
    at: 4,
    fires: [{ namespace: 'shop', name: 'cart', severity: 'warning' }],
  },
  {
    title: 'stays pending in its first minute past the deadline',
    alert: 'HotDeploymentRolloutStuck',
    series: [{ series: PROGRESSING_FALSE, values: '0 0 0 0 1 1' }],
    at: 4,
    fires: [],
  },
  {
    title: 'does not fire while the rollout progresses',
    alert: 'HotDeploymentRolloutStuck',
    series: [
      { series: PROGRESSING_FALSE, values: '0x20' },
      { series: PROGRESSING_TRUE, values: '1x20' },
    ],
    at: 20,
    fires: [],
  },
  {
    title: 'fires at once when the controller counts a failed handover',
    alert: 'HotDeploymentHandoverFailed',
    series: [
      {
        series: `hotupgrade_handovers_total{${CART}, result="failed", reason="Crashed"}`,
        values: '0 0 1 1',
      },
    ],
    at: 3,
    fires: [{ namespace: 'shop', name: 'cart', severity: 'warning' }],
  },
  {
    title: "does not fire on successes, nor on the sidecars' own failure counter",
    alert: 'HotDeploymentHandoverFailed',
    series: [
      { series: `hotupgrade_handovers_total{${CART}, result="succeeded", reason="none"}`, values: '0+1x20' },
      {
        series: `hotupgrade_handovers_total{namespace="shop", pod="cart-0", hotdeployment="cart", result="failed"}`,
        values: '0+1x20',
      },
    ],
    at: 20,
    fires: [],
  },
  {
    title: 'resolves 10 minutes after the last failure',
    alert: 'HotDeploymentHandoverFailed',
    series: [
      {
        series: `hotupgrade_handovers_total{${CART}, result="failed", reason="ImagePullFailed"}`,
        values: '0 1x30',
      },
    ],
    at: 20,
    fires: [],
  },
  {
    title: 'fires when the controller rolled a HotDeployment back',
    alert: 'HotDeploymentRolledBack',
    series: [{ series: `hotupgrade_rollbacks_total{${CART}}`, values: '0 0 1 1' }],
    at: 3,
    fires: [{ namespace: 'shop', name: 'cart', severity: 'warning' }],
  },
  {
    title: 'does not fire without a rollback',
    alert: 'HotDeploymentRolledBack',
    series: [{ series: `hotupgrade_rollbacks_total{${CART}}`, values: '0x20' }],
    at: 20,
    fires: [],
  },
  {
    title: 'fires 2 minutes after the last leader is gone',
    alert: 'HotUpgradeControllerNoLeader',
    series: [
      { series: LEADER('ctrl-0'), values: '1 1 0 0 0 0 0' },
      { series: LEADER('ctrl-1'), values: '0 0 0 0 0 0 0' },
    ],
    at: 5,
    fires: [{ severity: 'critical' }],
  },
  {
    title: 'fires when no controller is scraped at all (another Lease does not count)',
    alert: 'HotUpgradeControllerNoLeader',
    series: [{ series: 'leader_election_master_status{name="other-operator"}', values: '1x10' }],
    at: 5,
    fires: [{ severity: 'critical' }],
  },
  {
    title: 'does not fire across a failover',
    alert: 'HotUpgradeControllerNoLeader',
    series: [
      { series: LEADER('ctrl-0'), values: '1 1 0 0 0 0 0 0' },
      { series: LEADER('ctrl-1'), values: '0 0 0 1 1 1 1 1' },
    ],
    at: 7,
    fires: [],
  },
  {
    title: 'fires after 15 minutes of reconcile errors',
    alert: 'HotUpgradeControllerReconcileErrors',
    series: [{ series: ERRORS('hotdeployment'), values: '0+1x30' }],
    at: 20,
    fires: [{ namespace: 'hotupgrade-system', severity: 'warning' }],
  },
  {
    title: 'does not fire on one error',
    alert: 'HotUpgradeControllerReconcileErrors',
    series: [{ series: ERRORS('hotdeployment'), values: '0 1x30' }],
    at: 20,
    fires: [],
  },
  {
    title: "does not fire on another controller's errors",
    alert: 'HotUpgradeControllerReconcileErrors',
    series: [{ series: ERRORS('other'), values: '0+1x30' }],
    at: 20,
    fires: [],
  },
  {
    title: 'fires when a release turns Failed',
    alert: 'HotReleaseFailed',
    series: [
      { series: PHASE('Progressing'), values: '1 1 0 0' },
      { series: PHASE('Failed'), values: '0 0 1 1' },
    ],
    at: 3,
    fires: [{ namespace: 'shop', hotrelease: 'cart-v2', severity: 'warning' }],
  },
  {
    title: 'fires when a release was rolled back',
    alert: 'HotReleaseFailed',
    series: [{ series: PHASE('RolledBack'), values: '0 1 1' }],
    at: 2,
    fires: [{ namespace: 'shop', hotrelease: 'cart-v2', severity: 'warning' }],
  },
  {
    title: 'does not fire on a release that succeeded',
    alert: 'HotReleaseFailed',
    series: [
      { series: PHASE('Succeeded'), values: '0 1 1' },
      { series: PHASE('Failed'), values: '0 0 0' },
      { series: PHASE('RolledBack'), values: '0 0 0' },
    ],
    at: 2,
    fires: [],
  },
  {
    title: 'fires after 5 minutes without an answer from a member',
    alert: 'HotUpgradeMemberClusterUnreachable',
    series: [
      { series: REACHABLE('eu-west'), values: '1 0 0 0 0 0 0 0' },
      { series: REACHABLE('us-east'), values: '1x8' },
    ],
    at: 7,
    fires: [{ cluster: 'eu-west', severity: 'warning' }],
  },
  {
    title: 'does not fire on a short blip',
    alert: 'HotUpgradeMemberClusterUnreachable',
    series: [{ series: REACHABLE('eu-west'), values: '1 0 0 1 1 1 1 1' }],
    at: 7,
    fires: [],
  },
  {
    title: 'fires 2 minutes after the last hub leader is gone',
    alert: 'HotUpgradeHubNoLeader',
    series: [
      { series: HUB_LEADER('hub-0'), values: '1 1 0 0 0 0 0' },
      { series: HUB_LEADER('hub-1'), values: '0 0 0 0 0 0 0' },
    ],
    at: 5,
    fires: [{ severity: 'critical' }],
  },
  {
    title: 'does not fire where no hub runs',
    alert: 'HotUpgradeHubNoLeader',
    series: [{ series: LEADER('ctrl-0'), values: '1x10' }],
    at: 5,
    fires: [],
  },
];

/** A `promtool test rules` file for one case, against the generated rule file. */
function ruleTest(c: Case): string {
  const a = byName(c.alert);
  return dumpYaml(
    {
      rule_files: [RULES_FILE],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: c.series,
          alert_rule_test: [
            {
              eval_time: `${c.at}m`,
              alertname: c.alert,
              exp_alerts: c.fires.map((labels) => ({
                exp_labels: labels,
                exp_annotations: {
                  summary: expand(a.summary, labels),
                  description: expand(a.description, labels),
                  runbook_url: `${RUNBOOK_BASE}#${runbookAnchor(a.name)}`,
                },
              })),
            },
          ],
        },
      ],
    },
    { noRefs: true, lineWidth: -1 },
  );
}

describe.skipIf(skip)('alerting rules, checked by promtool', () => {
  it('the generated rule file passes promtool check rules', async () => {
    const r = await promtool(['check', 'rules', RULES_FILE]);
    expect(r.output).toContain(`SUCCESS: ${ALERTS.length} rules found`);
    expect(r.code, r.output).toBe(0);
  });

  it('every alert has a promtool test where it fires and one where it does not', () => {
    for (const a of ALERTS) {
      const cases = CASES.filter((c) => c.alert === a.name);
      expect(
        cases.some((c) => c.fires.length > 0),
        `${a.name} fires somewhere`,
      ).toBe(true);
      expect(
        cases.some((c) => c.fires.length === 0),
        `${a.name} stays quiet somewhere`,
      ).toBe(true);
    }
  });

  it.each(CASES)('$alert $title', async (c) => {
    const file = join(tmp, `${c.alert}-${CASES.indexOf(c)}.test.yaml`);
    writeFileSync(file, ruleTest(c));
    const r = await promtool(['test', 'rules', file]);
    expect(r.code, r.output).toBe(0);
  });
});

describe('alert definitions', () => {
  it.each([
    { base: 'sum(x) > 0', op: '>', threshold: 1, expected: 'sum(x) > 0 > 1' },
    { base: 'sum(x) or on () vector(0)', op: '<', threshold: 1, expected: '(sum(x) or on () vector(0)) < 1' },
  ] as const)('compares $base with $op $threshold as $expected', ({ base, op, threshold, expected }) => {
    expect(alertExpr({ ...byName('HotDeploymentRolloutStuck'), base, op, threshold })).toBe(expected);
  });

  it('each alert has a runbook section and its expression in docs/operations.md', () => {
    const doc = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
    for (const a of ALERTS) {
      expect(doc, `### ${a.name} in docs/operations.md`).toContain(`\n### ${a.name}\n`);
      expect(runbookAnchor(a.name)).toMatch(/^[a-z0-9-]+$/);
      // A `|` inside a table cell is written `\|`.
      const row = (doc.split('\n').find((l) => l.startsWith(`| \`${a.name}\``)) ?? '').replaceAll('\\|', '|');
      expect(row, `the Alerts table row of ${a.name}`).toContain(`\`${alertExpr(a)}\``);
      expect(row).toMatch(new RegExp(`\\| ${a.severity} +\\|.*\\| ${a.for} +\\|$`));
    }
  });

  it('names HotDeployments in the annotations of every per-HotDeployment alert', () => {
    for (const a of ALERTS.filter((x) => /by \(namespace, name\)/.test(x.base))) {
      expect(a.summary).toContain('{{ $labels.namespace }}/{{ $labels.name }}');
      expect(a.description).toContain('{{ $labels.namespace }}/{{ $labels.name }}');
    }
  });
});
