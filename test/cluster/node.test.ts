// Single node tier: real kubelet + containerd. Proves what the product relies on: an
// in-place image change restarts only that container and keeps the pod's UID, IP, other
// containers and emptyDir.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, checkTier, kubectl, until, useNode, type TestCluster } from './harness.ts';

const skip = checkTier('node');

const V1 = 'hotupgrade.local/smoke:v1';
const V2 = 'hotupgrade.local/smoke:v2';
// Our own tag, never built; its registry is a closed port on loopback, so the pull fails
// at once without any traffic leaving the machine.
const MISSING = '127.0.0.1:9/hotupgrade/missing:v1';

// sh as PID 1 ignores SIGTERM unless it traps it; the trap makes restarts quick.
const appDockerfile = `FROM hotupgrade.local/busybox:1
COPY VERSION /VERSION
CMD ["sh", "-c", "trap 'exit 0' TERM; echo \\"$(cat /VERSION) started\\" | tee -a /shared/starts; while true; do sleep 1; done"]
`;

describe.skipIf(skip)('single node', () => {
  let cluster: TestCluster;
  let core: k8s.CoreV1Api;
  const ns = `smoke-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    cluster = await useNode('e2e');
    await buildImages(cluster, [
      { tag: V1, dockerfile: appDockerfile, files: { VERSION: 'v1\n' } },
      { tag: V2, dockerfile: appDockerfile, files: { VERSION: 'v2\n' } },
    ]);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await until('default service account', () =>
      core.readNamespacedServiceAccount({ name: 'default', namespace: ns }),
    );
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  const status = (pod: k8s.V1Pod, name: string): k8s.V1ContainerStatus => {
    const s = pod.status?.containerStatuses?.find((c) => c.name === name);
    if (!s) throw new Error(`no status for container ${name}`);
    return s;
  };

  it('restarts only the patched container, keeping UID, IP, the other container and emptyDir', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'two' },
        spec: {
          terminationGracePeriodSeconds: 5,
          volumes: [{ name: 'shared', emptyDir: {} }],
          containers: ['app', 'other'].map((name) => ({
            name,
            image: V1,
            volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          })),
        },
      },
    });
    const before = await until('pod Ready with an IP', async () => {
      const p = await core.readNamespacedPod({ name: 'two', namespace: ns });
      const ready = p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && p.status?.podIP ? p : undefined;
    });
    if (cluster.ours) expect(before.status?.podIP).toMatch(/^198\.18\.0\.\d+$/);
    expect(before.status?.podIPs?.map((i) => i.ip)).toEqual([before.status?.podIP]);

    // Write into the emptyDir through the other container (exercises exec, too).
    const marker = randomBytes(8).toString('hex');
    await kubectl(cluster, [
      '-n',
      ns,
      'exec',
      'two',
      '-c',
      'other',
      '--',
      'sh',
      '-c',
      `echo ${marker} > /shared/marker`,
    ]);

    await core.patchNamespacedPod(
      { name: 'two', namespace: ns, body: { spec: { containers: [{ name: 'app', image: V2 }] } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    const after = await until('app container restarted on v2 and Ready', async () => {
      const p = await core.readNamespacedPod({ name: 'two', namespace: ns });
      const app = status(p, 'app');
      return app.image === V2 && app.ready && app.state?.running ? p : undefined;
    });

    const appBefore = status(before, 'app');
    const appAfter = status(after, 'app');
    const otherBefore = status(before, 'other');
    const otherAfter = status(after, 'other');
    expect(after.metadata?.uid).toBe(before.metadata?.uid);
    expect(after.status?.podIP).toBe(before.status?.podIP);
    expect(appAfter.restartCount).toBe(appBefore.restartCount + 1);
    expect(appAfter.image).toBe(V2);
    expect(appAfter.containerID).not.toBe(appBefore.containerID);
    expect(appBefore.image).toBe(V1);
    expect(otherAfter.restartCount).toBe(otherBefore.restartCount);
    expect(otherAfter.containerID).toBe(otherBefore.containerID);
    expect(otherAfter.state?.running?.startedAt).toEqual(otherBefore.state?.running?.startedAt);
    expect(after.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');

    // The emptyDir survived: the marker, read through the restarted container, and the
    // start log both containers appended to (v1 twice at first, then v2's start).
    const catShared = (file: string): Promise<string> =>
      kubectl(cluster, ['-n', ns, 'exec', 'two', '-c', 'app', '--', 'cat', `/shared/${file}`]);
    const read = await catShared('marker');
    expect(read.trim()).toBe(marker);
    const starts = await catShared('starts');
    expect(starts.trim().split('\n')).toEqual(['v1 started', 'v1 started', 'v2 started']);
    const log = await core.readNamespacedPodLog({ name: 'two', namespace: ns, container: 'app' });
    expect(log.trim()).toBe('v2 started');
  });

  it('reports ErrImagePull / ImagePullBackOff for an image that does not exist', async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'missing' },
        spec: { containers: [{ name: 'c', image: MISSING }] },
      },
    });
    const reason = await until('image pull failure', async () => {
      const p = await core.readNamespacedPod({ name: 'missing', namespace: ns });
      const r = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      return r === 'ErrImagePull' || r === 'ImagePullBackOff' ? r : undefined;
    });
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(reason);
  });
});
