// The local copy of one account: a Dexie database named by staff id, holding
// the sync feed's records and the outbox, every payload sealed with the key
// derived from the password. The decrypted copy lives in memory while unlocked;
// screens read it from here and write through `queue`.
import Dexie from '../vendor/dexie.mjs';
import { config } from './config.js';
import { deriveKey, keyCheck, keyMatches, newSalt, open, seal } from './crypto.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {Schemas['SyncKind']} Kind */
/** @typedef {import('./crypto.js').Sealed} Sealed */
/**
 * @typedef {{
 *   method: 'POST' | 'PATCH' | 'DELETE', path: string, version?: number, body: any,
 *   kind: Kind, id: string, label: string,
 *   current?: any, problem?: Schemas['Problem'], status?: number, tries?: number,
 * }} Op
 * @typedef {'waiting' | 'applied' | 'duplicate' | 'conflict' | 'rejected'} OpState
 * @typedef {{op_id: string, state: OpState, at: number, op: Op}} Entry
 * @typedef {{staff_id: string, username: string, display_name: string, role: Schemas['Role'], branches: string[]}} Account
 * @typedef {{id: string, name: string}} Branch
 */

/** @param {string} staffId */
const dbName = (staffId) => config.databasePrefix + staffId;

/** @param {string} name */
function database(name) {
  const db = new Dexie(name);
  db.version(1).stores({
    meta: '&k',
    records: '&[kind+id], kind',
    outbox: '++seq, &op_id',
  });
  return db;
}

class Copy {
  constructor() {
    /** @type {Dexie | null} */
    this.db = null;
    /** @type {CryptoKey | null} */
    this.key = null;
    /** @type {Account | null} */
    this.account = null;
    /** @type {Branch[]} */
    this.branches = [];
    /** @type {Map<Kind, Map<string, any>>} */
    this.records = new Map();
    /** @type {Entry[]} */
    this.outbox = [];
    /** @type {string | undefined} */
    this.cursor = undefined;
    /** @type {number | undefined} */
    this.lastSync = undefined;
    /** @type {Set<() => void>} */
    this.listeners = new Set();
  }

  /** @param {() => void} fn */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
  changed() {
    for (const fn of this.listeners) fn();
  }

  get unlocked() {
    return this.key !== null && this.db !== null;
  }

  /**
   * The records of one kind in memory.
   * @param {Kind} kind
   * @returns {any[]}
   */
  all(kind) {
    return [...(this.records.get(kind)?.values() ?? [])];
  }
  /**
   * @param {Kind} kind
   * @param {string} id
   */
  get(kind, id) {
    return this.records.get(kind)?.get(id);
  }
  /**
   * Whether an operation for this record is waiting, in conflict or rejected.
   * @param {Kind} kind
   * @param {string} id
   * @returns {Entry | undefined}
   */
  pendingFor(kind, id) {
    return this.outbox.find((e) => e.state !== 'applied' && e.state !== 'duplicate' && e.op.kind === kind && e.op.id === id);
  }

  /**
   * Opens (or makes) the copy after an online sign-in. A copy under another
   * password (changed since) cannot be read: it is wiped and made anew.
   * @param {Account} account
   * @param {string} password the password, or after a single sign-on the device passphrase
   * @param {string} refreshToken
   * @param {Branch[]} branches
   * @param {boolean} [passphrase] the key comes from a device passphrase (single sign-on)
   */
  async openAfterSignIn(account, password, refreshToken, branches, passphrase = false) {
    this.close();
    let db = database(dbName(account.staff_id));
    let meta = await db.table('meta').get('account');
    let key = meta ? await deriveKey(password, meta.salt) : null;
    if (meta && (!key || !(await keyMatches(key, meta.check)) || expired(meta.lastSync))) {
      db.close();
      await Dexie.delete(dbName(account.staff_id));
      db = database(dbName(account.staff_id));
      meta = undefined;
    }
    if (!meta || !key) {
      const salt = newSalt();
      key = await deriveKey(password, salt);
      meta = { k: 'account', staff_id: account.staff_id, username: account.username, salt, check: await keyCheck(key), lastSync: Date.now(), passphrase };
      await db.table('meta').put(meta);
    }
    this.db = db;
    this.key = key;
    await this.load();
    this.account = account;
    this.branches = branches;
    await this.saveSecret(refreshToken);
    this.changed();
  }

  /**
   * Unlocks a copy kept on this device (offline, or after a reload).
   * @param {string} staffId
   * @param {string} password
   * @returns {Promise<{refresh?: string} | null>} null when the password is wrong
   */
  async unlock(staffId, password) {
    this.close();
    const db = database(dbName(staffId));
    const meta = await db.table('meta').get('account');
    if (!meta) return null;
    const key = await deriveKey(password, meta.salt);
    if (!(await keyMatches(key, meta.check))) {
      db.close();
      return null;
    }
    this.db = db;
    this.key = key;
    await this.load();
    const secret = await db.table('meta').get('secret');
    const s = secret ? await open(key, secret.sealed) : {};
    this.account = s.account ?? null;
    this.branches = s.branches ?? [];
    this.changed();
    return { refresh: s.refresh };
  }

  /** Reads and decrypts the whole copy into memory. */
  async load() {
    const db = /** @type {Dexie} */ (this.db);
    const key = /** @type {CryptoKey} */ (this.key);
    const meta = await db.table('meta').get('account');
    this.cursor = meta?.cursor;
    this.lastSync = meta?.lastSync;
    this.records = new Map();
    for (const row of await db.table('records').toArray()) {
      this.memPut(row.kind, row.id, await open(key, row.sealed));
    }
    this.outbox = [];
    for (const row of await db.table('outbox').orderBy('seq').toArray()) {
      this.outbox.push({ op_id: row.op_id, state: row.state, at: row.at, op: await open(key, row.sealed) });
    }
  }

  /**
   * Keeps the account, branch names and refresh token sealed in the copy, so
   * that after an unlock online the app can go on without a new sign-in.
   * @param {string} [refreshToken]
   */
  async saveSecret(refreshToken) {
    if (!this.db || !this.key) return;
    const sealed = await seal(this.key, { account: this.account, branches: this.branches, refresh: refreshToken });
    await this.db.table('meta').put({ k: 'secret', sealed });
  }

  /**
   * @param {Kind} kind
   * @param {string} id
   * @param {any} record
   */
  memPut(kind, id, record) {
    let m = this.records.get(kind);
    if (!m) this.records.set(kind, (m = new Map()));
    m.set(id, record);
  }

  /**
   * Stores a page of the sync feed.
   * @param {Schemas['SyncItemOut'][]} items
   * @param {Schemas['SyncRemovalOut'][]} removed
   * @param {string | undefined} cursor
   */
  async applyPage(items, removed, cursor) {
    const db = /** @type {Dexie} */ (this.db);
    const key = /** @type {CryptoKey} */ (this.key);
    const rows = [];
    for (const item of items) {
      let record = /** @type {any} */ (item)[item.kind];
      if (!record) continue;
      // What the create's answer said of possible duplicates stays until the record changes.
      const held = this.get(item.kind, item.id);
      if (held?.possible_duplicates && held.version === record.version) record = { ...record, possible_duplicates: held.possible_duplicates };
      // A record with a change still waiting keeps the device's version on screen.
      rows.push({ kind: item.kind, id: item.id, record, sealed: await seal(key, record) });
    }
    await db.transaction('rw', db.table('records'), db.table('meta'), async () => {
      await db.table('records').bulkPut(rows.map(({ kind, id, sealed }) => ({ kind, id, sealed })));
      await db.table('records').bulkDelete(removed.map((r) => [r.kind, r.id]));
      await db.table('meta').update('account', { cursor });
    });
    for (const r of rows) if (!this.pendingFor(r.kind, r.id)) this.memPut(r.kind, r.id, r.record);
    for (const r of removed) this.records.get(r.kind)?.delete(r.id);
    this.cursor = cursor;
    this.changed();
  }

  /** The outbox entries not (yet) accepted by the server: waiting, in conflict or rejected. */
  unsent() {
    return this.outbox.filter((e) => e.state !== 'applied' && e.state !== 'duplicate');
  }

  async markSynced() {
    this.lastSync = Date.now();
    await this.db?.table('meta').update('account', { lastSync: this.lastSync });
    this.changed();
  }

  /**
   * Puts one record in the copy (sealed) and in memory.
   * @param {Kind} kind
   * @param {string} id
   * @param {any} record
   */
  async putRecord(kind, id, record) {
    const db = /** @type {Dexie} */ (this.db);
    await db.table('records').put({ kind, id, sealed: await seal(/** @type {CryptoKey} */ (this.key), record) });
    this.memPut(kind, id, record);
    this.changed();
  }

  /**
   * @param {Kind} kind
   * @param {string} id
   */
  async removeRecord(kind, id) {
    await this.db?.table('records').delete([kind, id]);
    this.records.get(kind)?.delete(id);
    this.changed();
  }

  /**
   * Queues a write: the record as the device now sees it and the operation,
   * in one transaction.
   * @param {Op} op
   * @param {any} localRecord
   * @returns {Promise<string>} the op_id
   */
  async queue(op, localRecord) {
    const db = /** @type {Dexie} */ (this.db);
    const key = /** @type {CryptoKey} */ (this.key);
    const op_id = crypto.randomUUID();
    const at = Date.now();
    const sealedOp = await seal(key, op);
    const sealedRecord = await seal(key, localRecord);
    await db.transaction('rw', db.table('records'), db.table('outbox'), async () => {
      await db.table('records').put({ kind: op.kind, id: op.id, sealed: sealedRecord });
      await db.table('outbox').add({ op_id, state: 'waiting', at, sealed: sealedOp });
    });
    this.memPut(op.kind, op.id, localRecord);
    this.outbox.push({ op_id, state: 'waiting', at, op });
    this.changed();
    return op_id;
  }

  /**
   * Changes an outbox entry (its state, or the operation after an edit).
   * @param {string} opId
   * @param {OpState} state
   * @param {Op} op
   */
  async updateEntry(opId, state, op) {
    const db = /** @type {Dexie} */ (this.db);
    const sealed = await seal(/** @type {CryptoKey} */ (this.key), op);
    await db.table('outbox').where('op_id').equals(opId).modify({ state, sealed });
    const e = this.outbox.find((x) => x.op_id === opId);
    if (e) {
      e.state = state;
      e.op = op;
    }
    this.changed();
  }

  /** @param {string} opId */
  async dropEntry(opId) {
    await this.db?.table('outbox').where('op_id').equals(opId).delete();
    this.outbox = this.outbox.filter((e) => e.op_id !== opId);
    this.changed();
  }

  /** Forgets the entries that were sent (after the person has seen them). */
  async pruneSent() {
    const sent = this.outbox.filter((e) => e.state === 'applied' || e.state === 'duplicate');
    if (!sent.length) return;
    await this.db?.table('outbox').where('op_id').anyOf(sent.map((e) => e.op_id)).delete();
    this.outbox = this.outbox.filter((e) => !sent.includes(e));
    this.changed();
  }

  /** Locks: the key and the decrypted copy leave memory. */
  close() {
    this.db?.close();
    this.db = null;
    this.key = null;
    this.account = null;
    this.branches = [];
    this.records = new Map();
    this.outbox = [];
    this.cursor = undefined;
    this.lastSync = undefined;
  }

  /** Deletes the account's database from the device. */
  async wipe() {
    const id = this.account?.staff_id ?? this.db?.name.slice(config.databasePrefix.length);
    this.close();
    if (id) await Dexie.delete(dbName(id));
    this.changed();
  }
}

/** @param {number | undefined} lastSync */
export function expired(lastSync) {
  return !lastSync || Date.now() - lastSync > config.wipeAfterHours * 3600 * 1000;
}

/**
 * The copies kept on this device (username in clear, nothing else), after
 * wiping those not synced for too long.
 * @returns {Promise<{staff_id: string, username: string}[]>}
 */
export async function copiesOnDevice() {
  const found = [];
  const names = (await indexedDB.databases()).map((d) => d.name ?? '').filter((n) => n.startsWith(config.databasePrefix));
  for (const name of names) {
    const db = database(name);
    let meta;
    try {
      meta = await db.table('meta').get('account');
    } catch {
      meta = undefined;
    }
    db.close();
    if (!meta || expired(meta.lastSync)) await Dexie.delete(name);
    else found.push({ staff_id: meta.staff_id, username: meta.username, passphrase: !!meta.passphrase });
  }
  return found;
}

/** Deletes every account's copy on this device. */
export async function wipeAll() {
  for (const d of await indexedDB.databases()) {
    if (d.name?.startsWith(config.databasePrefix)) await Dexie.delete(d.name);
  }
}

export const copy = new Copy();
