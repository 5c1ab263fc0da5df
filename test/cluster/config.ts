// Where things live and which versions they are. Versions come from versions.env, the one
// file the bash build script and this harness share.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLUSTER_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = join(CLUSTER_DIR, '..', '..');

function readVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(CLUSTER_DIR, 'versions.env'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(\S+)/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return out;
}
const versions = readVersions();
function version(key: string): string {
  const v = versions[key];
  if (!v) throw new Error(`test/cluster/versions.env has no ${key}`);
  return v;
}
export const K8S_VERSION = version('K8S_VERSION');
export const ETCD_VERSION = version('ETCD_VERSION');
export const HELM_VERSION = version('HELM_VERSION');

export const CACHE_DIR = process.env.HOTUPGRADE_CACHE ?? join(homedir(), '.cache', 'hotupgrade');
export const BIN = {
  kubernetes: join(CACHE_DIR, 'bin', `kubernetes-${K8S_VERSION}`),
  etcd: join(CACHE_DIR, 'bin', `etcd-${ETCD_VERSION}`, 'etcd'),
  helm: join(CACHE_DIR, 'bin', `helm-${HELM_VERSION}`, 'helm'),
  pause: join(CACHE_DIR, 'bin', `pause-${K8S_VERSION}`, 'pause'),
};
export function k8sBin(name: string): string {
  return join(BIN.kubernetes, name);
}

// State of running clusters: one directory per cluster name, so several control planes
// (hub + members) can run side by side. Under /tmp because it is throwaway and its
// unix socket paths must stay short.
export const STATE_ROOT = process.env.HOTUPGRADE_STATE ?? '/tmp/hotupgrade-cluster';
export function stateDir(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name)) throw new Error(`bad cluster name ${JSON.stringify(name)}`);
  return join(STATE_ROOT, name);
}

// Every address range the cluster uses comes from 198.18.0.0/15 (RFC 2544 benchmarking
// range), which no real network here uses, so nothing can leak into or shadow one.
export const RANGES = {
  podsAndServices: '198.18.0.0/15',
  clusterCidr: '198.18.0.0/16',
  podCidr: '198.18.0.0/24',
  nodeIp: '198.18.0.1', // the CNI bridge's address, also where the node tier's API server listens
  serviceCidr: '198.19.0.0/24',
  kubernetesServiceIp: '198.19.0.1',
};
export const BRIDGE = 'hu-br0';
// Tagged under our own domain so nothing ever tries to pull it from a registry.
export const PAUSE_IMAGE = `hotupgrade.local/pause:${K8S_VERSION}`;
export const BUSYBOX_IMAGE = 'hotupgrade.local/busybox:1';
