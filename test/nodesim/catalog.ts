// Image catalogs for this repository's programs: the demo server under any version tag,
// the placeholder and the sidecar, run from the source tree with this Node.
import { fileURLToPath } from 'node:url';
import type { ImageBehaviour } from './runtime.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export const PROJECT_IMAGES = {
  demo: 'hotupgrade.local/demo',
  placeholder: 'hotupgrade.local/placeholder:dev',
  sidecar: 'hotupgrade.local/sidecar:dev',
} as const;

export interface CatalogOptions {
  /** Tags of hotupgrade.local/demo that exist (default v1..v5). */
  demoVersions?: string[];
  placeholderImage?: string;
  sidecarImage?: string;
  /** Extra env for every demo container (e.g. DEMO_SESSIONS). */
  demoEnv?: Record<string, string>;
}

const node = (file: string, env?: Record<string, string>): ImageBehaviour => ({
  run: { argv: ['node', `${REPO}${file}`], ...(env ? { env } : {}) },
});

/** demo:<v> runs demo/server.ts, the placeholder image placeholder/main.ts, the sidecar image sidecar/server.ts. */
export function projectCatalog(o: CatalogOptions = {}): Record<string, ImageBehaviour> {
  const images: Record<string, ImageBehaviour> = {
    [o.placeholderImage ?? PROJECT_IMAGES.placeholder]: node('placeholder/main.ts'),
    [o.sidecarImage ?? PROJECT_IMAGES.sidecar]: node('sidecar/server.ts'),
  };
  for (const v of o.demoVersions ?? ['v1', 'v2', 'v3', 'v4', 'v5']) {
    images[`${PROJECT_IMAGES.demo}:${v}`] = node('demo/server.ts', o.demoEnv);
  }
  return images;
}
