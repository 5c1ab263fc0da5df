// Leaves the machine as it was: stops a cluster's daemons by PID, unmounts what the
// kubelet and containerd mounted under the state dir, and (node tier) removes the CNI
// bridge, leftover pod network namespaces, iptables chains, cgroups and restores sysctls.
import { existsSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE, k8sBin } from './config.ts';
import { readDaemons, run, stopDaemons } from './proc.ts';

// Mount points under dir, deepest first (from /proc/self/mountinfo; octal escapes kept
// as they appear there, which is what umount accepts after decoding).
function mountsUnder(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const path = mp.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(`${dir}/`)) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

export async function unmountUnder(dir: string): Promise<void> {
  // Repeat: a bind mount can be stacked on itself (the kubelet makes its root dir shared).
  for (let i = 0; i < 5; i++) {
    const mps = mountsUnder(dir);
    if (!mps.length) return;
    for (const mp of mps)
      await run('umount', [mp]).catch(() => run('umount', ['-l', mp]).catch(() => undefined));
  }
  const left = mountsUnder(dir);
  if (left.length) throw new Error(`could not unmount: ${left.join(', ')}`);
}

// Sysctls the kubelet and kube-proxy change: saved before the node starts, restored after.
export const TOUCHED_SYSCTLS = [
  'net/bridge/bridge-nf-call-iptables',
  'net/ipv4/ip_forward',
  'vm/overcommit_memory',
  'vm/panic_on_oom',
  'kernel/panic',
  'kernel/panic_on_oops',
  'kernel/keys/root_maxkeys',
  'kernel/keys/root_maxbytes',
  'net/ipv4/conf/all/route_localnet',
];
export function saveSysctls(file: string): void {
  const saved: Record<string, string> = {};
  for (const s of TOUCHED_SYSCTLS) {
    const p = `/proc/sys/${s}`;
    if (existsSync(p)) saved[s] = readFileSync(p, 'utf8').trim();
  }
  writeFileSync(file, JSON.stringify(saved, null, 2));
}
function restoreSysctls(file: string): void {
  if (!existsSync(file)) return;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  for (const [s, v] of Object.entries(saved)) {
    try {
      if (readFileSync(`/proc/sys/${s}`, 'utf8').trim() !== v) writeFileSync(`/proc/sys/${s}`, v);
    } catch {
      // A sysctl that vanished (module unloaded) needs no restoring.
    }
  }
}

// Removes every rule jumping to, and every chain named, KUBE-* (kube-proxy, kubelet) or
// CNI-* (CNI plugins), in one iptables-restore --noflush per family and table, so quoted
// comments in rules need no shell parsing.
const OUR_CHAIN = /^(KUBE-|CNI-)/;
export async function cleanIptables(): Promise<void> {
  for (const fam of ['iptables', 'ip6tables']) {
    let save: string;
    try {
      save = (await run(`${fam}-save`, [])).stdout;
    } catch {
      continue; // no such family/binary: nothing of ours there
    }
    let table = '';
    const perTable = new Map<string, { chains: string[]; dels: string[] }>();
    for (const line of save.split('\n')) {
      if (line.startsWith('*')) {
        table = line.slice(1);
        perTable.set(table, { chains: [], dels: [] });
        continue;
      }
      const t = perTable.get(table);
      if (!t) continue;
      const chain = /^:(\S+)/.exec(line)?.[1];
      if (chain && OUR_CHAIN.test(chain)) t.chains.push(chain);
      const rule = /^-A (\S+) (.*)$/.exec(line);
      if (rule?.[1] && !OUR_CHAIN.test(rule[1]) && / -[jg] (KUBE-|CNI-)/.test(` ${rule[2]}`)) {
        t.dels.push(`-D ${rule[1]} ${rule[2]}`);
      }
    }
    const script: string[] = [];
    for (const [name, t] of perTable) {
      if (!t.chains.length && !t.dels.length) continue;
      script.push(
        `*${name}`,
        ...t.dels,
        ...t.chains.map((c) => `-F ${c}`),
        ...t.chains.map((c) => `-X ${c}`),
        'COMMIT',
      );
    }
    if (script.length) await run(`${fam}-restore`, ['--noflush'], { input: `${script.join('\n')}\n` });
  }
}

// iptables-nft creates a table (ip nat, ip6 filter...) the first time a rule goes in, and
// deleting the rules leaves it empty. Remember which tables existed before the node
// started; afterwards delete the new ones if they are empty. Needs `nft` (nftables).
export async function saveNftTables(file: string): Promise<void> {
  const tables = await run('nft', ['list', 'tables']).then(
    (r) => r.stdout,
    () => undefined,
  );
  if (tables !== undefined) writeFileSync(file, tables);
}
async function removeNewEmptyTables(file: string): Promise<void> {
  if (!existsSync(file)) return;
  const before = new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
  const now = await run('nft', ['list', 'tables']).then(
    (r) => r.stdout.split('\n').filter(Boolean),
    () => [],
  );
  for (const line of now.filter((l) => !before.has(l))) {
    const m = /^table (ip6?) (\S+)$/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const save = await run(m[1] === 'ip' ? 'iptables-save' : 'ip6tables-save', ['-t', m[2]]).catch(
      () => undefined,
    );
    // Empty: no rules and no user-defined chains (those are listed with policy "-").
    if (save && !/^(-A |:\S+ - )/m.test(save.stdout)) {
      await run('nft', ['delete', 'table', m[1], m[2]]).catch(() => undefined);
    }
  }
}

// Pod network namespaces containerd made for sandboxes that were not torn down (only if
// they hold an address from our range, so another runtime's are never touched).
async function cleanNetns(): Promise<void> {
  const dir = '/var/run/netns';
  if (!existsSync(dir)) return;
  for (const ns of readdirSync(dir).filter((n) => n.startsWith('cni-'))) {
    const addrs = await run('ip', ['-n', ns, '-4', '-o', 'addr']).catch(() => ({ stdout: '' }));
    if (addrs.stdout.includes(' 198.18.')) await run('ip', ['netns', 'delete', ns]).catch(() => undefined);
  }
}

function rmCgroupTree(path: string): void {
  if (!existsSync(path)) return;
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isDirectory()) rmCgroupTree(join(path, e.name));
  }
  try {
    rmdirSync(path);
  } catch {
    // still has tasks (should not happen after the daemons stopped); left for the next run
  }
}
export function cleanCgroups(root: string): void {
  if (!existsSync('/sys/fs/cgroup')) return;
  for (const ctrl of readdirSync('/sys/fs/cgroup')) rmCgroupTree(join('/sys/fs/cgroup', ctrl, root));
}

// Runtime dirs containerd's shims and dockerd create with fixed paths; removed only when
// empty, so another runtime's state is never touched.
const RUNTIME_DIRS = [
  '/run/containerd/runc/k8s.io',
  '/run/containerd/runc',
  '/run/containerd/fifo',
  '/run/containerd/s',
  '/run/containerd',
  '/run/docker/plugins',
  '/run/docker',
];
function removeEmptyRuntimeDirs(): void {
  for (const d of RUNTIME_DIRS) {
    try {
      rmdirSync(d);
    } catch {
      // missing or in use
    }
  }
}

export async function cleanNetwork(): Promise<void> {
  await cleanNetns();
  await run('ip', ['link', 'del', BRIDGE]).catch(() => undefined);
  if (existsSync(k8sBin('kube-proxy'))) {
    await run(k8sBin('kube-proxy'), ['--cleanup', '--v=0']).catch(() => undefined);
  }
  await cleanIptables();
}

// Everything a previous run of this cluster name may have left: safe to call on a clean dir.
export async function cleanupStaleState(dir: string, opts: { node?: boolean } = {}): Promise<void> {
  if (readDaemons(dir).length) await stopDaemons(dir);
  if (existsSync(dir)) await unmountUnder(dir);
  if (opts.node) {
    await cleanNetwork();
    await removeNewEmptyTables(join(dir, 'nft-tables.txt'));
    cleanCgroups(CGROUP_ROOT);
    removeEmptyRuntimeDirs();
    restoreSysctls(join(dir, 'sysctls.json'));
  }
}

// The kubelet's cgroupRoot: everything the node's pods use lives under it.
export const CGROUP_ROOT = 'hotupgrade';
