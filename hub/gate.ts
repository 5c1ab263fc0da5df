// Metric gates: a PromQL instant query per cluster, judged against a threshold. The
// answer's parsing and judging are pure; query() is the one HTTP call.
import { CLUSTER_VARIABLE, type ThresholdOp } from './constants.ts';
import type { GateResult, GateStep } from './api/types.ts';

export interface GateQuery {
  cluster: string;
  /** The Prometheus base URL. */
  url: string;
  /** The query with $cluster replaced. */
  query: string;
}

export function gateQuery(gate: GateStep, cluster: string, url: string): GateQuery {
  return { cluster, url, query: gate.query.replaceAll(CLUSTER_VARIABLE, cluster) };
}

export function compare(value: number, op: ThresholdOp, bound: number): boolean {
  switch (op) {
    case '<':
      return value < bound;
    case '<=':
      return value <= bound;
    case '>':
      return value > bound;
    case '>=':
      return value >= bound;
  }
}

/** One number from a Prometheus /api/v1/query answer, or why there is none. */
export function answerValue(body: unknown): { value: number } | { message: string } {
  const b = body as {
    status?: string;
    error?: string;
    data?: { resultType?: string; result?: unknown };
  } | null;
  if (!b || typeof b !== 'object') return { message: 'Prometheus answered something that is not JSON' };
  if (b.status !== 'success') return { message: `Prometheus: ${b.error ?? b.status ?? 'no status'}` };
  const { resultType, result } = b.data ?? {};
  let raw: unknown;
  if (resultType === 'scalar') raw = (result as unknown[] | undefined)?.[1];
  else if (resultType === 'vector') {
    const v = (result as { value?: unknown[] }[] | undefined) ?? [];
    if (v.length === 0)
      return { message: 'no data: the query returned no series (add "or vector(0)" if none means 0)' };
    if (v.length > 1)
      return {
        message: `${v.length} series: the query must return one number (aggregate it, e.g. sum(...))`,
      };
    raw = v[0]?.value?.[1];
  } else
    return { message: `a ${resultType ?? 'missing'} result: the query must return a scalar or one series` };
  const value = typeof raw === 'string' ? Number(raw) : NaN;
  if (!Number.isFinite(value)) return { message: `the value is ${String(raw)}, not a number` };
  return { value };
}

/** The result of one cluster's query: the answer judged against the gate's threshold. */
export function judge(
  gate: GateStep,
  cluster: string,
  answer: { value: number } | { message: string },
  at: string,
): GateResult {
  if ('message' in answer) return { cluster, passed: false, at, message: answer.message };
  const { op, value: bound } = gate.threshold;
  const passed = compare(answer.value, op, bound);
  return {
    cluster,
    value: answer.value,
    passed,
    at,
    ...(passed ? {} : { message: `${answer.value} ${op} ${bound} does not hold` }),
  };
}

/** Asks Prometheus; never throws: a failed request is an answer with a message. */
export async function query(
  q: GateQuery,
  timeoutMs: number,
): Promise<{ value: number } | { message: string }> {
  const url = `${q.url.replace(/\/+$/, '')}/api/v1/query?${new URLSearchParams({ query: q.query })}`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { message: `Prometheus at ${q.url}: HTTP ${res.status}: ${text.slice(0, 200)}` };
    }
    return answerValue(body);
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `no answer in ${timeoutMs} ms` : (e.cause?.message ?? e.message);
    return { message: `Prometheus at ${q.url}: ${why}` };
  }
}
