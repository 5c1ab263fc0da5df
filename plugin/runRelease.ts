// `release`: creates a HotRelease from flags or a file, prints what was created (or what
// the API server refused, as it said it), and notes member clusters that do not exist.
import { dumpYaml } from '@kubernetes/client-node';
import type { HotRelease } from '../hub/api/types.ts';
import type { Invocation } from './args.ts';
import { createHr, getMemberCluster, listMemberClusters, type Cluster } from './client.ts';
import { EXIT, type ExitCode } from './constants.ts';
import { apiFailure } from './errors.ts';
import { renderCreated } from './releaseRender.ts';
import { placeRelease, readRelease, selectorString } from './releaseSpec.ts';
import { fail, type Io } from './run.ts';

export type ReleaseInvocation = Extract<Invocation, { command: 'release' }>;

/** Reads the text of a file, or of stdin for "-"; throws with the reason. */
export type ReadText = (path: string) => Promise<string>;

/** What the hub will say about clusters the release names but that do not exist (yet). */
async function clusterNotes(c: Cluster, hr: HotRelease): Promise<string[]> {
  const { names, selector } = hr.spec.clusters;
  if (names) {
    const missing: string[] = [];
    for (const n of names) {
      const r = await getMemberCluster(c, n);
      // Not allowed to look, or no MemberCluster CRD: nothing to say.
      if (!r.ok && r.status === 404 && r.details?.name === n) missing.push(n);
    }
    return missing.length
      ? [
          `no MemberCluster ${missing.join(', ')} on this hub (kubectl get memberclusters): the release waits (phase Paused, Degraded/InvalidSpec) until ${missing.length === 1 ? 'it exists' : 'they exist'}`,
        ]
      : [];
  }
  if (selector) {
    const sel = selectorString(selector);
    const r = await listMemberClusters(c, sel);
    if (r.ok && r.body.length === 0) {
      return [
        `no MemberCluster matches ${sel === '' ? 'the empty selector' : `the selector ${sel}`} yet: the release waits (phase Paused, Degraded/InvalidSpec) until one does`,
      ];
    }
  }
  return [];
}

/**
 * The object to print: without managedFields (as kubectl prints it); after a dry run also
 * without the fields the API server fills in on create, so that the output is a file
 * `release -f` takes.
 */
function printable(hr: HotRelease, dryRun: boolean): HotRelease {
  const { managedFields: _m, ...metadata } = hr.metadata;
  if (!dryRun) return { ...hr, metadata };
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, generation: _g, ...given } = metadata;
  return { ...hr, metadata: given };
}

export async function runRelease(
  c: Cluster,
  inv: ReleaseInvocation,
  io: Io,
  readText: ReadText,
): Promise<ExitCode> {
  let hr: HotRelease;
  if (inv.source.from === 'flags') hr = inv.source.release;
  else {
    const source = inv.source.path === '-' ? 'stdin' : inv.source.path;
    let text: string;
    try {
      text = await readText(inv.source.path);
    } catch (e) {
      return fail(io, {
        code: EXIT.usage,
        message: `-f ${inv.source.path}: cannot read it: ${(e as Error).message}`,
      });
    }
    const r = readRelease(text, source);
    if (!r.ok) return fail(io, { code: EXIT.usage, message: r.message });
    hr = r.release;
  }
  const placed = placeRelease(hr, c.namespace, inv.conn.namespace !== undefined);
  if (!placed.ok) return fail(io, { code: EXIT.usage, message: placed.message });
  hr = placed.release;
  const name = hr.metadata.name ?? '';
  const namespace = hr.metadata.namespace ?? c.namespace;
  const what = `hotrelease/${name}`;

  const w = await createHr(c, hr, inv.dryRun);
  if (!w.ok) {
    // The object as given is invalid (the schema, a CEL rule, an unknown field): a usage
    // error, with the API server's message as it is.
    if (w.status === 422 || w.reason === 'Invalid' || w.status === 400) {
      return fail(io, { code: EXIT.usage, message: `the API server rejected ${what}: ${w.message}` });
    }
    return fail(
      io,
      apiFailure(w, {
        what,
        name,
        namespace,
        server: c.server,
        context: c.context,
        plural: 'hotreleases',
        show: `kubectl hotupgrade status hr/${name} -n ${namespace}`,
      }),
    );
  }
  const created = printable(w.body, inv.dryRun);
  if (inv.output === 'json') io.out(JSON.stringify(created, null, 2));
  else if (inv.output === 'yaml') io.out(dumpYaml(created).trimEnd());
  else io.out(renderCreated(created, inv.dryRun).join('\n'));
  for (const n of await clusterNotes(c, created)) io.err(`note: ${n}`);
  return EXIT.ok;
}
