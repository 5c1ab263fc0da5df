// Turning an HTTP response or a socket failure into a KubeError value. Pure.
import type { KubeError, KubeStatus } from './types.ts';

// Status reasons by HTTP code, for error bodies that are not a Status (a proxy's HTML
// page, an empty 503 from a load balancer).
const REASON_BY_CODE: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export function reasonForCode(code: number): string {
  return REASON_BY_CODE[code] ?? (code >= 500 ? 'InternalError' : 'Unknown');
}

function parseStatus(text: string): KubeStatus | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' && (v as KubeStatus).kind === 'Status' ? (v as KubeStatus) : undefined;
  } catch {
    return undefined;
  }
}

/** The error value of a non-2xx response with body text. */
export function errorFromResponse(status: number, text: string): KubeError {
  return errorFromStatus(status, parseStatus(text), text);
}

/** The error value of a Status object (an error response, or a watch ERROR event). */
export function errorFromStatus(status: number, s: KubeStatus | undefined, text = ''): KubeError {
  const code = s?.code || status;
  const err: KubeError = {
    ok: false,
    status: code,
    reason: s?.reason || reasonForCode(code),
    message: s?.message || text.slice(0, 500) || `HTTP ${code}`,
  };
  if (s?.details) err.details = s.details;
  return err;
}

/** A request that got no HTTP answer: refused, reset, timed out, or aborted by the caller. */
export function networkError(what: string, err: unknown, aborted: boolean): KubeError {
  if (aborted) return { ok: false, status: 0, reason: 'Aborted', message: `${what}: aborted` };
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  // undici wraps socket errors: the cause names the errno (ECONNREFUSED, ECONNRESET).
  const detail = [e?.code, e?.message, e?.cause?.code, e?.cause?.message].filter(Boolean).join(': ');
  return { ok: false, status: 0, reason: 'NetworkError', message: `${what}: ${detail || String(err)}` };
}
