// Single node tier: the control plane plus kube-scheduler, containerd (CRI), kubelet,
// kube-proxy (iptables) and a bridge CNI, all on this VM. Pod, service and bridge
// addresses come from 198.18.0.0/15; the API server listens on the bridge address so
// pods can reach it through the `kubernetes` Service.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BRIDGE,
  BUSYBOX_IMAGE,
  CLUSTER_DIR,
  PAUSE_IMAGE,
  RANGES,
  STATE_ROOT,
  k8sBin,
  stateDir,
} from './config.ts';
import { CGROUP_ROOT, cleanupStaleState, saveNftTables, saveSysctls } from './cleanup.ts';
import { apiGet, startControlPlane, type ControlPlane } from './controlplane.ts';
import { writeKubeconfig } from './pki.ts';
import {
  freePort,
  isOurs,
  progress,
  readDaemons,
  run,
  startDaemon,
  stopDaemons,
  waitFor,
  type Daemon,
} from './proc.ts';

export interface NodeCluster extends ControlPlane {
  nodeName: string;
  containerdSocket: string;
}

const STEPS = 7;

// HOTUPGRADE_RUNC: a wrapper around runc (debugging only), e.g. one that keeps each
// bundle's config.json and runc's log.json when a pod sandbox will not start.
function containerdConfig(dir: string): string {
  const cd = join(dir, 'containerd');
  return `version = 2
root = "${cd}/root"
state = "${cd}/state"
# Snapshotters this VM cannot use only add warnings.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${cd}/containerd.sock"
[ttrpc]
  address = "${cd}/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "${cd}/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  stream_server_address = "127.0.0.1"
  disable_apparmor = true
  # Lowering oom_score_adj needs CAP_SYS_RESOURCE, which some sandboxes (this VM's root
  # among them) lack; keep every container at or above containerd's own value.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
${process.env.HOTUPGRADE_RUNC ? `        BinaryName = "${process.env.HOTUPGRADE_RUNC}"` : ''}
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni/net.d"
`;
}

// Bridge + host-local IPAM from Debian's containernetworking-plugins. No ipMasq and no
// portmap: pods only talk to each other and to this host, so no NAT rules are needed.
// (The bridge plugin turns on ip_forward as a gateway; teardown restores it.)
function cniConfig(dir: string): string {
  return JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'hotupgrade',
      plugins: [
        {
          type: 'bridge',
          bridge: BRIDGE,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: RANGES.podCidr, gateway: RANGES.nodeIp }]],
            // A route to our /15 only, no default route: pods reach each other, services
            // and this host, and nothing beyond the machine.
            routes: [{ dst: RANGES.podsAndServices }],
            dataDir: join(dir, 'cni', 'ipam'),
          },
        },
      ],
    },
    null,
    2,
  );
}

function kubeletConfig(
  dir: string,
  ports: { kubelet: number; healthz: number },
  containerdSocket: string,
): string {
  const pki = join(dir, 'pki');
  return `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${RANGES.nodeIp}
port: ${ports.kubelet}
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: ${ports.healthz}
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${pki}/ca.crt}
authorization: {mode: Webhook}
tlsCertFile: ${pki}/kubelet-serving.crt
tlsPrivateKeyFile: ${pki}/kubelet-serving.key
containerRuntimeEndpoint: unix://${containerdSocket}
cgroupDriver: cgroupfs
# This VM runs cgroup v1 (hybrid); kubelet 1.35+ refuses v1 unless told otherwise.
failCgroupV1: false
# All pod cgroups under one root, so teardown can remove them without guessing.
cgroupRoot: /${CGROUP_ROOT}
podCIDR: ${RANGES.podCidr}
podLogsDir: ${dir}/pod-logs
failSwapOn: false
serializeImagePulls: false
# Images are imported, never pulled; keep them however full the disk looks.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
# Quick status updates make "Ready" and restarts visible to tests sooner.
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
resolvConf: ""
`;
}

function kubeProxyConfig(dir: string, ports: { healthz: number; metrics: number }, nodeName: string): string {
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: ${dir}/kube-proxy.kubeconfig}
hostnameOverride: ${nodeName}
clusterCIDR: ${RANGES.clusterCidr}
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:${ports.healthz}
metricsBindAddress: 127.0.0.1:${ports.metrics}
# NodePorts only on the bridge address, never on eth0 or localhost.
nodePortAddresses: ["${RANGES.nodeIp}/32"]
iptables: {localhostNodePorts: false}
# Leave the host's conntrack sysctls alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`;
}

async function httpOk(url: string): Promise<boolean> {
  return (await fetch(url)).ok;
}

// kube-scheduler serves /healthz with a self-signed certificate and no auth needed.
function httpsHealthz(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsGet(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

export async function startNode(
  opts: { name?: string; log?: (msg: string) => void } = {},
): Promise<NodeCluster> {
  const name = opts.name ?? 'node';
  const log = opts.log ?? progress(`node ${name}`);
  const dir = stateDir(name);
  const nodeName = `${name}-0`;
  const t0 = Date.now();
  const step = (i: number, msg: string): void => log(`step ${i}/${STEPS}: ${msg}`);

  // One node tier per machine: it owns the bridge, 198.18.0.1 and the KUBE-* chains.
  const other = runningNodeTier(name);
  if (other) {
    throw new Error(
      `node tier "${other}" is already running; stop it first (npm run cluster:down -- ${other})`,
    );
  }
  step(1, 'clean up leftovers of an earlier run, create the CNI bridge');
  await cleanupStaleState(dir, { node: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'cni', 'net.d'), { recursive: true });
  saveSysctls(join(dir, 'sysctls.json'));
  await saveNftTables(join(dir, 'nft-tables.txt'));
  // The bridge exists before the API server starts because the server binds its address;
  // the bridge plugin adopts it.
  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${RANGES.nodeIp}/24`, 'dev', BRIDGE]);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
  await run('modprobe', ['br_netfilter']).catch(() => undefined);
  // Service traffic between pods on one bridge must pass iptables (kube-proxy's DNAT).
  if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) {
    writeFileSync('/proc/sys/net/bridge/bridge-nf-call-iptables', '1');
  }
  writeFileSync(join(dir, 'cni', 'net.d', '10-hotupgrade.conflist'), cniConfig(dir));

  const containerdSocket = join(dir, 'containerd', 'containerd.sock');
  let cp: ControlPlane | undefined;
  try {
    step(2, 'control plane (etcd, kube-apiserver, kube-controller-manager) and containerd');
    writeFileSync(join(dir, 'containerd.toml'), containerdConfig(dir));
    const containerd = startDaemon(dir, 'containerd', '/usr/bin/containerd', [
      `--config=${join(dir, 'containerd.toml')}`,
      '--log-level=warn',
    ]);
    const containerdReady = waitFor(
      'containerd',
      async () => {
        await run('ctr', ['--address', containerdSocket, 'version']);
        return true;
      },
      { daemons: [containerd], timeoutMs: 30_000 },
    );
    cp = await startControlPlane({
      name,
      prepared: true,
      bindAddress: RANGES.nodeIp,
      extraCerts: [
        { name: 'kubelet', cn: `system:node:${nodeName}`, org: 'system:nodes' },
        { name: 'kubelet-serving', cn: nodeName, ips: [RANGES.nodeIp, '127.0.0.1'], dns: [nodeName] },
        { name: 'kube-proxy', cn: 'system:kube-proxy' },
        { name: 'scheduler', cn: 'system:kube-scheduler' },
      ],
      controllerManagerArgs: [
        '--allocate-node-cidrs=true',
        `--cluster-cidr=${RANGES.clusterCidr}`,
        '--node-cidr-mask-size=24',
      ],
      log: (m) => log(`  control plane: ${m}`),
    });
    await containerdReady;
    const { pki } = cp;
    const controlPlane = cp;

    step(3, `images: ${PAUSE_IMAGE}, ${BUSYBOX_IMAGE} (docker build, import into containerd)`);
    await run('bash', [
      join(CLUSTER_DIR, 'images.sh'),
      '--containerd',
      containerdSocket,
      '--keep-docker',
      'base-pause',
      'base-busybox',
      'import',
      PAUSE_IMAGE,
      'import',
      BUSYBOX_IMAGE,
    ]);

    step(4, 'kube-scheduler');
    const [schedPort, kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics] = await Promise.all([
      freePort(),
      freePort(RANGES.nodeIp),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const schedKubeconfig = join(dir, 'scheduler.kubeconfig');
    writeKubeconfig(schedKubeconfig, pki, cp.server, 'scheduler', name);
    const scheduler = startDaemon(dir, 'kube-scheduler', k8sBin('kube-scheduler'), [
      `--kubeconfig=${schedKubeconfig}`,
      `--authentication-kubeconfig=${schedKubeconfig}`,
      `--authorization-kubeconfig=${schedKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${schedPort}`,
      '--leader-elect=false',
      '--v=1',
    ]);

    step(5, `kubelet (node ${nodeName})`);
    makeCgroupRoot();
    writeKubeconfig(join(dir, 'kubelet.kubeconfig'), pki, cp.server, 'kubelet', name);
    writeFileSync(
      join(dir, 'kubelet.yaml'),
      kubeletConfig(dir, { kubelet: kubeletPort, healthz: kubeletHealthz }, containerdSocket),
    );
    const kubelet = startDaemon(dir, 'kubelet', k8sBin('kubelet'), [
      `--config=${join(dir, 'kubelet.yaml')}`,
      `--kubeconfig=${join(dir, 'kubelet.kubeconfig')}`,
      `--root-dir=${join(dir, 'kubelet')}`,
      `--hostname-override=${nodeName}`,
      `--node-ip=${RANGES.nodeIp}`,
      '--v=1',
    ]);
    const daemons: Daemon[] = [...cp.daemons, containerd, scheduler, kubelet];
    await waitFor(
      `node ${nodeName} Ready`,
      async () => {
        const r = await apiGet(controlPlane, `/api/v1/nodes/${nodeName}`);
        if (r.status !== 200) return false;
        const node = JSON.parse(r.body) as { status?: { conditions?: { type: string; status: string }[] } };
        return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      },
      { daemons, timeoutMs: 120_000 },
    );

    step(6, 'kube-proxy (iptables mode)');
    writeKubeconfig(join(dir, 'kube-proxy.kubeconfig'), pki, cp.server, 'kube-proxy', name);
    writeFileSync(
      join(dir, 'kube-proxy.yaml'),
      kubeProxyConfig(dir, { healthz: proxyHealthz, metrics: proxyMetrics }, nodeName),
    );
    const proxy = startDaemon(dir, 'kube-proxy', k8sBin('kube-proxy'), [
      `--config=${join(dir, 'kube-proxy.yaml')}`,
      '--v=1',
    ]);
    await waitFor('kube-proxy /healthz', () => httpOk(`http://127.0.0.1:${proxyHealthz}/healthz`), {
      daemons: [...daemons, proxy],
      timeoutMs: 60_000,
    });
    await waitFor('kube-scheduler /healthz', () => httpsHealthz(`https://127.0.0.1:${schedPort}/healthz`), {
      daemons: [scheduler],
    });

    step(7, `ready in ${((Date.now() - t0) / 1000).toFixed(1)}s; kubeconfig ${cp.kubeconfig}`);
    const node: NodeCluster = {
      ...cp,
      daemons: [...daemons, proxy],
      nodeName,
      containerdSocket,
      stop: () => stopNode(name),
    };
    return node;
  } catch (e) {
    await stopNode(name).catch((err: unknown) =>
      log(`cleanup after failed start also failed: ${String(err)}`),
    );
    throw e;
  }
}

// Name of another cluster whose kubelet is alive, if any.
function runningNodeTier(self: string): string | undefined {
  if (!existsSync(STATE_ROOT)) return undefined;
  for (const n of readdirSync(STATE_ROOT)) {
    if (n === self) continue;
    if (readDaemons(join(STATE_ROOT, n)).some((d) => d.name === 'kubelet' && isOurs(d))) return n;
  }
  return undefined;
}

// The kubelet wants its cgroupRoot to exist in every v1 hierarchy. A new cpuset cgroup
// starts with no CPUs or memory nodes, so copy the root's or nothing could run in it.
function makeCgroupRoot(): void {
  const base = '/sys/fs/cgroup';
  for (const ctrl of readdirSync(base)) {
    const parent = join(base, ctrl);
    if (ctrl === 'unified' || !existsSync(join(parent, 'cgroup.procs'))) continue;
    const dir = join(parent, CGROUP_ROOT);
    mkdirSync(dir, { recursive: true });
    if (ctrl.split(',').includes('cpuset')) {
      for (const f of ['cpuset.cpus', 'cpuset.mems'])
        writeFileSync(join(dir, f), readFileSync(join(parent, f)));
    }
  }
}

// Kills whatever still runs in containerd's k8s.io namespace, so no shim or container
// outlives containerd (shims are not its children and would keep running).
async function killTasks(sock: string): Promise<void> {
  const ctr = (...a: string[]): Promise<{ stdout: string }> =>
    run('ctr', ['--address', sock, '-n', 'k8s.io', ...a]);
  const tasks = (await ctr('tasks', 'ls', '-q').catch(() => ({ stdout: '' }))).stdout
    .split('\n')
    .filter(Boolean);
  for (const t of tasks) await ctr('tasks', 'kill', '-s', 'SIGKILL', t).catch(() => undefined);
  for (const t of tasks) {
    for (let i = 0; i < 50; i++) {
      if (
        await ctr('tasks', 'delete', t).then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
  }
}

// Tears the node down in dependency order and leaves nothing behind.
export async function stopNode(
  name = 'node',
  log: (m: string) => void = progress(`node ${name} stop`),
): Promise<void> {
  const dir = stateDir(name);
  const sock = join(dir, 'containerd', 'containerd.sock');
  const kubeconfig = join(dir, 'admin.kubeconfig');
  if (!existsSync(dir)) {
    log(`nothing to stop: ${dir} does not exist`);
    return;
  }
  // 1. No new pods: stop the controllers and the scheduler first.
  await stopDaemons(dir, ['kube-controller-manager', 'kube-scheduler']);
  // 2. Let the kubelet tear pods down properly (CNI DEL, unmount volumes).
  if (existsSync(kubeconfig) && existsSync(sock)) {
    log('deleting all pods');
    await run(k8sBin('kubectl'), [
      `--kubeconfig=${kubeconfig}`,
      'delete',
      'pods',
      '--all',
      '--all-namespaces',
      '--grace-period=1',
      '--timeout=60s',
      '--wait=true',
    ]).catch((e: unknown) => log(`pod deletion incomplete (forcing): ${String(e).split('\n')[0]}`));
    await waitFor(
      'pod sandboxes stopped',
      async () =>
        (await run('ctr', ['--address', sock, '-n', 'k8s.io', 'tasks', 'ls', '-q'])).stdout.trim() === '',
      { timeoutMs: 30_000 },
    ).catch(() => log('some containers still run; killing them'));
  }
  // 3. Node daemons, then what is left in containerd, then containerd and the control plane.
  await stopDaemons(dir, ['kube-proxy', 'kubelet']);
  if (existsSync(sock)) await killTasks(sock);
  await stopDaemons(dir);
  await run('bash', [join(CLUSTER_DIR, 'images.sh'), 'docker-stop']).catch(() => undefined);
  // 4. Mounts, network namespaces, bridge, iptables, cgroups, sysctls.
  await cleanupStaleState(dir, { node: true });
  // Keep logs and certificates for a post-mortem; drop the bulky state.
  for (const sub of ['containerd', 'etcd', 'kubelet', 'pod-logs'])
    rmSync(join(dir, sub), { recursive: true, force: true });
  log(`stopped; logs kept in ${join(dir, 'logs')}`);
}
