// Referrals and mandated reports as a social worker uses them, against the real
// server (tests/run.sh). Each test makes its own patron and case through the
// API, so the demo's referrals are never moved.
import { test, expect } from '@playwright/test';
import { audit, base, waitAllSent } from './helpers.mjs';

const WORKER = { username: 'social.worker', password: 'demo-social-worker-password' };
const SUPERVISOR = { username: 'supervisor', password: 'demo-supervisor-password' };
const PEER = { username: 'peer', password: 'demo-peer-password' };
const PHONE = { width: 390, height: 844 };
const DESK = { width: 1024, height: 768 };

const mark = () => `m${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** The API as another device: a token, and calls that return the status and the JSON. */
async function apiAs(who) {
  const res = await fetch(`${base()}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: who.username, password: who.password, device_name: 'Referral test checker' }),
  });
  expect(res.status).toBe(200);
  const token = (await res.json()).access_token;
  const call = async (method, path, body, headers = {}) => {
    const r = await fetch(`${base()}${path}`, {
      method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    });
    const text = await r.text();
    return { status: r.status, json: text ? JSON.parse(text) : undefined };
  };
  return {
    call,
    async get(path) {
      const r = await call('GET', path);
      expect(r.status, path).toBe(200);
      return r.json;
    },
    async post(path, body) {
      const r = await call('POST', path, body);
      expect(r.status, `${path}: ${JSON.stringify(r.json)}`).toBe(201);
      return r.json;
    },
  };
}

/** A patron of the social worker's branch with an open case, made through the API. */
async function patronWithCase(m) {
  const api = await apiAs(WORKER);
  const me = await api.get('/v1/me');
  const name = `Riley Test ${m}`;
  const made = await api.post('/v1/patrons', { preferred_name: name, birth_year: 1990, home_branch_id: me.branches[0] });
  const theCase = await api.post('/v1/cases', { patron_id: made.patron.id, summary: `Referral test ${m}` });
  return { api, name, patronId: made.patron.id, caseId: theCase.id };
}

/**
 * Signs in on screen and waits for the first sync (the home screen's heading
 * differs by role and is changing, so this waits for the sync instead).
 */
async function signInAs(page, who) {
  await page.goto('/');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  const device = page.getByLabel('Name of this device');
  if (await device.count()) await device.fill('Referral test tablet');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByTestId('last-synced')).toContainText('Last synced');
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
}

/** A datetime-local value `minutesAgo` before now, in the browser's (and this process's) time zone. */
function localMinutesAgo(minutesAgo) {
  const d = new Date(Date.now() - minutesAgo * 60_000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Audits the page at both sizes, ending at the desk size. */
async function auditBoth(page, name) {
  await audit(page, name);
  await page.setViewportSize(PHONE);
  await audit(page, name);
  await page.setViewportSize(DESK);
}

/** Chooses a move on the referral screen and records it. */
async function move(page, status, { behalf = false, outcome } = {}) {
  await page.getByRole('radio', { name: status, exact: true }).check();
  if (outcome) await page.getByRole('radio', { name: outcome }).check();
  if (behalf) await page.getByRole('checkbox', { name: 'Recorded on the agency’s behalf' }).check();
  await page.getByRole('button', { name: `Record: ${status}` }).click();
  await expect(page.getByTestId('referral-status')).toHaveText(status);
}

test('a referral: the consent gate, a verbal consent in the flow, moves offline and on the agency’s behalf', async ({ page, context }) => {
  const m = mark();
  const { api, name, patronId, caseId } = await patronWithCase(m);
  const logged = [];
  page.on('console', (msg) => logged.push(msg.text()));
  await signInAs(page, WORKER);
  await page.goto(`/#/case/${caseId}/refer`);
  await expect(page.getByRole('heading', { level: 1, name: `Refer ${name}` })).toBeVisible();
  await auditBoth(page, 'referral-new');

  // The directory on the device: by word and by category.
  await page.getByLabel('Words to search for').fill('riverside');
  await page.getByLabel('Category').selectOption({ label: 'Health' });
  await expect(page.getByText('1 service matches.')).toBeVisible();
  await page.getByLabel('Category').selectOption({ label: 'Food' });
  await expect(page.getByText('No active service in the directory matches.')).toBeVisible();
  await page.getByLabel('Category').selectOption({ label: 'Health' });
  await page.getByRole('button', { name: 'Choose Walk-in Clinic' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Chosen: Walk-in Clinic' })).toBeFocused();
  // The service's categories are offered as the needs.
  // (a checked toggle's name starts with its ✓)
  await expect(page.getByRole('checkbox', { name: /^\W*Health$/ })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: /^\W*Mental health$/ })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: /^\W*Food$/ })).not.toBeChecked();
  await page.getByLabel('Notes (optional)').fill(`Walk-in on Tuesday ${m}`);

  // Sharing who they are: no consent of this new patron covers the clinic.
  await page.getByRole('radio', { name: /^Yes: the service learns who/ }).check();
  const gate = page.getByTestId('consent-gate');
  await expect(gate).toContainText('Consent: none covers this recipient');
  await expect(gate).toContainText('“Walk-in Clinic” or “Riverside Free Clinic (demo)”');
  await auditBoth(page, 'referral-gate');

  // Sending without a consent is stopped on the device.
  await page.getByRole('button', { name: 'Save and send' }).click();
  await expect(page.locator('.error-summary')).toContainText('No consent covers Walk-in Clinic');
  await expect(page).toHaveURL(/\/refer$/);
  await expect(page.getByTestId('waiting')).toHaveText('Nothing waiting to send');
  await auditBoth(page, 'referral-new-errors');

  // The verbal consent, recorded in the same flow.
  await page.getByRole('button', { name: 'Record their verbal consent now' }).click();
  await expect(page.getByLabel('Who may receive the information')).toHaveValue('Riverside Free Clinic (demo)');
  await page.getByRole('button', { name: 'Record the consent' }).click();
  await expect(page.locator('.rf-consent-form .error-summary')).toContainText('Enter what may be shared');
  await page.getByLabel('What may be shared').fill('Name, phone number, that they need a doctor');
  await page.getByRole('checkbox', { name: `${name} agreed to this just now` }).check();
  await auditBoth(page, 'referral-consent-form');
  await page.getByRole('button', { name: 'Record the consent' }).click();
  await expect(gate).toContainText('Consent: covered');
  await expect(gate).toBeFocused();
  await expect(page.locator('.error-summary')).toHaveCount(0);

  await page.getByRole('button', { name: 'Save and send' }).click();
  await expect(page).toHaveURL(/#\/referral\/[0-9a-f-]{36}$/);
  const id = /#\/referral\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
  await expect(page.getByRole('heading', { level: 1, name: 'Referral to Walk-in Clinic' })).toBeVisible();
  await expect(page.getByTestId('referral-status')).toHaveText('Requested');
  await waitAllSent(page);
  await expect(page.getByTestId('referral-status')).toHaveText('Requested');
  await expect(page.getByTestId('referral-follow-up')).not.toHaveText('None (closed)');
  await auditBoth(page, 'referral');

  // Offline: the agency's answer by phone, then two more moves; each shows at once and waits.
  await context.setOffline(true);
  await expect(page.getByTestId('online')).toHaveText('Offline');
  await move(page, 'Received', { behalf: true });
  await expect(page.getByTestId('referral-waiting')).toContainText('waits to send');
  await expect(page.getByText('You are offline: it waits to send.')).toBeVisible();
  await move(page, 'Accepted', { behalf: true });
  await move(page, 'In progress');
  await expect(page.getByTestId('waiting')).toHaveText('3 waiting to send');
  await expect(page.getByTestId('referral-waiting')).toContainText('3 changes made on this device wait to send');
  await expect(page.getByTestId('referral-history').locator('li')).toHaveCount(5);
  await expect(page.getByTestId('referral-history').locator('li').first()).toContainText('Accepted → In progress');
  await auditBoth(page, 'referral-offline');

  await context.setOffline(false);
  await waitAllSent(page);
  await expect(page.getByTestId('referral-waiting')).toHaveCount(0);
  await move(page, 'Completed', { outcome: 'Got help' });
  await waitAllSent(page);
  await expect(page.getByTestId('referral-follow-up')).toHaveText('None (closed)');
  await expect(page.getByTestId('referral-history').locator('li').first()).toContainText('Outcome: Got help');
  await auditBoth(page, 'referral-closed');

  // The server holds every move, in order, with who spoke for the agency.
  const server = await api.get(`/v1/referrals/${id}`);
  expect(server.status).toBe('completed');
  expect(server.outcome).toBe('got_help');
  expect(server.patron_id).toBe(patronId);
  expect(server.case_id).toBe(caseId);
  expect(server.shares_identifying_data).toBe(true);
  expect(server.needs).toEqual(['health', 'mental_health']);
  expect(server.notes).toBe(`Walk-in on Tuesday ${m}`);
  expect(server.follow_up_on).toBeUndefined();
  expect(server.history.map((h) => [h.from ?? null, h.to, h.on_behalf_of_agency, h.outcome ?? null])).toEqual([
    [null, 'draft', false, null],
    ['draft', 'requested', false, null],
    ['requested', 'received', true, null],
    ['received', 'accepted', true, null],
    ['accepted', 'in_progress', false, null],
    ['in_progress', 'completed', false, 'got_help'],
  ]);
  const consents = await api.get(`/v1/patrons/${patronId}/consents`);
  const verbal = consents.items.filter((c) => c.recipient === 'Riverside Free Clinic (demo)');
  expect(verbal).toHaveLength(1);
  expect(verbal[0].method).toBe('verbal');
  expect(verbal[0].valid).toBe(true);
  // Nothing about the patron went to the console.
  expect(logged.filter((l) => l.includes(m))).toEqual([]);
});

test('a referral the server refuses for want of consent shows on its screen, and a draft sent later passes the gate', async ({ page }) => {
  const m = mark();
  const { api, patronId, caseId } = await patronWithCase(m);
  // A consent for the pantry made on another device after this one synced: the
  // gate on screen does not know it, the server does.
  await signInAs(page, WORKER);
  await page.goto(`/#/case/${caseId}/refer`);
  await page.getByRole('radio', { name: 'Someone not in the directory' }).check();
  await page.getByLabel('Recipient', { exact: true }).fill(`Ms. Núñez ${m}`);
  await page.getByRole('radio', { name: /^Yes: the service learns who/ }).check();
  await expect(page.getByTestId('consent-gate')).toContainText('Consent: none covers this recipient');
  await page.getByRole('button', { name: 'Save as draft' }).click();
  await expect(page.getByTestId('referral-status')).toHaveText('Draft');
  await waitAllSent(page);
  const id = /#\/referral\/([0-9a-f-]{36})$/.exec(page.url())?.[1];

  // The gate again on the move; the consent naming the recipient in other
  // case and accents (the server's rule) covers it.
  await page.getByRole('radio', { name: 'Requested', exact: true }).check();
  await expect(page.getByTestId('consent-gate')).toContainText('Consent: none covers this recipient');
  await page.getByRole('button', { name: 'Record: Requested' }).click();
  await expect(page.locator('.error-summary')).toContainText(`No consent covers Ms. Núñez ${m}`);
  await api.post(`/v1/patrons/${patronId}/consents`, {
    recipient: `ms.  nunez ${m.toUpperCase()}`, scope: 'Name', purpose: 'Referral', method: 'signed',
    given_at: new Date(Date.now() - 3_600_000).toISOString(),
  });
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('consent-gate')).toContainText('Consent: covered');
  await expect(page.locator('.error-summary')).toHaveCount(0);
  await page.getByRole('button', { name: 'Record: Requested' }).click();
  await expect(page.getByTestId('referral-status')).toHaveText('Requested');
  await waitAllSent(page);
  const server = await api.get(`/v1/referrals/${id}`);
  expect(server.status).toBe('requested');

  // A refusal the device did not foresee (the consent revoked on the server
  // meanwhile) comes back as rejected and is shown here, with what to do.
  const other = await patronWithCase(`${m}b`);
  await other.api.post(`/v1/patrons/${other.patronId}/consents`, { recipient: `Shelter ${m}`, scope: 'Name', purpose: 'Referral', method: 'signed' });
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('last-synced')).toContainText('Last synced');
  await page.goto(`/#/case/${other.caseId}/refer`);
  await page.getByRole('radio', { name: 'Someone not in the directory' }).check();
  await page.getByLabel('Recipient', { exact: true }).fill(`Shelter ${m}`);
  await page.getByRole('radio', { name: /^Yes: the service learns who/ }).check();
  await expect(page.getByTestId('consent-gate')).toContainText('Consent: covered');
  const consent = (await other.api.get(`/v1/patrons/${other.patronId}/consents`)).items[0];
  const revoked = await other.api.call('POST', `/v1/consents/${consent.id}/revoke`, undefined, { 'if-match': `"${consent.version}"` });
  expect(revoked.status, JSON.stringify(revoked.json)).toBe(200);
  await page.getByRole('button', { name: 'Save and send' }).click();
  await expect(page.getByTestId('referral-problem')).toContainText(`No valid consent of the patron covers Shelter ${m}`);
  await expect(page.getByTestId('referral-status')).toHaveText('Draft');
  await auditBoth(page, 'referral-refused');
  await page.getByRole('button', { name: 'Undo my change' }).click();
  await expect(page.getByTestId('referral-problem')).toHaveCount(0);
  await waitAllSent(page);
});

test('a mandated report: made from a case, submitted, acknowledged; its author and supervisors only', async ({ page }) => {
  const m = mark();
  const { api, name, caseId } = await patronWithCase(m);
  await signInAs(page, WORKER);
  await page.goto(`/#/case/${caseId}/report`);
  await expect(page.getByRole('heading', { level: 1, name: `Mandated report about ${name}` })).toBeVisible();
  await expect(page.getByText('This is a mandated report, not a referral.')).toBeVisible();
  await auditBoth(page, 'report-new');
  await page.getByRole('button', { name: 'Save the report' }).click();
  await expect(page.locator('.error-summary')).toContainText('Choose which agency');
  await expect(page.locator('.error-summary')).toContainText('Describe the persons concerned');
  await auditBoth(page, 'report-new-errors');

  await page.getByRole('radio', { name: 'Child protective services (DSS)' }).check();
  await page.getByLabel('Agency', { exact: true }).fill('County DSS intake line');
  await page.getByLabel('Legal basis (optional)').fill('State mandated reporter law');
  await page.getByLabel('When you learned of it').fill(localMinutesAgo(120));
  await page.getByLabel('Persons concerned').fill(`A child of about 8, with the patron ${m}`);
  await page.getByLabel('What was reported').fill('Left alone in the library for four hours.');
  await page.getByRole('button', { name: 'Save the report' }).click();
  await expect(page).toHaveURL(/#\/report\/[0-9a-f-]{36}$/);
  const id = /#\/report\/([0-9a-f-]{36})$/.exec(page.url())?.[1];
  await expect(page.getByTestId('report-status')).toHaveText('Draft');
  await waitAllSent(page);
  await auditBoth(page, 'report');

  // Submitting needs when and how: checked on screen first.
  await page.getByRole('radio', { name: 'I reported it' }).check();
  await page.getByRole('button', { name: 'Record: Submitted' }).click();
  await expect(page.locator('.error-summary')).toContainText('Enter when you reported it');
  await expect(page.locator('.error-summary')).toContainText('Choose how you reported it');
  await auditBoth(page, 'report-step-errors');
  await page.getByLabel('When you reported it').fill(localMinutesAgo(60));
  await page.getByRole('radio', { name: 'Phone' }).check();
  await page.getByRole('button', { name: 'Record: Submitted' }).click();
  await expect(page.getByTestId('report-status')).toHaveText('Submitted');
  await waitAllSent(page);

  // Acknowledging needs the intake number.
  await page.getByRole('button', { name: 'Record: Acknowledged' }).click();
  await expect(page.locator('.error-summary')).toContainText('Enter the intake number');
  await page.getByLabel('Intake number').fill(`INT-${m}`);
  await page.getByLabel('Agency worker (optional)').fill('J. Rivera');
  await page.getByRole('button', { name: 'Record: Acknowledged' }).click();
  await expect(page.getByTestId('report-status')).toHaveText('Acknowledged');
  await waitAllSent(page);
  await auditBoth(page, 'report-acknowledged');

  const server = await api.get(`/v1/mandated-reports/${id}`);
  expect(server.status).toBe('acknowledged');
  expect(server.kind).toBe('child_protective_services');
  expect(server.agency).toBe('County DSS intake line');
  expect(server.case_id).toBe(caseId);
  expect(server.reported_how).toBe('phone');
  expect(server.reported_at).toBeTruthy();
  expect(server.intake_number).toBe(`INT-${m}`);
  expect(server.agency_worker).toBe('J. Rivera');

  // Its author and the branch's supervisors read it; the peer gets a missing id's answer.
  const peer = await apiAs(PEER);
  const peerRead = await peer.call('GET', `/v1/mandated-reports/${id}`);
  expect(peerRead.status).toBe(404);
  const missing = await peer.call('GET', `/v1/mandated-reports/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`);
  expect(peerRead.json?.title).toBe(missing.json?.title);
  const supervisor = await apiAs(SUPERVISOR);
  expect((await supervisor.get(`/v1/mandated-reports/${id}`)).id).toBe(id);
});

test('a report or referral not in the copy says so plainly', async ({ page }) => {
  await signInAs(page, PEER);
  const none = '01900000-0000-7000-8000-000000000000';
  await page.goto(`/#/report/${none}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Mandated report' })).toBeVisible();
  await expect(page.getByTestId('report-missing')).toContainText('is not in your copy');
  await auditBoth(page, 'report-missing');
  await page.goto(`/#/referral/${none}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Referral' })).toBeVisible();
  await expect(page.getByText('This referral is not in your copy.')).toBeVisible();
});
