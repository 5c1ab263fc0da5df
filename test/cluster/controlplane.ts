// Control plane tier: etcd + kube-apiserver + kube-controller-manager (garbage
// collection, service account tokens, namespace deletion), on free ports of one address,
// with its own state dir, so several can run at once (a hub and its members).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { cleanupStaleState } from './cleanup.ts';
import { BIN, K8S_VERSION, RANGES, k8sBin, stateDir } from './config.ts';
import { makePki, writeKubeconfig, type CertSpec, type Pki } from './pki.ts';
import {
  freePort,
  isOurs,
  progress,
  readDaemons,
  startDaemon,
  stopDaemons,
  waitFor,
  type Daemon,
} from './proc.ts';

export interface ControlPlaneOptions {
  name: string;
  // Address the API server listens on. 127.0.0.1 for the control plane tier; the node
  // tier uses the CNI bridge's address so pods can reach it too.
  bindAddress?: string;
  // Extra certificates (the node tier adds kubelet and kube-proxy identities).
  extraCerts?: CertSpec[];
  // kube-controller-manager flags the node tier needs (node IPAM).
  controllerManagerArgs?: string[];
  // The caller (node tier) already cleaned and created the state dir.
  prepared?: boolean;
  log?: (msg: string) => void;
}

export interface ControlPlane {
  name: string;
  dir: string;
  kubeconfig: string;
  server: string;
  pki: Pki;
  daemons: Daemon[];
  stop(): Promise<void>;
}

// GET path on the API server with the admin certificate; resolves to the status code.
export function apiGet(
  cp: { server: string; pki: Pki },
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, cp.server),
      {
        ca: readFileSync(cp.pki.ca),
        cert: readFileSync(cp.pki.cert('admin')),
        key: readFileSync(cp.pki.key('admin')),
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

export async function startControlPlane(opts: ControlPlaneOptions): Promise<ControlPlane> {
  const log = opts.log ?? progress(`control-plane ${opts.name}`);
  const dir = stateDir(opts.name);
  const bind = opts.bindAddress ?? '127.0.0.1';
  if (!opts.prepared) {
    // A previous run that crashed may have left daemons or state: stop those PIDs first.
    await cleanupStaleState(dir);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  }
  for (const exe of [BIN.etcd, k8sBin('kube-apiserver'), k8sBin('kube-controller-manager')]) {
    if (!existsSync(exe)) throw new Error(`${exe} is missing: run npm run cluster:build`);
  }

  log(`step 1/4: certificates (openssl) in ${dir}/pki`);
  const pki = await makePki(join(dir, 'pki'), [
    {
      name: 'apiserver',
      cn: 'kube-apiserver',
      ips: [...new Set(['127.0.0.1', bind, RANGES.kubernetesServiceIp])],
      dns: [
        'localhost',
        'kubernetes',
        'kubernetes.default',
        'kubernetes.default.svc',
        'kubernetes.default.svc.cluster.local',
      ],
    },
    { name: 'admin', cn: 'admin', org: 'system:masters' },
    { name: 'apiserver-kubelet-client', cn: 'kube-apiserver-kubelet-client', org: 'system:masters' },
    { name: 'controller-manager', cn: 'system:kube-controller-manager' },
    ...(opts.extraCerts ?? []),
  ]);

  const [etcdPort, etcdPeerPort, apiPort, kcmPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(bind),
    freePort(),
  ]);
  const server = `https://${bind}:${apiPort}`;
  const daemons: Daemon[] = [];
  const cp: ControlPlane = {
    name: opts.name,
    dir,
    kubeconfig: join(dir, 'admin.kubeconfig'),
    server,
    pki,
    daemons,
    stop: async () => {
      await stopDaemons(dir);
    },
  };
  try {
    log(`step 2/4: etcd on 127.0.0.1:${etcdPort}`);
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    const etcd = startDaemon(dir, 'etcd', BIN.etcd, [
      `--name=${opts.name}`,
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=${opts.name}=${peerUrl}`,
      // Test data is throwaway: skip fsync, which dominates etcd latency on a VM disk.
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    daemons.push(etcd);
    await waitFor('etcd health', async () => (await fetch(`${etcdUrl}/health`)).ok, {
      daemons: [etcd],
      timeoutMs: 30_000,
    });

    log(`step 3/4: kube-apiserver ${K8S_VERSION} on ${server}`);
    const apiserver = startDaemon(dir, 'kube-apiserver', k8sBin('kube-apiserver'), [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${bind}`,
      `--advertise-address=${bind}`,
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.cert('apiserver')}`,
      `--tls-private-key-file=${pki.key('apiserver')}`,
      `--client-ca-file=${pki.ca}`,
      `--kubelet-client-certificate=${pki.cert('apiserver-kubelet-client')}`,
      `--kubelet-client-key=${pki.key('apiserver-kubelet-client')}`,
      `--kubelet-certificate-authority=${pki.ca}`,
      '--kubelet-preferred-address-types=InternalIP',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.dir}/sa.pub`,
      `--service-account-signing-key-file=${pki.dir}/sa.key`,
      `--service-cluster-ip-range=${RANGES.serviceCidr}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true',
      // A loopback address may not be an Endpoints address, so without a node the
      // `kubernetes` Service gets no endpoints rather than a reconcile error loop.
      `--endpoint-reconciler-type=${bind.startsWith('127.') ? 'none' : 'lease'}`,
      '--profiling=false',
      '--v=1',
    ]);
    daemons.push(apiserver);
    await waitFor('kube-apiserver /readyz', async () => (await apiGet(cp, '/readyz')).status === 200, {
      daemons: [etcd, apiserver],
      timeoutMs: 90_000,
    });
    writeKubeconfig(cp.kubeconfig, pki, server, 'admin', opts.name);

    log('step 4/4: kube-controller-manager');
    const kcmKubeconfig = join(dir, 'controller-manager.kubeconfig');
    writeKubeconfig(kcmKubeconfig, pki, server, 'controller-manager', opts.name);
    const kcm = startDaemon(dir, 'kube-controller-manager', k8sBin('kube-controller-manager'), [
      `--kubeconfig=${kcmKubeconfig}`,
      `--authentication-kubeconfig=${kcmKubeconfig}`,
      `--authorization-kubeconfig=${kcmKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${kcmPort}`,
      `--service-account-private-key-file=${pki.dir}/sa.key`,
      `--root-ca-file=${pki.ca}`,
      `--cluster-signing-cert-file=${pki.ca}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      '--use-service-account-credentials=true',
      `--service-cluster-ip-range=${RANGES.serviceCidr}`,
      '--leader-elect=false',
      '--profiling=false',
      '--v=1',
      ...(opts.controllerManagerArgs ?? []),
    ]);
    daemons.push(kcm);
    // Ready when the default service account exists: proves the controllers run and the
    // token machinery works, which is what pods in later tests need.
    await waitFor(
      'kube-controller-manager (default service account)',
      async () => (await apiGet(cp, '/api/v1/namespaces/default/serviceaccounts/default')).status === 200,
      { daemons: [etcd, apiserver, kcm], timeoutMs: 60_000 },
    );
    log(`ready; kubeconfig ${cp.kubeconfig}`);
    return cp;
  } catch (e) {
    await stopDaemons(dir);
    throw e;
  }
}

// Stops what a (possibly other) process started for this cluster name.
export async function stopControlPlane(name: string): Promise<void> {
  const dir = stateDir(name);
  if (readDaemons(dir).length) await stopDaemons(dir);
}

// The kube-apiserver of a running control plane, as this process started it.
function apiServerDaemon(cp: ControlPlane): Daemon {
  const d = readDaemons(cp.dir).find((x) => x.name === 'kube-apiserver');
  if (!d || !isOurs(d)) throw new Error(`control plane ${cp.name} has no running kube-apiserver`);
  return d;
}

// Stops kube-apiserver (etcd and its data stay) and returns what starts it again with the
// same flags and port: what a control plane upgrade or crash looks like to a client.
// crash: SIGKILL at once (a graceful stop can take its full 10 s grace here).
export async function stopApiServer(
  cp: ControlPlane,
  opts: { crash?: boolean } = {},
): Promise<{ start(): Promise<void> }> {
  const d = apiServerDaemon(cp);
  const args = readFileSync(`/proc/${d.pid}/cmdline`, 'utf8').split('\0').slice(1, -1);
  if (opts.crash) {
    process.kill(d.pid, 'SIGKILL');
    for (let i = 0; i < 200 && isOurs(d); i++) await new Promise((r) => setTimeout(r, 50));
  }
  await stopDaemons(cp.dir, ['kube-apiserver']);
  return {
    start: async () => {
      const next = startDaemon(cp.dir, 'kube-apiserver', d.exe, args);
      const i = cp.daemons.findIndex((x) => x.name === 'kube-apiserver');
      if (i >= 0) cp.daemons[i] = next;
      else cp.daemons.push(next);
      await waitFor(
        'kube-apiserver /readyz after restart',
        async () => (await apiGet(cp, '/readyz')).status === 200,
        { daemons: [next], timeoutMs: 90_000 },
      );
    },
  };
}

// Stops and starts kube-apiserver; resolves when it answers /readyz again.
export async function restartApiServer(
  cp: ControlPlane,
  opts: { crash?: boolean; downMs?: number } = {},
): Promise<void> {
  const stopped = await stopApiServer(cp, opts);
  if (opts.downMs) await new Promise((r) => setTimeout(r, opts.downMs));
  await stopped.start();
}

// Freezes kube-apiserver (SIGSTOP): its TCP connections stay open but say nothing, like a
// peer behind a dead NAT entry. Returns the function that thaws it (SIGCONT).
export function pauseApiServer(cp: ControlPlane): () => void {
  const d = apiServerDaemon(cp);
  process.kill(d.pid, 'SIGSTOP');
  return () => {
    if (isOurs(d)) process.kill(d.pid, 'SIGCONT');
  };
}
