// The one module that talks HTTP to /v1/: adds the token, refreshes it, and
// turns problems into field errors. Tokens live in this module's memory only.
/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('../types/app').Method} Method */
/** @typedef {Schemas['Problem']} Problem */

export const SESSION_ENDED = 'urn:casework:problem:session-ended';

/** @type {{access: string, refresh: string} | null} */
let tokens = null;
/** @type {(refresh: string) => void} */
let onRefreshed = () => {};
/** @type {(problem: Problem) => void} */
let onSessionEnded = () => {};

/** An answer that is not a success: the problem, and whether the network failed. */
export class ApiError extends Error {
  /**
   * @param {number} status 0 when the request never reached the server
   * @param {Problem} problem
   */
  constructor(status, problem) {
    super(problem.title);
    this.status = status;
    this.problem = problem;
  }
  get offline() {
    return this.status === 0;
  }
}

/**
 * @param {{access: string, refresh: string} | null} t
 */
export function setTokens(t) {
  tokens = t;
}
export function signedIn() {
  return tokens !== null;
}
/**
 * @param {{refreshed?: (refresh: string) => void, sessionEnded?: (p: Problem) => void}} hooks
 */
export function onAuth(hooks) {
  if (hooks.refreshed) onRefreshed = hooks.refreshed;
  if (hooks.sessionEnded) onSessionEnded = hooks.sessionEnded;
}

/**
 * @param {number} status
 * @param {string} title
 * @returns {Problem}
 */
function localProblem(status, title) {
  return { type: 'about:blank', title, status, errors: [] };
}

/**
 * Calls one operation of the spec, typed by method and path.
 * @template {Method} M
 * @template {import('../types/app').PathFor<M>} P
 * @param {M} method
 * @param {P} path the spec's path, e.g. `/v1/patrons/{id}`
 * @param {{
 *   params?: import('../types/app').ParamsOf<P, M>,
 *   query?: import('../types/app').QueryOf<P, M>,
 *   body?: import('../types/app').BodyOf<P, M>,
 *   headers?: Record<string, string>,
 *   auth?: boolean,
 * }} [opts]
 * @returns {Promise<import('../types/app').OkOf<P, M>>}
 */
export async function api(method, path, opts = {}) {
  const params = /** @type {Record<string, string>} */ (opts.params ?? {});
  let url = String(path).replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(params[k]));
  const query = /** @type {Record<string, unknown>} */ (opts.query ?? {});
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) qs.set(k, String(v));
  if ([...qs].length) url += '?' + qs;
  const send = () => {
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json, application/problem+json', ...(opts.headers ?? {}) };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    if (opts.auth !== false && tokens) headers.authorization = `Bearer ${tokens.access}`;
    return fetch(url, {
      method: method.toUpperCase(),
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      cache: 'no-store',
      credentials: 'omit',
    });
  };
  let res;
  try {
    res = await send();
    if (res.status === 401 && opts.auth !== false && tokens) {
      const problem = await problemOf(res);
      if (problem.type === SESSION_ENDED) throw ended(problem);
      if (await refresh()) res = await send();
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, localProblem(0, 'offline'));
  }
  if (res.ok) {
    if (res.status === 204) return /** @type {any} */ (undefined);
    return /** @type {any} */ (await res.json());
  }
  const problem = await problemOf(res);
  if (res.status === 401 && problem.type === SESSION_ENDED) throw ended(problem);
  throw new ApiError(res.status, problem);
}

/** @param {Problem} problem */
function ended(problem) {
  tokens = null;
  onSessionEnded(problem);
  return new ApiError(401, problem);
}

/**
 * @param {Response} res
 * @returns {Promise<Problem>}
 */
async function problemOf(res) {
  try {
    const p = await res.json();
    return { ...p, errors: Array.isArray(p.errors) ? p.errors : [] };
  } catch {
    return localProblem(res.status, res.statusText);
  }
}

/** @type {Promise<boolean> | null} */
let refreshing = null;
/**
 * Swaps the refresh token for a new pair (once at a time: each token works once).
 * @returns {Promise<boolean>}
 */
export function refresh() {
  if (!tokens) return Promise.resolve(false);
  const old = tokens.refresh;
  refreshing ??= (async () => {
    try {
      const res = await fetch('/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refresh_token: old }),
        cache: 'no-store',
        credentials: 'omit',
      });
      if (res.ok) {
        /** @type {Schemas['TokenResponse']} */
        const t = await res.json();
        tokens = { access: t.access_token, refresh: t.refresh_token };
        onRefreshed(t.refresh_token);
        return true;
      }
      const problem = await problemOf(res);
      if (res.status === 401) throw ended(problem);
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/**
 * Resumes a session from a refresh token kept in the encrypted copy.
 * @param {string} refreshToken
 */
export async function resume(refreshToken) {
  tokens = { access: '', refresh: refreshToken };
  try {
    return await refresh();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return false;
    tokens = null;
    throw e instanceof ApiError ? e : new ApiError(0, localProblem(0, 'offline'));
  }
}

/**
 * One record by its read path, untyped (for reading back a record of any kind).
 * @param {string} path e.g. `/v1/referrals/ID`
 * @returns {Promise<any>}
 */
export function getRecord(path) {
  return api('get', /** @type {any} */ (path));
}
