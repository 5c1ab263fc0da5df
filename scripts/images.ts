// `npm run images`: builds the project's images from the repository's Dockerfile, the way
// a user would (`docker build --target controller .`), against local stand-ins of its
// public base images (this machine cannot pull), then imports them into a containerd
// and/or writes them as tar files. The e2e suite and the demo call buildProjectImages().
// The docker work is test/cluster/images.sh's, run once for the whole set (one dockerd
// start); what to run is decided here by pure functions. See docs/images.md.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ENV as SBIN_ENV } from '../test/cluster/proc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const IMAGES_SH = join(ROOT, 'test/cluster/images.sh');

export const DEFAULT_REGISTRY = 'hotupgrade.local';
export const DEFAULT_TAG = 'dev';

/** The public base images the Dockerfile names (ARGs NODE_IMAGE and RUNTIME_IMAGE), made locally. */
export const BASE_IMAGES = ['node:24-bookworm-slim', 'gcr.io/distroless/nodejs24-debian12:nonroot'] as const;

/** One image of the set: its name for `only`, the Dockerfile target and the build args. */
export interface ImageSpec {
  /** "controller", "demo:v1", ...: the reference without the registry, and the tag for the demo images. */
  name: string;
  target: string;
  ref: string;
  buildArgs: Record<string, string>;
}

/** The references of the whole set, whether or not this run built them. */
export interface ProjectImageRefs {
  controller: string;
  sidecar: string;
  placeholder: string;
  /** Same code, distinct image IDs (build arg DEMO_BUILD); `crash` exits 1 at start. */
  demo: { v1: string; v2: string; v3: string; crash: string };
  /** The demo with the launcher as entrypoint, for binary mode. */
  demoBinary: { v1: string; v2: string; v3: string };
}

export interface BuiltImage {
  name: string;
  ref: string;
  /** sha256:... */
  id: string;
  /** Uncompressed, base layers included (what `docker images` shows), in bytes. */
  sizeBytes: number;
  /** Wall time of its docker build, in ms (a cache hit is well under a second). */
  buildMs: number;
}

export interface ProjectImages extends ProjectImageRefs {
  /** The images this call built, in build order. */
  built: BuiltImage[];
  /** The local base images (name, id, size). */
  bases: { ref: string; id: string; sizeBytes: number }[];
  /** With `saveDir`: the one tar file (`docker save` format) holding every image built. */
  archive?: string;
  /** Wall time of the whole call, in ms. */
  ms: number;
}

export interface BuildOptions {
  /** Registry and path the references start with (default hotupgrade.local). */
  registry?: string;
  /** Tag of controller, sidecar and placeholder (default dev); the demo tags are fixed. */
  tag?: string;
  /** Import every image into this containerd (namespace k8s.io). */
  containerdSocket?: string;
  /** Write the images into DIR/hotupgrade-images-<tag>.tar, one `docker save` archive (shared layers once). */
  saveDir?: string;
  /** A command that gets that archive as its last argument, e.g. `kind load image-archive --name e2e`. */
  loader?: string;
  /** Names ("controller", "demo" for demo:v1..v3 and demo:crash, "demo:v2", "demo-binary"); default all. */
  only?: string[];
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
}

// A registry host[:port] with an optional path, lowercase as image references require.
const REGISTRY_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function imageRefs(registry = DEFAULT_REGISTRY, tag = DEFAULT_TAG): ProjectImageRefs {
  return {
    controller: `${registry}/controller:${tag}`,
    sidecar: `${registry}/sidecar:${tag}`,
    placeholder: `${registry}/placeholder:${tag}`,
    demo: {
      v1: `${registry}/demo:v1`,
      v2: `${registry}/demo:v2`,
      v3: `${registry}/demo:v3`,
      crash: `${registry}/demo:crash`,
    },
    demoBinary: {
      v1: `${registry}/demo-binary:v1`,
      v2: `${registry}/demo-binary:v2`,
      v3: `${registry}/demo-binary:v3`,
    },
  };
}

/** Every image of the set, in build order. Throws on a registry or tag docker would refuse. */
export function imageSpecs(registry = DEFAULT_REGISTRY, tag = DEFAULT_TAG): ImageSpec[] {
  if (!REGISTRY_RE.test(registry))
    throw new Error(
      `--registry must be a lowercase host[:port][/path] such as localhost:5000/team, got "${registry}"`,
    );
  if (!TAG_RE.test(tag))
    throw new Error(`--tag must be 1-128 of [A-Za-z0-9_.-], not starting with . or -, got "${tag}"`);
  const refs = imageRefs(registry, tag);
  const spec = (name: string, target: string, ref: string, buildArgs: Record<string, string>): ImageSpec => ({
    name,
    target,
    ref,
    buildArgs,
  });
  return [
    spec('controller', 'controller', refs.controller, { VERSION: tag }),
    spec('sidecar', 'sidecar', refs.sidecar, { VERSION: tag }),
    spec('placeholder', 'placeholder', refs.placeholder, { VERSION: tag }),
    ...(['v1', 'v2', 'v3'] as const).map((v) =>
      spec(`demo:${v}`, 'demo', refs.demo[v], { VERSION: v, DEMO_BUILD: v }),
    ),
    spec('demo:crash', 'demo-crash', refs.demo.crash, { VERSION: 'crash', DEMO_BUILD: 'crash' }),
    ...(['v1', 'v2', 'v3'] as const).map((v) =>
      spec(`demo-binary:${v}`, 'demo-binary', refs.demoBinary[v], { VERSION: v, DEMO_BUILD: v }),
    ),
  ];
}

/** The specs `only` names: a full name ("demo:v2") or a repository ("demo": all its tags). */
export function selectImages(specs: ImageSpec[], only: string[] | undefined): ImageSpec[] {
  if (!only || only.length === 0) return specs;
  const repo = (s: ImageSpec): string => s.name.split(':')[0] as string;
  for (const o of only) {
    if (!specs.some((s) => s.name === o || repo(s) === o)) {
      const names = [...new Set(specs.flatMap((s) => [repo(s), s.name]))].join(', ');
      throw new Error(`--only: no image "${o}"; the images are ${names}`);
    }
  }
  return specs.filter((s) => only.includes(s.name) || only.includes(repo(s)));
}

/** The archive `saveDir` gets. */
export function archiveName(tag: string): string {
  return `hotupgrade-images-${tag}.tar`;
}

/**
 * The arguments of the one images.sh run: bases, builds (each with its size line), then
 * one import and one archive of all the images: a single `docker save` stream carries
 * their shared layers once (10 images: 8 s and 182 MB, against 80 s and 1.8 GB one by one).
 */
export function imagesShArgs(
  specs: ImageSpec[],
  o: { containerdSocket?: string; archive?: string; context: string },
): string[] {
  const args = o.containerdSocket ? ['--containerd', o.containerdSocket] : [];
  args.push('base-node');
  for (const b of BASE_IMAGES) args.push('info', b);
  for (const s of specs) {
    // host network: the Dockerfile's `npm ci` reaches the registry (a cache hit needs nothing).
    args.push('build', '--network', 'host', '--target', s.target);
    for (const [k, v] of Object.entries(s.buildArgs)) args.push('--build-arg', `${k}=${v}`);
    args.push(s.ref, o.context, 'info', s.ref);
  }
  const all = specs.map((s) => s.ref).join(',');
  if (o.containerdSocket) args.push('import', all);
  if (o.archive) args.push('save', all, o.archive);
  return args;
}

/** images.sh `info` lines: "REF<TAB>ID<TAB>SIZE". */
export function parseInfo(stdout: string): Map<string, { id: string; sizeBytes: number }> {
  const out = new Map<string, { id: string; sizeBytes: number }>();
  for (const line of stdout.split('\n')) {
    const [ref, id, size] = line.split('\t');
    if (ref && id && size && /^\d+$/.test(size)) out.set(ref, { id, sizeBytes: Number(size) });
  }
  return out;
}

/** images.sh log lines "built REF in N ms" -> build time per reference. */
export function parseBuildTimes(lines: string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines) {
    const m = / built (\S+) in (\d+) ms$/.exec(line);
    if (m) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

/** Runs images.sh, passing its log lines on as they come; rejects with its last lines. */
function runImagesSh(
  args: string[],
  log: (line: string) => void,
): Promise<{ stdout: string; lines: string[] }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('bash', [IMAGES_SH, ...args], { env: SBIN_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let partial = '';
    const lines: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      for (const l of parts) {
        lines.push(l);
        log(l);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (partial) lines.push(partial);
      if (code === 0) return resolvePromise({ stdout, lines });
      const errors = lines.filter((l) => l.includes('ERROR:'));
      const why = (errors.length ? errors : lines.slice(-15)).join('\n');
      reject(new Error(`building the images failed (test/cluster/images.sh exited ${code}):\n${why}`));
    });
  });
}

export async function buildProjectImages(o: BuildOptions = {}): Promise<ProjectImages> {
  const t0 = Date.now();
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const registry = o.registry ?? DEFAULT_REGISTRY;
  const tag = o.tag ?? DEFAULT_TAG;
  const specs = selectImages(imageSpecs(registry, tag), o.only);
  if (process.getuid?.() !== 0) {
    throw new Error(
      'building the images needs root (it starts its own dockerd and runs debootstrap): sudo -E npm run images',
    );
  }
  const tmpSave = o.loader && !o.saveDir ? mkdtempSync(join(tmpdir(), 'hotupgrade-images-')) : undefined;
  const saveDir = o.saveDir ? resolve(o.saveDir) : tmpSave;
  const archive = saveDir ? join(saveDir, archiveName(tag)) : undefined;
  try {
    if (saveDir) mkdirSync(saveDir, { recursive: true });
    const args = imagesShArgs(specs, {
      ...(o.containerdSocket ? { containerdSocket: o.containerdSocket } : {}),
      ...(archive ? { archive } : {}),
      context: ROOT,
    });
    const { stdout, lines } = await runImagesSh(args, log);
    const info = parseInfo(stdout);
    const times = parseBuildTimes(lines);
    const built: BuiltImage[] = specs.map((s) => {
      const i = info.get(s.ref);
      if (!i) throw new Error(`images.sh built ${s.ref} but printed no info line for it`);
      return { name: s.name, ref: s.ref, ...i, buildMs: times.get(s.ref) ?? 0 };
    });
    if (o.loader && archive) {
      log(`${o.loader} ${archive}`);
      await runShell(`${o.loader} "$1"`, archive);
    }
    const bases = BASE_IMAGES.flatMap((ref) => {
      const i = info.get(ref);
      return i ? [{ ref, ...i }] : [];
    });
    return {
      ...imageRefs(registry, tag),
      built,
      bases,
      ...(archive && !tmpSave ? { archive } : {}),
      ms: Date.now() - t0,
    };
  } finally {
    if (tmpSave) rmSync(tmpSave, { recursive: true, force: true });
  }
}

function runShell(script: string, arg: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('sh', ['-c', script, 'sh', arg], {
      env: SBIN_ENV,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`image loader failed (exit ${code}): ${script} ${arg}`)),
    );
  });
}

export const USAGE = `usage: npm run images -- [options]
Builds the project's images from the Dockerfile (targets controller, sidecar, placeholder,
demo, demo-crash, demo-binary) against local stand-ins of its base images; see docs/images.md.
  --registry REG      references start with REG (default ${DEFAULT_REGISTRY})
  --tag TAG           tag of controller, sidecar, placeholder (default ${DEFAULT_TAG}); the demo
                      images are demo:v1, v2, v3, demo:crash and demo-binary:v1, v2, v3
  --containerd SOCK   import them into this containerd (namespace k8s.io)
  --save DIR          write them into one archive, DIR/hotupgrade-images-TAG.tar (docker load -i)
  --loader CMD        run CMD ARCHIVE with such an archive (e.g. "kind load image-archive")
  --only NAMES        comma-separated: controller, sidecar, placeholder, demo, demo:v2, demo-binary...
  -h, --help          this text
Needs root, docker.io, debootstrap (bash test/cluster/prereqs.sh) and the npm registry.`;

/** The CLI's options, or "help"; throws with the flag's name on a bad one. */
export function parseCli(argv: string[]): BuildOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      registry: { type: 'string' },
      tag: { type: 'string' },
      containerd: { type: 'string' },
      save: { type: 'string' },
      loader: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const o: BuildOptions = {};
  if (values.registry !== undefined) o.registry = values.registry;
  if (values.tag !== undefined) o.tag = values.tag;
  if (values.containerd !== undefined) o.containerdSocket = values.containerd;
  if (values.save !== undefined) o.saveDir = values.save;
  if (values.loader !== undefined) o.loader = values.loader;
  if (values.only !== undefined) o.only = values.only.split(',').filter(Boolean);
  return o;
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The summary the CLI prints. */
export function summary(r: ProjectImages, o: BuildOptions): string {
  const width = Math.max(...[...r.bases, ...r.built].map((i) => i.ref.length));
  const rows = [
    ...r.bases.map((b) => `  ${b.ref.padEnd(width)}  ${mb(b.sizeBytes).padStart(9)}  (local base)`),
    ...r.built.map(
      (i) =>
        `  ${i.ref.padEnd(width)}  ${mb(i.sizeBytes).padStart(9)}  build ${secs(i.buildMs).padStart(6)}  ${i.id.slice(0, 19)}`,
    ),
  ];
  const where = [
    o.containerdSocket ? `imported into containerd ${o.containerdSocket}` : '',
    r.archive ? `saved in ${r.archive}` : '',
    o.loader ? `loaded with ${o.loader}` : '',
  ].filter(Boolean);
  return [
    `built ${r.built.length} image${r.built.length === 1 ? '' : 's'} in ${secs(r.ms)} (sizes uncompressed, the shared base and dependency layers counted in each)`,
    ...rows,
    ...where,
  ].join('\n');
}

async function main(): Promise<void> {
  let o: BuildOptions | 'help';
  try {
    o = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`images: ${(err as Error).message}\n\n${USAGE}`);
    process.exit(64);
  }
  if (o === 'help') {
    console.log(USAGE);
    return;
  }
  const r = await buildProjectImages(o);
  console.log(summary(r, o));
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(`images: ${(err as Error).message}`);
    process.exit(1);
  });
}
