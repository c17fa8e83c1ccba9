// The one module that talks to /v1/sync: uploads the outbox, then pulls the
// feed into the copy. Retries with exponential backoff while the network or
// the server fails; a rejected or conflicting operation waits for its person.
import { api, ApiError, signedIn } from './api.js';
import { config } from './config.js';
import { copy } from './copy.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./copy.js').Entry} Entry */

export const status = {
  online: navigator.onLine,
  syncing: false,
  /** @type {string | null} a catalogue key */
  error: null,
  failures: 0,
};

/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let running = false;
let again = false;

/** Thrown out of a sync once the copy has been wiped: nothing more to do. */
class Wiped extends Error {}

/** @type {(unsent: number) => Promise<void>} */
let onReset = async () => {};
/**
 * What a sync `reset` does (session.js: wipe the copy and go to sign-in).
 * @param {(unsent: number) => Promise<void>} fn called with the number of unsent outbox entries
 */
export function whenReset(fn) {
  onReset = fn;
}

/** Runs one sync now (or right after the one running). */
export function syncSoon() {
  clearTimeout(timer);
  timer = setTimeout(run, 0);
}

async function run() {
  if (running) {
    again = true;
    return;
  }
  if (!copy.unlocked || !signedIn() || !status.online) return;
  running = true;
  status.syncing = true;
  copy.changed();
  try {
    await push();
    await pull();
    await copy.markSynced();
    status.failures = 0;
    status.error = null;
    clearTimeout(timer);
    timer = setTimeout(run, config.pullEverySeconds * 1000);
  } catch (e) {
    if (e instanceof Wiped || !copy.unlocked) {
      // The copy is gone (a reset or an ended session): no retry.
      clearTimeout(timer);
      status.failures = 0;
      status.error = null;
      return;
    }
    status.failures += 1;
    status.error = e instanceof ApiError && e.offline ? 'status.unreachable' : 'status.syncFailed';
    if (e instanceof ApiError && e.status === 401) status.error = null;
    else {
      const wait = Math.min(config.retryMaxSeconds, config.retryFirstSeconds * 2 ** (status.failures - 1));
      clearTimeout(timer);
      timer = setTimeout(run, wait * 1000);
    }
  } finally {
    running = false;
    status.syncing = false;
    copy.changed();
    if (again) {
      again = false;
      syncSoon();
    }
  }
}

/** Uploads the waiting operations, in order, a batch at a time. */
async function push() {
  await copy.pruneSent();
  for (;;) {
    const batch = copy.outbox.filter((e) => e.state === 'waiting').slice(0, config.uploadBatch);
    if (!batch.length) return;
    const operations = batch.map((e) => {
      /** @type {Schemas['SyncOperationIn']} */
      const o = { op_id: e.op_id, method: e.op.method, path: e.op.path, body: e.op.body };
      if (e.op.version !== undefined) o.version = e.op.version;
      return o;
    });
    const answer = await api('post', '/v1/sync', { body: { operations } });
    for (const r of answer.results) {
      const entry = batch.find((e) => e.op_id === r.op_id);
      if (entry) await settle(entry, r);
    }
  }
}

/**
 * @param {Entry} entry
 * @param {Schemas['SyncResultOut']} r
 */
async function settle(entry, r) {
  const op = { ...entry.op, status: r.status };
  if (r.outcome === 'applied' || r.outcome === 'duplicate') {
    delete op.problem;
    delete op.current;
    await copy.updateEntry(entry.op_id, r.outcome, op);
    const record = recordOf(r.record, entry.op.kind);
    // A new patron's possible duplicates (same name and birth year, some
    // perhaps not on this device) stay with it until the record changes.
    const duplicates = /** @type {any} */ (r.record)?.possible_duplicates;
    if (record?.id) await copy.putRecord(entry.op.kind, record.id, Array.isArray(duplicates) && duplicates.length ? { ...record, possible_duplicates: duplicates } : record);
  } else if (r.outcome === 'conflict') {
    op.current = recordOf(r.current, entry.op.kind);
    await copy.updateEntry(entry.op_id, 'conflict', op);
  } else {
    const p = /** @type {any} */ (r.problem ?? {});
    op.problem = { type: p.type ?? 'about:blank', title: p.title ?? '', status: r.status, detail: p.detail, errors: Array.isArray(p.errors) ? p.errors : [] };
    await copy.updateEntry(entry.op_id, 'rejected', op);
  }
}

/**
 * The record inside an answer (a patron create answers `{patron, ...}`).
 * @param {unknown} value
 * @param {string} kind
 * @returns {any}
 */
function recordOf(value, kind) {
  const v = /** @type {any} */ (value);
  if (v && typeof v === 'object' && v[kind] && typeof v[kind] === 'object') return v[kind];
  return v;
}

/** Pulls the feed page by page into the copy. */
async function pull() {
  for (;;) {
    /** @type {{limit: number, cursor?: string}} */
    const query = { limit: config.syncPageLimit };
    if (copy.cursor) query.cursor = copy.cursor;
    const page = await api('get', '/v1/sync', { query });
    if (page.reset) {
      // The account changed on the server (role, branches, the account
      // itself): what the copy holds, the outbox too, may no longer be the
      // caller's. Everything goes, as at sign-out.
      await onReset(copy.unsent().length);
      throw new Wiped('reset');
    }
    await copy.applyPage(page.items, page.removed, page.next_cursor);
    if (!page.more) return;
  }
}

/** Stops the timers (sign-out, lock). */
export function stop() {
  clearTimeout(timer);
  status.failures = 0;
  status.error = null;
}

addEventListener('online', () => {
  status.online = true;
  copy.changed();
  syncSoon();
});
addEventListener('offline', () => {
  status.online = false;
  copy.changed();
});
