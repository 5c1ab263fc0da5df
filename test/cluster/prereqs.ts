// What a cluster suite needs on this machine, and what to do when it is missing. In CI a
// missing prerequisite fails the run (a suite that skips there proves nothing); outside CI
// the suite is skipped with a loud message.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BIN } from './config.ts';
import { ENV } from './proc.ts';

export type Tier = 'control-plane' | 'node';

function onPath(exe: string): boolean {
  return (ENV.PATH ?? '').split(delimiter).some((d) => {
    try {
      accessSync(join(d, exe), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

const INSTALL = 'run `sudo bash test/cluster/prereqs.sh`';

// Lists what is missing to build (go) and run the tier; empty means ready.
export function missingPrereqs(tier: Tier): string[] {
  const missing: string[] = [];
  const built = existsSync(BIN.etcd) && existsSync(join(BIN.kubernetes, 'kubectl'));
  if (!built && !onPath('go') && !existsSync('/usr/local/go/bin/go')) {
    missing.push('go >= 1.26 (to build Kubernetes; https://go.dev/dl/)');
  }
  if (!onPath('openssl')) missing.push(`openssl (${INSTALL})`);
  if (tier === 'node') {
    if (process.getuid?.() !== 0)
      missing.push('root (the kubelet, containerd and iptables need it; run as root)');
    for (const exe of ['containerd', 'ctr', 'runc', 'dockerd', 'docker', 'iptables', 'ip', 'gcc']) {
      if (!onPath(exe)) missing.push(`${exe} (${INSTALL})`);
    }
    if (!existsSync('/usr/lib/cni/bridge')) missing.push(`CNI plugins in /usr/lib/cni (${INSTALL})`);
    if (!existsSync('/bin/busybox')) missing.push(`busybox-static (${INSTALL})`);
  }
  return missing;
}

export function isCI(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

// The kubeconfig of a cluster the user brought (kind, a laptop cluster), if any.
export function externalKubeconfig(): string | undefined {
  return process.env.KUBECONFIG_E2E || process.env.KUBECONFIG || undefined;
}

// undefined: go ahead. A string: skip with that reason (outside CI only). Throws in CI.
export function checkTier(tier: Tier): string | undefined {
  if (externalKubeconfig()) return undefined;
  const missing = missingPrereqs(tier);
  if (!missing.length) return undefined;
  const msg = `cluster ${tier} tests need: ${missing.join('; ')}`;
  if (isCI()) throw new Error(msg);
  const banner = '!'.repeat(78);
  console.warn(`\n${banner}\nSKIPPING ${msg}\n${banner}\n`);
  return msg;
}
