// The Node object and its liveness: registered at start with a Ready condition and a
// large capacity, kept alive by renewing its Lease in kube-node-lease and refreshing the
// Ready heartbeat (the node lifecycle controller marks a silent node NotReady after
// --node-monitor-grace-period, 40 s by default, and then evicts its pods).
import { arch, release } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { KubeClient } from './kube.ts';
import { microTime, rfc3339 } from './wire.ts';

export interface NodeOptions {
  client: KubeClient;
  nodeName: string;
  hostIP: string;
  maxPods: number;
  labels: Record<string, string>;
  kubeVersion: string;
  /** Lease renewal and Ready heartbeat period, in ms. */
  heartbeatMs: number;
  log: Logger;
}

const LEASE_NS = 'kube-node-lease';
const LEASE_DURATION_S = 40;

interface Lease {
  metadata: { name: string; resourceVersion?: string };
  spec: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

export class NodeKeeper {
  private readonly o: NodeOptions;
  private readonly readySince = rfc3339(Date.now());
  private readonly ids = {
    machineID: randomUUID().replace(/-/g, ''),
    systemUUID: randomUUID(),
    bootID: randomUUID(),
  };
  private uid = '';
  private lease: Lease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beating = false;

  constructor(o: NodeOptions) {
    this.o = o;
  }

  private nodePath(): string {
    return `/api/v1/nodes/${encodeURIComponent(this.o.nodeName)}`;
  }

  private status(): Record<string, unknown> {
    const now = rfc3339(Date.now());
    const resources = {
      cpu: '1000',
      memory: '4Ti',
      pods: String(this.o.maxPods),
      'ephemeral-storage': '100Ti',
    };
    const cond = (type: string, status: string, reason: string, message: string): Record<string, string> => ({
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: now,
      lastTransitionTime: this.readySince,
    });
    return {
      capacity: resources,
      allocatable: resources,
      conditions: [
        cond(
          'MemoryPressure',
          'False',
          'KubeletHasSufficientMemory',
          'kubelet has sufficient memory available',
        ),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status (hotupgrade node simulator)'),
      ],
      addresses: [
        { type: 'InternalIP', address: this.o.hostIP },
        { type: 'Hostname', address: this.o.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        ...this.ids,
        kernelVersion: release(),
        osImage: 'hotupgrade node simulator',
        containerRuntimeVersion: 'sim://1.0.0',
        kubeletVersion: this.o.kubeVersion,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: arch() === 'x64' ? 'amd64' : arch(),
      },
    };
  }

  /** Creates (or takes over) the Node and its Lease; throws when the API refuses. */
  async register(): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.o.nodeName,
        labels: {
          'kubernetes.io/hostname': this.o.nodeName,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': arch() === 'x64' ? 'amd64' : arch(),
          ...this.o.labels,
        },
      },
      spec: {},
      status: this.status(),
    };
    const created = await this.o.client.call<{ metadata: { uid: string } }>('POST', '/api/v1/nodes', {
      body,
    });
    if (!created.ok && created.status !== 409) {
      throw new Error(
        `cannot register node ${this.o.nodeName}: ${created.status} ${created.reason}: ${created.message}`,
      );
    }
    if (created.ok) this.uid = created.value.metadata.uid;
    // A create may drop status, and an existing node (a rerun) has an old one: write it.
    const patched = await this.patchStatus();
    if (!patched) throw new Error(`cannot write the status of node ${this.o.nodeName}`);
    await this.renewLease();
  }

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.o.heartbeatMs);
  }

  async stop(deleteNode: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (!deleteNode) return;
    const r = await this.o.client.call('DELETE', this.nodePath(), { timeoutMs: 10_000 });
    if (!r.ok && r.status !== 404)
      this.o.log.warn({ status: r.status, message: r.message }, 'node delete failed');
  }

  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      await this.renewLease();
      if (!(await this.patchStatus())) {
        this.o.log.info({ node: this.o.nodeName }, 'node missing: registering it again');
        await this.register();
      }
    } catch (err) {
      this.o.log.warn({ err }, 'node heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  /** False when the node does not exist; transient errors are logged and count as done. */
  private async patchStatus(): Promise<boolean> {
    const r = await this.o.client.call<{ metadata: { uid: string } }>('PATCH', `${this.nodePath()}/status`, {
      patch: 'strategic',
      body: { status: this.status() },
      timeoutMs: 10_000,
    });
    if (r.ok) {
      this.uid = r.value.metadata.uid;
      return true;
    }
    if (r.status === 404) return false;
    this.o.log.warn({ status: r.status, message: r.message }, 'node status heartbeat failed');
    return true;
  }

  private async renewLease(): Promise<void> {
    const path = `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases/${encodeURIComponent(this.o.nodeName)}`;
    // A conflict means our copy is stale: read it again; three tries per heartbeat.
    for (let attempt = 0; attempt < 3; attempt++) {
      if (!this.lease) {
        const got = await this.o.client.call<Lease>('GET', path, { timeoutMs: 10_000 });
        if (got.ok) this.lease = got.value;
        else if (got.status === 404) {
          const created = await this.o.client.call<Lease>(
            'POST',
            `/apis/coordination.k8s.io/v1/namespaces/${LEASE_NS}/leases`,
            {
              body: {
                apiVersion: 'coordination.k8s.io/v1',
                kind: 'Lease',
                metadata: {
                  name: this.o.nodeName,
                  namespace: LEASE_NS,
                  ...(this.uid
                    ? {
                        ownerReferences: [
                          { apiVersion: 'v1', kind: 'Node', name: this.o.nodeName, uid: this.uid },
                        ],
                      }
                    : {}),
                },
                spec: {
                  holderIdentity: this.o.nodeName,
                  leaseDurationSeconds: LEASE_DURATION_S,
                  renewTime: microTime(Date.now()),
                },
              },
              timeoutMs: 10_000,
            },
          );
          if (created.ok) {
            this.lease = created.value;
            return;
          }
          if (created.status !== 409) {
            this.o.log.warn({ status: created.status, message: created.message }, 'lease create failed');
            return;
          }
          continue;
        } else {
          this.o.log.warn({ status: got.status, message: got.message }, 'lease read failed');
          return;
        }
      }
      const lease = this.lease;
      const next: Lease = {
        ...lease,
        spec: {
          ...lease.spec,
          holderIdentity: this.o.nodeName,
          leaseDurationSeconds: LEASE_DURATION_S,
          renewTime: microTime(Date.now()),
        },
      };
      const put = await this.o.client.call<Lease>('PUT', path, { body: next, timeoutMs: 10_000 });
      if (put.ok) {
        this.lease = put.value;
        return;
      }
      this.lease = undefined;
      if (put.status !== 409 && put.status !== 404) {
        this.o.log.warn({ status: put.status, message: put.message }, 'lease renewal failed');
        return;
      }
    }
  }
}
