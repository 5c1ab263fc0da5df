// The chart's values: every key documented (the docs table and the schema descriptions
// come from those comments), values.schema.json rejecting what cannot work with a message
// that names the field, the render refusing combinations the schema cannot express, and
// `helm lint --strict` clean. No cluster needed.
import { describe, expect, it } from 'vitest';
import { ALL_FEATURES, CHART_DIR, HELM, exec, missingChartFiles, mustExec, renderError } from './chart.ts';
import { documentedValues, staleFiles } from './values-doc.ts';

const missing = missingChartFiles();

describe('values.yaml', () => {
  it('documents every value; docs/chart.md and the schema descriptions are generated from it and current', async () => {
    const docs = documentedValues();
    expect(docs.map((d) => d.path)).toEqual(
      expect.arrayContaining([
        'replicaCount',
        'image.registry',
        'images.sidecar.override',
        'hub.enabled',
        'hub.probeSeconds',
        'memberAccess.enabled',
      ]),
    );
    expect(docs.filter((d) => d.description.length < 15)).toEqual([]);
    expect(await staleFiles(), 'run node test/chart/values-doc.ts --write').toEqual([]);
  });

  it('refuses a key without a "# --" comment', () => {
    expect(() => documentedValues('image:\n  # -- Where from.\n  registry: x\n  tag: ""\n')).toThrow(
      /values.yaml:4: image.tag has no "# --" comment/,
    );
  });
});

describe('values.schema.json', () => {
  it.each([
    [{ replicaCount: -1 }, /at '\/replicaCount': minimum: got -1, want 0/],
    [{ replicaCount: 'two' }, /at '\/replicaCount': got string, want integer/],
    [{ 'image.tag': 5 }, /at '\/image\/tag': got number, want string/],
    [{ 'image.pullPolicy': 'Sometimes' }, /at '\/image\/pullPolicy': value must be one of/],
    [{ surprise: true }, /additional properties 'surprise' not allowed/],
    [{ 'images.controller.tag': 'v1' }, /at '\/images\/controller': additional properties 'tag' not allowed/],
    [{ logLevel: 'verbose' }, /at '\/logLevel': value must be one of 'fatal', 'error'/],
    [{ workers: 0 }, /at '\/workers': minimum: got 0, want 1/],
    [{ watchNamespace: 'Apps_1' }, /at '\/watchNamespace'/],
    [{ terminationGracePeriodSeconds: 5 }, /at '\/terminationGracePeriodSeconds': minimum: got 5, want 15/],
    [
      { 'serviceMonitor.interval': '30 seconds' },
      /at '\/serviceMonitor\/interval': '30 seconds' does not match/,
    ],
    [{ 'podDisruptionBudget.minAvailable': 'half' }, /at '\/podDisruptionBudget\/minAvailable'/],
    [
      { 'grafanaDashboard.labels.grafana_dashboard': 1 },
      /at '\/grafanaDashboard\/labels\/grafana_dashboard': got number, want string/,
    ],
    [{ 'hub.enabled': 'yes' }, /at '\/hub\/enabled': got string, want boolean/],
    [{ 'hub.replicas': -1 }, /at '\/hub\/replicas': minimum: got -1, want 0/],
    [{ 'hub.port': 70000 }, /at '\/hub\/port': maximum: got 70,000, want 65,535/],
    [{ 'hub.probeSeconds': 0 }, /at '\/hub\/probeSeconds': minimum: got 0, want 1/],
    [{ 'hub.pollSeconds': 'fast' }, /at '\/hub\/pollSeconds': got string, want integer/],
    [{ 'hub.memberTimeoutSeconds': 0 }, /at '\/hub\/memberTimeoutSeconds': minimum: got 0, want 1/],
    [{ 'hub.logLevel': 'verbose' }, /at '\/hub\/logLevel': value must be one of 'fatal', 'error'/],
    [{ 'hub.leaseName': 'Hub_Lease' }, /at '\/hub\/leaseName': 'Hub_Lease' does not match/],
    [{ 'hub.controller': true }, /at '\/hub': additional properties 'controller' not allowed/],
    [{ 'memberAccess.enabled': 'true' }, /at '\/memberAccess\/enabled': got string, want boolean/],
    [
      { 'memberAccess.namespace': 'apps' },
      /at '\/memberAccess': additional properties 'namespace' not allowed/,
    ],
  ])('rejects %j, naming the field', async (set, message) => {
    const error = await renderError({ set: set as Record<string, string | number | boolean> });
    expect(error).toMatch(/values don't meet the specifications of the schema/);
    expect(error).toMatch(message);
  });
});

describe('values the render refuses', () => {
  it.each([
    [{ 'leaderElection.enabled': false }, /leaderElection\.enabled: 2 replicas without leader election/],
    [
      { 'podDisruptionBudget.minAvailable': 2 },
      /podDisruptionBudget\.minAvailable: 2 of 2 replicas would block every node drain/,
    ],
    [{ 'serviceAccount.create': false }, /serviceAccount\.name: set the name of an existing ServiceAccount/],
  ])('%j fails with the fix in the message', async (set, message) => {
    expect(await renderError({ set: set as Record<string, string | number | boolean> })).toMatch(message);
  });
});

describe('helm show crds', () => {
  // What docs/chart.md tells users to pipe into `kubectl apply` before an upgrade. helm
  // prints the crds/ files one after the other as they are: a file that does not start
  // with `---` runs into the one before it, and kubectl then applies only the last CRD.
  it('gives each CRD of crds/ as a YAML document of its own', async () => {
    const out = await mustExec(HELM, ['show', 'crds', CHART_DIR]);
    const docs = out.split(/^---\s*$/m).filter((d) => /^kind: CustomResourceDefinition$/m.test(d));
    expect(docs.map((d) => /^ {2}name: (\S+)$/m.exec(d)?.[1])).toEqual([
      'hotdeployments.hotupgrade.io',
      'hotreleases.hotupgrade.io',
      'memberclusters.hotupgrade.io',
    ]);
  });
});

describe.skipIf(missing.length > 0)('helm lint --strict', () => {
  it.each([
    ['the default values', []],
    ['every feature on (test/chart/all-features.yaml)', ['--values', ALL_FEATURES]],
    ['one watched namespace', ['--set', 'watchNamespace=apps']],
    ['hub mode alone, one replica', ['--set', 'hub.enabled=true', '--set', 'hub.replicas=1']],
    ['member access alone', ['--set', 'memberAccess.enabled=true']],
  ])('is clean with %s', async (_what, args) => {
    const r = await exec(HELM, ['lint', '--strict', CHART_DIR, ...args]);
    expect(r.stdout + r.stderr).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(r.code).toBe(0);
  });
});
