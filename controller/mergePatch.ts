// RFC 7386 merge patch from `prev` to `next`: fields gone from `next` become null (a plain
// merge patch of `next` alone would leave them behind), lists are replaced whole.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function mergePatch(prev: unknown, next: unknown): Json | undefined {
  if (!isObject(prev) || !isObject(next)) {
    return JSON.stringify(prev) === JSON.stringify(next) ? undefined : ((next ?? null) as Json);
  }
  const out: Record<string, Json> = {};
  for (const k of Object.keys(prev)) {
    if (next[k] === undefined && prev[k] !== undefined) out[k] = null;
  }
  for (const [k, v] of Object.entries(next)) {
    if (v === undefined) continue;
    const d = mergePatch(prev[k], v);
    if (d !== undefined) out[k] = d;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
