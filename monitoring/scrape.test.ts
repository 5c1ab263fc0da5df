import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dumpYaml, type V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { ALERTS } from './alerts.ts';
import { RULES_FILE } from './paths.ts';
import { promtool, promtoolMissing } from './promtool.ts';
import { JOBS, podLabelMeta, podTargetGroups, prometheusConfig } from './scrape.ts';

const skip = promtoolMissing();

const makePod = (p: { ip?: string; ports?: { name?: string; containerPort: number }[] }): V1Pod => ({
  metadata: {
    namespace: 'shop',
    name: 'cart-0',
    uid: 'u1',
    labels: { 'hotupgrade.io/hotdeployment': 'cart' },
  },
  spec: {
    nodeName: 'n1',
    containers: [
      { name: 'app-a', image: 'x', ports: [{ containerPort: 8080 }] },
      {
        name: 'hotupgrade-sidecar',
        image: 'y',
        ports: p.ports ?? [{ name: 'hu-sidecar', containerPort: 9901 }],
      },
    ],
  },
  status: {
    phase: 'Running',
    ...(p.ip ? { podIP: p.ip } : {}),
    conditions: [{ type: 'Ready', status: 'True' }],
  },
});

describe('podTargetGroups: kubernetes_sd role pod, from a pod list', () => {
  it('makes a target per container port at the pod IP, with the pod meta labels', () => {
    const groups = podTargetGroups([makePod({ ip: '198.18.0.7' })]);
    expect(groups.map((g) => g.targets)).toEqual([['198.18.0.7:8080'], ['198.18.0.7:9901']]);
    expect(groups[1]?.labels).toMatchObject({
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_pod_name: 'cart-0',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_label_hotupgrade_io_hotdeployment: 'cart',
      __meta_kubernetes_pod_labelpresent_hotupgrade_io_hotdeployment: 'true',
      __meta_kubernetes_pod_container_name: 'hotupgrade-sidecar',
      __meta_kubernetes_pod_container_port_name: 'hu-sidecar',
      __meta_kubernetes_pod_container_port_number: '9901',
    });
  });

  it('leaves out a pod without an IP yet', () => {
    expect(podTargetGroups([makePod({})])).toEqual([]);
  });

  it('brackets an IPv6 pod IP', () => {
    expect(podTargetGroups([makePod({ ip: 'fd00::7' })])[1]?.targets).toEqual(['[fd00::7]:9901']);
  });
});

describe('prometheusConfig', () => {
  const config = prometheusConfig({
    discoveryUrl: 'http://127.0.0.1:9/targets',
    ruleFiles: [RULES_FILE],
    intervalMs: 1000,
    extraScrape: [{ job: 'fake', targets: ['127.0.0.1:9999'], honorLabels: true }],
  });
  const text = JSON.stringify(config);

  it('scrapes the controller with honor_labels, so HotDeployment namespaces are kept', () => {
    expect(text).toContain(`"job_name":"${JOBS.controller}","honor_labels":true`);
    expect(text).toContain(`"job_name":"${JOBS.sidecars}","honor_labels":false`);
  });

  it('copies the pod label hotupgrade.io/hotdeployment of each sidecar to the hotdeployment label', () => {
    expect(podLabelMeta('hotupgrade.io/hotdeployment')).toBe(
      '__meta_kubernetes_pod_label_hotupgrade_io_hotdeployment',
    );
    expect(text).toContain(
      '{"source_labels":["__meta_kubernetes_pod_label_hotupgrade_io_hotdeployment"],"target_label":"hotdeployment"}',
    );
  });

  it('discovers, scrapes and evaluates rules at the same interval', () => {
    expect(config.global).toEqual({ scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' });
    expect(text).toContain(
      '"http_sd_configs":[{"url":"http://127.0.0.1:9/targets/hotupgrade-sidecars","refresh_interval":"1s"}]',
    );
  });

  it('refuses intervals Prometheus cannot take', () => {
    expect(() => prometheusConfig({ discoveryUrl: 'http://x', ruleFiles: [], intervalMs: 1500 })).toThrow(
      /whole seconds/,
    );
  });

  describe.skipIf(skip)('checked by promtool', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'hotupgrade-scrape-'));
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    it('passes promtool check config, rule file included', async () => {
      const file = join(tmp, 'prometheus.yml');
      writeFileSync(file, dumpYaml(config, { lineWidth: -1 }));
      const r = await promtool(['check', 'config', file]);
      expect(r.code, r.output).toBe(0);
      expect(r.output).toContain(`SUCCESS: ${ALERTS.length} rules found`);
    });
  });
});
