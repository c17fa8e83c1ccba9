// Shared steps: signing in on screen, the API as a second device, axe and screenshots.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { expect } from '@playwright/test';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const PEER = { username: 'peer', password: 'demo-peer-password' };
export const WORKER = { username: 'social.worker', password: 'demo-social-worker-password' };
export const SUPERVISOR = { username: 'supervisor', password: 'demo-supervisor-password' };
export const SECURITY = { username: 'security', password: 'demo-security-password' };
export const ADMIN = { username: 'admin', password: 'demo-admin-password' };
export const STAFF = { username: 'staff', password: 'demo-staff-password' };
export const AUDITOR = { username: 'auditor', password: 'demo-auditor-password' };
export const base = () => process.env.CASEWORK_APP_URL ?? 'http://127.0.0.1:8080';

/** Signs in on screen and waits for the first sync. */
export async function signIn(page, who = PEER, device = 'Test tablet') {
  await page.goto('/');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  const deviceField = page.getByLabel('Name of this device');
  if (await deviceField.count()) await deviceField.fill(device);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  // A peer's first screen is Today; a social worker's or supervisor's, Caseload.
  await expect(page.getByRole('heading', { level: 1, name: /^(Today|Caseload)$/ })).toBeVisible();
  await expect(page.getByTestId('last-synced')).toContainText('Last synced');
  // The service worker must control the page before a test goes offline.
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
}

/**
 * Signs in on screen as a desk role (security, staff, auditor, admin: online
 * only, no copy) and waits for the first screen.
 */
export async function signInDesk(page, who, device = 'Test desk') {
  await page.goto('/');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  const deviceField = page.getByLabel('Name of this device');
  if (await deviceField.count()) await deviceField.fill(device);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByText('Online only: nothing is kept on this device.')).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
}

/**
 * Waits until the outbox holds nothing unsent: none waiting and none needing
 * the person, read in one go. "Nothing waiting" alone is not enough: right
 * after "Save and send again" or "Apply mine on top" the entry is still
 * rejected or in conflict (not waiting) until the app has stored the change,
 * so the count reads 0 before anything was sent.
 */
export async function waitAllSent(page) {
  await expect.poll(() => page.evaluate(() => ({
    waiting: document.querySelector('[data-testid="waiting"]')?.textContent,
    needYou: document.querySelectorAll('[data-testid="need-you"]').length,
  })), { timeout: 30_000 }).toEqual({ waiting: 'Nothing waiting to send', needYou: 0 });
}

/** The API as another device (for checking the server, or making a conflict). */
export async function apiLogin(who = PEER, device = 'Test checker') {
  const res = await fetch(`${base()}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: who.username, password: who.password, device_name: device }),
  });
  expect(res.status).toBe(200);
  const token = (await res.json()).access_token;
  return {
    async get(path) {
      const r = await fetch(`${base()}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status, path).toBe(200);
      return r.json();
    },
    async post(path, body, headers = {}) {
      const r = await fetch(`${base()}${path}`, {
        method: 'POST', body: JSON.stringify(body),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      });
      expect([200, 201], `${path}: ${r.status}`).toContain(r.status);
      return r.json();
    },
    async status(path) {
      const r = await fetch(`${base()}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return r.status;
    },
    async patch(path, version, body) {
      const r = await fetch(`${base()}${path}`, {
        method: 'PATCH', body: JSON.stringify(body),
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'if-match': `"${version}"` },
      });
      expect(r.status, path).toBe(200);
      return r.json();
    },
  };
}

/** The peer's contacts from the server. */
export async function serverContacts(api) {
  const all = [];
  let cursor;
  do {
    const page = await api.get(`/v1/me/contacts?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return all;
}

export async function findPatron(api, name) {
  const list = await api.get(`/v1/patrons?q=${encodeURIComponent(name)}`);
  return list.items.find((p) => p.preferred_name === name);
}

/** axe-core finds no serious or critical violation; a screenshot goes to tests/artifacts/. */
export async function audit(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const size = page.viewportSize();
  await page.screenshot({ path: `tests/artifacts/${name}-${size.width}x${size.height}.png`, fullPage: true });
  expect(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), `axe on ${name}`).toEqual([]);
}

/** Fills the contact form. */
export async function logContact(page, { kind = 'Outreach', needs = [], services = '', note = '' } = {}) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Log a contact' }).click();
  await page.getByRole('radio', { name: kind }).check();
  for (const n of needs) await page.getByRole('checkbox', { name: n }).check();
  if (services) await page.getByLabel('Services given').fill(services);
  if (note) await page.getByLabel('Note (optional)').fill(note);
  await page.getByRole('button', { name: 'Save contact' }).click();
  await expect(page.getByText('Contact saved. It is waiting to send.')).toBeVisible();
}

/** What the page keeps: casework databases (with their record counts), Cache Storage paths, storage keys. */
export async function deviceState(page) {
  return page.evaluate(async () => {
    const dbs = {};
    for (const d of await indexedDB.databases()) {
      if (!d.name?.startsWith('casework-')) continue;
      dbs[d.name] = await new Promise((resolve) => {
        const req = indexedDB.open(d.name);
        req.onsuccess = () => {
          const db = req.result;
          const count = (store) => new Promise((r) => {
            if (!db.objectStoreNames.contains(store)) return r(0);
            const c = db.transaction(store).objectStore(store).count();
            c.onsuccess = () => r(c.result);
            c.onerror = () => r(-1);
          });
          Promise.all([count('records'), count('outbox')]).then(([records, outbox]) => {
            db.close();
            resolve({ records, outbox });
          });
        };
        req.onerror = () => resolve({ records: -1, outbox: -1 });
      });
    }
    const cached = [];
    for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) cached.push(new URL(r.url).pathname);
    return { dbs, cached, local: Object.keys(localStorage), session: Object.keys(sessionStorage) };
  });
}

/** A staff account by username, through the admin's API. */
export async function staffNamed(admin, username) {
  let cursor;
  do {
    const page = await admin.get(`/v1/staff?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const hit = page.items.find((s) => s.username === username);
    if (hit) return hit;
    cursor = page.next_cursor;
  } while (cursor);
  throw new Error(`no staff account ${username}`);
}
