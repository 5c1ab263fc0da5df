// Command line for humans and CI: `node test/cluster/cli.ts up|down [--control-plane] [name]`.
// `npm run cluster:up` / `cluster:down` reach it through up.sh / down.sh.
import { parseArgs } from 'node:util';
import { startControlPlane, stopControlPlane } from './controlplane.ts';
import { startNode, stopNode } from './node.ts';
import { missingPrereqs } from './prereqs.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { 'control-plane': { type: 'boolean', default: false } },
});
const [cmd, nameArg] = positionals;
const name = nameArg ?? (values['control-plane'] ? 'dev-cp' : 'dev');

async function main(): Promise<void> {
  if (cmd === 'up') {
    const missing = missingPrereqs(values['control-plane'] ? 'control-plane' : 'node');
    if (missing.length) throw new Error(`missing: ${missing.join('; ')}`);
    const c = values['control-plane'] ? await startControlPlane({ name }) : await startNode({ name });
    console.log(`\ncluster "${name}" is up (Kubernetes ${c.server}).\n  export KUBECONFIG=${c.kubeconfig}\n`);
    console.log(c.kubeconfig);
  } else if (cmd === 'down') {
    if (values['control-plane']) await stopControlPlane(name);
    else await stopNode(name);
  } else {
    throw new Error('usage: cli.ts up|down [--control-plane] [name]');
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
