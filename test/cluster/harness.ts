// What test suites use: start/stop a control plane or the single node, build images, and
// honour a user-provided cluster (KUBECONFIG_E2E or KUBECONFIG).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLUSTER_DIR, K8S_VERSION, RANGES, k8sBin } from './config.ts';
import {
  startControlPlane,
  stopControlPlane,
  type ControlPlane,
  type ControlPlaneOptions,
} from './controlplane.ts';
import { startNode, stopNode, type NodeCluster } from './node.ts';
import { checkTier, externalKubeconfig, isCI, missingPrereqs } from './prereqs.ts';
import { run } from './proc.ts';

export {
  startControlPlane,
  stopControlPlane,
  startNode,
  stopNode,
  checkTier,
  externalKubeconfig,
  isCI,
  missingPrereqs,
};
export type { ControlPlane, ControlPlaneOptions, NodeCluster };
export { K8S_VERSION, RANGES };

export interface TestCluster {
  kubeconfig: string;
  // false when the cluster came from KUBECONFIG(_E2E): built-in assumptions (version,
  // locally imported images) may not hold there.
  ours: boolean;
  containerdSocket?: string;
  stop(): Promise<void>;
}

// A control plane for one suite, or the user's cluster.
export async function useControlPlane(name: string): Promise<TestCluster> {
  const ext = externalKubeconfig();
  if (ext) return { kubeconfig: ext, ours: false, stop: async () => undefined };
  const cp = await startControlPlane({ name });
  return { kubeconfig: cp.kubeconfig, ours: true, stop: () => cp.stop() };
}

// The single node (started by this suite, or the user's cluster).
export async function useNode(name = 'e2e'): Promise<TestCluster> {
  const ext = externalKubeconfig();
  if (ext) return { kubeconfig: ext, ours: false, stop: async () => undefined };
  const node = await startNode({ name });
  return {
    kubeconfig: node.kubeconfig,
    ours: true,
    containerdSocket: node.containerdSocket,
    stop: () => node.stop(),
  };
}

export interface ImageSpec {
  tag: string; // e.g. hotupgrade.local/smoke:v1 (our own domain: never pulled)
  dockerfile: string;
  files?: Record<string, string>;
}

// Builds images with docker against the local base images and makes them available to
// the cluster: imported into our containerd, or handed to HOTUPGRADE_IMAGE_LOADER (e.g.
// `kind load docker-image`) for a user-provided cluster.
export async function buildImages(cluster: TestCluster, specs: ImageSpec[]): Promise<void> {
  const ctxs: string[] = [];
  const loader = process.env.HOTUPGRADE_IMAGE_LOADER;
  const args = [join(CLUSTER_DIR, 'images.sh')];
  if (cluster.containerdSocket) args.push('--containerd', cluster.containerdSocket);
  args.push('base-busybox');
  for (const s of specs) {
    const ctx = mkdtempSync(join(tmpdir(), 'hotupgrade-image-'));
    ctxs.push(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), s.dockerfile);
    for (const [f, content] of Object.entries(s.files ?? {})) writeFileSync(join(ctx, f), content);
    args.push('build', s.tag, ctx);
    if (cluster.containerdSocket) args.push('import', s.tag);
    else if (loader) args.push('save', s.tag, join(ctx, 'image.tar'));
  }
  try {
    await run('bash', args, { timeoutMs: 300_000 });
    // e.g. HOTUPGRADE_IMAGE_LOADER='kind load image-archive' gets each image's tar file.
    if (!cluster.containerdSocket && loader) {
      for (const ctx of ctxs) await run('sh', ['-c', `${loader} "$1"`, 'sh', join(ctx, 'image.tar')]);
    }
  } finally {
    for (const c of ctxs) rmSync(c, { recursive: true, force: true });
  }
}

export async function kubectl(cluster: TestCluster, args: string[], input?: string): Promise<string> {
  // Our kubectl when it was built; a user-provided cluster may come with its own on PATH.
  const exe = existsSync(k8sBin('kubectl')) ? k8sBin('kubectl') : 'kubectl';
  const r = await run(
    exe,
    [`--kubeconfig=${cluster.kubeconfig}`, ...args],
    input === undefined ? {} : { input },
  );
  return r.stdout;
}

// Polls f every intervalMs until it returns something other than undefined; the timeout
// error carries the last exception f threw, which usually says what was wrong.
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
