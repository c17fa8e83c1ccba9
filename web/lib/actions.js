// The writes screens make: each puts the record as the device now sees it into
// the copy and an operation into the outbox, then asks for a sync.
import { copy } from './copy.js';
import { getRecord as fetchRecord } from './api.js';
import { syncSoon } from './sync.js';
import { t, timeOf } from './t.js';
import { uuidv7 } from './uuid.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/** @typedef {import('./copy.js').Entry} Entry */

/**
 * Logs a contact (a new one, or the corrected body of a rejected one).
 * @param {Omit<Schemas['NewContactIn'], 'id'>} fields
 * @param {Entry} [fixing]
 */
export async function logContact(fields, fixing) {
  const id = fixing ? fixing.op.id : uuidv7();
  /** @type {Schemas['NewContactIn']} */
  const body = { ...fields, id };
  const account = copy.account;
  const local = {
    ...body,
    worker_id: account?.staff_id ?? '',
    recorded_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
    version: 0,
  };
  const label = t('op.contact', { kind: t('kind.' + body.kind), time: timeOf(body.occurred_at ?? local.recorded_at) });
  if (fixing) {
    await copy.updateEntry(fixing.op_id, 'waiting', { ...fixing.op, body, label, problem: undefined });
    await copy.putRecord('contact', id, local);
  } else {
    await copy.queue({ method: 'POST', path: '/v1/contacts', body, kind: 'contact', id, label }, local);
  }
  syncSoon();
}

/**
 * Changes one of the caller's own contacts (only its author may), with the
 * version the device last saw. A write still waiting for the same contact
 * (its create, or an earlier change) takes the new fields instead.
 * @param {any} contact the record in the copy
 * @param {Schemas['ContactPatchIn']} changes
 * @param {Entry} [fixing]
 */
export async function editContact(contact, changes, fixing) {
  const waiting = fixing ?? copy.outbox.find((e) => e.state === 'waiting' && e.op.kind === 'contact' && e.op.id === contact.id);
  const local = { ...contact, ...changes };
  const label = t('op.contactEdit', { kind: t('kind.' + local.kind), time: timeOf(local.occurred_at) });
  if (waiting) {
    const body = { ...waiting.op.body, ...changes };
    await copy.updateEntry(waiting.op_id, 'waiting', { ...waiting.op, body, label: waiting.op.method === 'POST' ? waiting.op.label : label, problem: undefined });
    await copy.putRecord('contact', contact.id, local);
  } else {
    await copy.queue({ method: 'PATCH', path: `/v1/contacts/${contact.id}`, version: contact.version, body: changes, kind: 'contact', id: contact.id, label }, local);
  }
  syncSoon();
}

/**
 * Changes a patron's fields, with the version the device last saw. A change
 * still waiting for the same patron takes the new fields too (one operation).
 * @param {any} patron the record in the copy
 * @param {Schemas['PatronPatchIn']} changes
 * @param {Entry} [fixing]
 */
export async function editPatron(patron, changes, fixing) {
  const waiting = fixing ?? copy.outbox.find((e) => e.state === 'waiting' && e.op.kind === 'patron' && e.op.id === patron.id && e.op.method === 'PATCH');
  const local = { ...patron, ...changes };
  const label = t('op.patron', { name: local.preferred_name });
  if (waiting) {
    const body = fixing ? changes : { ...waiting.op.body, ...changes };
    await copy.updateEntry(waiting.op_id, 'waiting', { ...waiting.op, body, label, problem: undefined });
    await copy.putRecord('patron', patron.id, local);
  } else {
    await copy.queue({ method: 'PATCH', path: `/v1/patrons/${patron.id}`, version: patron.version, body: changes, kind: 'patron', id: patron.id, label }, local);
  }
  syncSoon();
}

/**
 * A conflict resolved by sending the device's change again on top of the server's version.
 * @param {Entry} entry
 */
export async function applyMineOnTop(entry) {
  const current = entry.op.current ?? {};
  await copy.updateEntry(entry.op_id, 'waiting', { ...entry.op, version: current.version, current: undefined });
  await copy.putRecord(entry.op.kind, entry.op.id, { ...current, ...entry.op.body });
  syncSoon();
}

/**
 * A conflict resolved by keeping the server's record; or a rejected write deleted.
 * @param {Entry} entry
 */
export async function dropMine(entry) {
  const { kind, id, method, path } = entry.op;
  // A create names its new record's id in the body, never in the path.
  const created = method === 'POST' && !path.includes(id);
  if (entry.op.current) await copy.putRecord(kind, id, entry.op.current);
  else if (created) await copy.removeRecord(kind, id);
  await copy.dropEntry(entry.op_id);
  if (!entry.op.current && !created) await readBack(kind, id);
  syncSoon();
}

/**
 * The server's record in place of the device's guess after a change was
 * dropped (a refused move, say). Offline, the guess stays until the network
 * is back and the person drops or sends the change.
 * @param {Kind} kind
 * @param {string} id
 */
async function readBack(kind, id) {
  /** @type {Partial<Record<Kind, string>>} */
  const reads = {
    patron: '/v1/patrons/', case: '/v1/cases/', contact: '/v1/contacts/', referral: '/v1/referrals/',
    follow_up: '/v1/follow-ups/', mandated_report: '/v1/mandated-reports/', support_request: '/v1/support-requests/',
  };
  const local = copy.get(kind, id);
  const path = kind === 'case_note' && local?.case_id ? `/v1/cases/${local.case_id}/notes/${id}` : reads[kind] && reads[kind] + id;
  if (!path) return;
  try {
    const res = await fetchRecord(path);
    if (res) await copy.putRecord(kind, id, res);
  } catch {
    // Offline or gone: the next sync tells.
  }
}

/** @typedef {import('./copy.js').Op} Op */
/** @typedef {import('./copy.js').Kind} Kind */

/**
 * Queues any of the API's writes for the sync upload (it is applied there
 * exactly as if sent alone), with the record as the device expects it to be
 * after the write, shown until the server's answer replaces it.
 * @param {{method: Op['method'], path: string, body?: any, kind: Kind, id: string, label: string, version?: number}} op
 * @param {any} local
 * @returns {Promise<string>} the op_id
 */
export async function queueWrite(op, local) {
  const opId = await copy.queue({ ...op, body: op.body ?? {} }, local);
  syncSoon();
  return opId;
}

/**
 * A change to a record the copy holds (a move, a close, a team change), sent
 * with the version the device saw. The local record takes the change and the
 * next version, so a second change made before the first is sent carries the
 * version the first one gives.
 * @param {Kind} kind
 * @param {any} record the record in the copy
 * @param {{method?: Op['method'], path: string, body?: any, label: string}} op
 * @param {any} [localChanges] what the change does to the record, as far as the device can tell
 * @returns {Promise<string>} the op_id
 */
export async function changeRecord(kind, record, op, localChanges = {}) {
  return queueWrite(
    { method: op.method ?? 'POST', path: op.path, body: op.body, kind, id: record.id, label: op.label, version: record.version },
    { ...record, ...localChanges, version: (record.version ?? 0) + 1 },
  );
}

/**
 * Records a release of information for a patron (signed, or verbal in the
 * moment), valid at once in the copy so that the referral's consent gate can
 * see it before the server has it.
 * @param {string} patronId
 * @param {Omit<Schemas['NewConsentIn'], 'id'>} fields
 * @returns {Promise<any>} the consent as the copy holds it
 */
export async function recordConsent(patronId, fields) {
  const id = uuidv7();
  const now = new Date().toISOString();
  const local = {
    ...fields,
    id,
    patron_id: patronId,
    given_at: fields.given_at ?? now,
    valid: true,
    version: 1,
    created_by: copy.account?.staff_id ?? '',
    recorded_at: now,
  };
  await queueWrite(
    { method: 'POST', path: `/v1/patrons/${patronId}/consents`, body: { ...fields, id }, kind: 'consent', id, label: t('op.consent', { recipient: fields.recipient }) },
    local,
  );
  return local;
}
