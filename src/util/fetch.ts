// fetch() whose failures say what failed and why. Node's fetch throws "fetch failed" with the reason in
// `cause` (DNS, refused, reset, TLS); browsers throw "Failed to fetch" and hide the reason on purpose, so
// the message lists what it can be there (offline, unreachable, or a cross-origin request refused: CORS).
// Browser-safe.

export class FetchError extends Error {
  constructor(
    readonly url: string,
    readonly reason: string,
    /** the HTTP status when the server answered */
    readonly status?: number,
  ) {
    super(`GET ${url}: ${reason}`);
    this.name = 'FetchError';
  }
}

const CAUSES: Record<string, string> = {
  ENOTFOUND: 'DNS lookup failed: no such host',
  EAI_AGAIN: 'DNS lookup failed (temporary: no network or no DNS server?)',
  ECONNREFUSED: 'connection refused (nothing listens at that address and port)',
  ECONNRESET: 'connection reset by the server',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_SOCKET: 'the connection closed unexpectedly',
};

/** Why a fetch() threw, in words: from Node's cause code, or the browser's possibilities. */
export function fetchFailureReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  if (code && CAUSES[code]) return `${CAUSES[code]} (${code})`;
  if (code && /CERT|TLS|SSL/.test(code)) return `TLS certificate problem (${code})`;
  if (typeof cause?.message === 'string' && cause.message !== '') return `network error: ${cause.message}`;
  const message = e instanceof Error ? e.message : String(e);
  const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
  if (offline) return `network error (${message}): the browser is offline`;
  return `network error (${message}): the host is unreachable, or the server does not allow this page to read it (CORS)`;
}

/** A failed HTTP answer as an error naming the URL and the status. */
export function httpError(url: string, res: Response, hint = ''): FetchError {
  return new FetchError(url, `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}${hint}`, res.status);
}

/** fetch(), with a network failure turned into a FetchError (an abort is passed through as it is). */
export async function fetchOrExplain(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    if (init?.signal?.aborted) throw e;
    throw new FetchError(url, fetchFailureReason(e));
  }
}
