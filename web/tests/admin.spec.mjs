// The admins' screens against the real server (tests/run.sh) and its demo
// library: a branch, a staff account made with a one-time password that its
// person replaces at the first sign-in, that person's session ended and the
// account deactivated; the service directory (search, paging, a conflict),
// trainings and rules; error summaries; axe on every screen at tablet and
// phone sizes.
import { test, expect } from '@playwright/test';
import { ADMIN, audit, base, deviceState, signInDesk } from './helpers.mjs';

const DESK = { width: 1024, height: 768 };
const PHONE = { width: 390, height: 844 };
const mark = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.slice(-7);

/** axe and a screenshot at the tablet size and at the phone size, then back to the tablet. */
async function auditBoth(page, name) {
  await page.setViewportSize(DESK);
  await audit(page, name);
  await page.setViewportSize(PHONE);
  await audit(page, name);
  await page.setViewportSize(DESK);
}

const go = (page, name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
const h1 = (page, name) => expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
const summary = (page) => page.locator('.error-summary');

/** POST /v1/auth/login's status. */
async function loginStatus(username, password, device = 'Admin test checker') {
  const r = await fetch(`${base()}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, device_name: device }),
  });
  return r.status;
}

/** The API as the demo admin, any method, the status checked. */
async function adminApi() {
  const r = await fetch(`${base()}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password, device_name: 'Admin test API' }),
  });
  expect(r.status).toBe(200);
  const token = (await r.json()).access_token;
  return async (method, path, body, headers = {}) => {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    expect([200, 201, 204], `${method} ${path}: ${res.status}`).toContain(res.status);
    return res.status === 204 ? undefined : res.json();
  };
}

test('an admin makes a branch and an account; its person chooses their own password; the admin ends their session and deactivates it', async ({ page, browser }) => {
  const m = mark();
  const code = `T${m}`.toUpperCase().slice(0, 8);
  const branchName = `Test Branch ${m}`;
  const person = { name: `Test Person ${m}`, username: `p.test${m}` };

  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base() });
  await signInDesk(page, ADMIN);
  await h1(page, 'Staff accounts');
  await expect(page.getByTestId('account').filter({ hasText: 'Robin Peer (demo)' })).toContainText('Peer navigator');
  await auditBoth(page, 'admin-staff');

  // A branch: first the error summaries (ours, then the server's), then the branch.
  await go(page, 'Branches');
  await h1(page, 'Branches');
  await page.getByRole('button', { name: 'Add the branch' }).click();
  await expect(summary(page)).toBeFocused();
  await expect(summary(page)).toContainText('There is a problem');
  await summary(page).getByRole('link', { name: 'Name: Enter the branch’s name' }).click();
  await expect(page.locator('#branch-name')).toBeFocused();
  await page.locator('#branch-code').fill('X');
  await page.locator('#branch-name').fill(branchName);
  await page.getByRole('button', { name: 'Add the branch' }).click();
  // Too short: the server's problem names the field.
  const fromServer = summary(page).getByRole('link', { name: /^Code: must have at least 2 characters/ });
  await expect(fromServer).toBeVisible();
  await fromServer.click();
  await expect(page.locator('#branch-code')).toBeFocused();
  await auditBoth(page, 'admin-branches-errors');
  await page.locator('#branch-code').fill(code);
  await page.getByRole('button', { name: 'Add the branch' }).click();
  await expect(page.getByTestId('saved')).toHaveText(`Branch added: ${branchName} (${code}).`);
  await expect(page.getByTestId('branches').getByRole('row', { name: new RegExp(branchName) })).toBeVisible();
  await auditBoth(page, 'admin-branches');
  await page.getByRole('link', { name: `Change ${branchName}` }).click();
  await h1(page, `Change ${branchName}`);
  await auditBoth(page, 'admin-branch-edit');

  // The account: peer at that branch, with a generated one-time password.
  await go(page, 'Staff accounts');
  await page.getByRole('link', { name: 'Create a staff account' }).click();
  await h1(page, 'Create a staff account');
  await page.getByRole('button', { name: 'Create the account' }).click();
  await expect(summary(page)).toBeFocused();
  for (const text of ['Full name: Enter their full name', 'Username: Enter a username', 'Role: Choose a role', 'One-time password: Use at least 12 characters']) {
    await expect(summary(page).getByRole('link', { name: new RegExp('^' + text) })).toBeVisible();
  }
  await summary(page).getByRole('link', { name: /^Role: / }).click();
  await expect(page.getByRole('radio', { name: 'Peer navigator' })).toBeFocused();
  await page.getByLabel('Full name').fill(person.name);
  await page.getByLabel('Username').fill('ab');
  await page.getByRole('radio', { name: 'Peer navigator' }).check();
  // Every role says in a line what it does; peers never enforce.
  await expect(page.getByText('never enforces rules')).toBeVisible();
  await page.getByRole('checkbox', { name: `${branchName} (${code})` }).check();
  await page.getByRole('button', { name: 'Generate a password' }).click();
  const oneTime = await page.getByLabel('One-time password').inputValue();
  expect(oneTime.length).toBeGreaterThanOrEqual(16);
  expect(oneTime).toMatch(/^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){4}$/);
  await page.getByRole('button', { name: 'Generate a password' }).click();
  const again = await page.getByLabel('One-time password').inputValue();
  expect(again).not.toBe(oneTime);
  await auditBoth(page, 'admin-staff-new');
  await page.getByRole('button', { name: 'Create the account' }).click();
  // The server refuses the username; the summary names the field.
  await expect(summary(page).getByRole('link', { name: /^Username: must have at least 3 characters/ })).toBeVisible();
  await page.getByLabel('Username').fill(person.username);
  await page.getByRole('button', { name: 'Create the account' }).click();
  const shown = page.getByTestId('one-time');
  await expect(shown).toBeFocused();
  await expect(shown.getByRole('heading', { name: `Account created for ${person.name} (${person.username})` })).toBeVisible();
  await expect(page.getByTestId('one-time-password')).toHaveText(again);
  await expect(shown).toContainText('in person');
  await expect(shown).toContainText('shown only this once');
  await shown.getByRole('button', { name: 'Copy the password' }).click();
  await expect(shown.getByText('Copied.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(again);
  await auditBoth(page, 'admin-staff-created');
  await page.getByRole('link', { name: `Open the account of ${person.name}` }).click();
  await h1(page, person.name);
  await expect(page.getByTestId('account-line')).toContainText('Peer navigator');
  await expect(page.getByTestId('no-sessions')).toBeVisible();
  // Their training: a completion recorded (the summary first).
  const certForm = page.getByTestId('new-certification');
  await certForm.getByRole('button', { name: 'Record the completion' }).click();
  await expect(certForm.locator('.error-summary').getByRole('link', { name: 'Training: Choose the training' })).toBeVisible();
  await certForm.getByLabel('Training', { exact: true }).selectOption({ label: 'Trauma-Informed Care (demo)' });
  await certForm.getByRole('button', { name: 'Record the completion' }).click();
  await expect(page.getByTestId('certs-saved')).toHaveText('Recorded: Trauma-Informed Care (demo).');
  await expect(page.getByTestId('certifications').getByRole('row', { name: /Trauma-Informed Care/ })).toContainText('Does not expire');

  // The person, on their own device: the one-time password, then their own.
  const theirs = await browser.newContext({ baseURL: base(), viewport: DESK, serviceWorkers: 'allow' });
  const tablet = await theirs.newPage();
  let access = '';
  let refresh = '';
  tablet.on('request', (r) => {
    const a = r.headers().authorization;
    if (a?.startsWith('Bearer ')) access = a.slice(7);
  });
  tablet.on('response', async (r) => {
    const path = new URL(r.url()).pathname;
    if ((path === '/v1/auth/login' || path === '/v1/auth/refresh') && r.ok()) {
      const body = await r.json().catch(() => null);
      if (body?.refresh_token) { refresh = body.refresh_token; access = body.access_token; }
    }
  });
  await tablet.goto('/');
  await tablet.getByLabel('Username').fill(person.username);
  await tablet.getByLabel('Password', { exact: true }).fill(again);
  await tablet.getByLabel('Name of this device').fill('Test person tablet');
  await tablet.getByRole('button', { name: 'Sign in', exact: true }).click();
  await h1(tablet, 'Choose your own password');
  const own = `my own long passphrase ${m}`;
  await tablet.getByLabel('New password', { exact: true }).fill(own);
  await tablet.getByLabel('The new password again').fill(own);
  await tablet.getByRole('button', { name: 'Save my password' }).click();
  await h1(tablet, 'Today');
  expect(access).not.toBe('');
  // The one-time password no longer signs in; their own does.
  expect(await loginStatus(person.username, again)).toBe(401);

  // Back as admin: the device is listed; ending its session ends their access.
  await page.getByRole('button', { name: 'Check again' }).click();
  const device = page.getByTestId('session').filter({ hasText: 'Test person tablet' });
  await expect(device).toBeVisible();
  await auditBoth(page, 'admin-account');
  await device.getByRole('button', { name: 'End this session on Test person tablet' }).click();
  await expect(page.getByTestId('sessions-saved')).toHaveText('The session on Test person tablet has ended: that device must sign in again.');
  await expect(page.getByTestId('no-sessions')).toBeVisible();
  await expect.poll(async () => (await fetch(`${base()}/v1/me`, { headers: { authorization: `Bearer ${access}` } })).status, { timeout: 5_000 }).toBe(401);
  if (refresh) {
    const r = await fetch(`${base()}/v1/auth/refresh`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: refresh }) });
    expect(r.status).toBe(401);
  }
  // Their tablet finds out at its next request and wipes its copy.
  await tablet.getByRole('button', { name: 'Sync now' }).click();
  await expect(tablet.getByText('Your session ended, so the copy on this device was deleted.')).toBeVisible();
  await theirs.close();

  // Deactivated: their own password no longer signs in either. The account
  // changed since this page read it (its person chose a password): the
  // version moved on, so the server refuses (412) until it is reloaded.
  expect(await loginStatus(person.username, own)).toBe(200);
  await page.getByRole('button', { name: 'Deactivate the account' }).click();
  await expect(page.getByText(`Deactivate the account of ${person.name}?`)).toBeVisible();
  await page.getByRole('button', { name: 'Yes, deactivate it' }).click();
  const stale = page.getByTestId('stale');
  await expect(stale).toBeFocused();
  await expect(stale).toContainText('The account changed since you opened it, so your change was not saved.');
  await expect(page.getByTestId('account-line')).toContainText('Active');
  await auditBoth(page, 'admin-account-conflict');
  await stale.getByRole('button', { name: 'Reload' }).click();
  await expect(page.getByTestId('stale')).toHaveCount(0);
  await page.getByRole('button', { name: 'Deactivate the account' }).click();
  await page.getByRole('button', { name: 'Yes, deactivate it' }).click();
  await expect(page.getByTestId('account-saved')).toContainText(`The account of ${person.name} is deactivated`);
  await expect(page.getByTestId('account-line')).toContainText('Deactivated');
  expect(await loginStatus(person.username, own)).toBe(401);
  await expect(page.getByTestId('no-sessions')).toHaveText('A deactivated account has no sessions.');
  await auditBoth(page, 'admin-account-deactivated');

  // The admin's own account: no deactivating oneself.
  await go(page, 'Staff accounts');
  await page.getByRole('link', { name: 'Demo Administrator' }).click();
  await expect(page.getByText('You cannot deactivate your own account')).toBeVisible();
  await expect(page.getByTestId('session').filter({ hasText: 'This device' })).toBeVisible();
});

test('an admin keeps the directory (search, pages, a conflict), the trainings and the rules', async ({ page }) => {
  const m = mark();
  const call = await adminApi();
  await signInDesk(page, ADMIN);

  // The directory: a new entry, the error summary first.
  await go(page, 'Service directory');
  await h1(page, 'Service directory');
  await expect(page.getByTestId('service').filter({ hasText: 'Harbor Food Pantry' })).toBeVisible();
  await auditBoth(page, 'admin-directory');
  await page.getByRole('link', { name: 'Add a service' }).click();
  await h1(page, 'Add a service');
  await page.getByRole('button', { name: 'Add the service' }).click();
  await expect(summary(page)).toBeFocused();
  await expect(summary(page).getByRole('link')).toHaveCount(3);
  await summary(page).getByRole('link', { name: 'Organization: Enter the organization' }).click();
  await expect(page.getByLabel('Organization')).toBeFocused();
  await auditBoth(page, 'admin-service-new');
  const service = `Zephyr Laundry Vouchers ${m}`;
  await page.getByLabel('Organization').fill(`Test Mutual Aid ${m}`);
  await page.getByLabel('Service name').fill(service);
  await page.getByRole('checkbox', { name: 'Housing' }).check();
  await page.getByRole('checkbox', { name: 'Other' }).check();
  await page.getByLabel('Phone').fill('555-0142');
  await page.getByLabel('Languages').fill('en, es');
  await page.getByRole('button', { name: 'Add the service' }).click();
  await h1(page, `Change ${service}`);
  await expect(page.getByTestId('saved')).toHaveText(`Added to the directory: ${service}.`);
  const id = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);

  // Found by search (beginnings of words).
  await go(page, 'Service directory');
  await page.getByLabel('Organization or service name').fill(`zeph laund ${m}`);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('service')).toHaveCount(1);
  await expect(page.getByTestId('service')).toContainText(service);
  await expect(page.getByTestId('service')).toContainText('Housing, Other');

  // Pages: 21 entries, 20 at a time with the API's cursor.
  for (let i = 0; i < 21; i++) {
    await call('POST', '/v1/services', { organization_name: `Paging Probe ${m}`, name: `Probe ${String(i).padStart(2, '0')}`, categories: ['other'] });
  }
  await page.getByLabel('Organization or service name').fill(`paging probe ${m}`);
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('service')).toHaveCount(20);
  await expect(page.getByText('20 shown. There are more.')).toBeVisible();
  await page.getByRole('button', { name: 'Show more services' }).click();
  await expect(page.getByTestId('service')).toHaveCount(21);
  await expect(page.getByText('21 shown.', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Show more services' })).toHaveCount(0);

  // A conflict: someone else changes the entry while it is open here.
  await page.goto(`/#/admin-directory/${id}`);
  await h1(page, `Change ${service}`);
  const current = await call('GET', `/v1/services/${id}`);
  await call('PATCH', `/v1/services/${id}`, { phone: '555-0199' }, { 'if-match': `"${current.version}"` });
  await page.getByLabel('Who may use it').fill('Anyone in the county');
  await page.getByRole('button', { name: 'Save the service' }).click();
  const stale = page.getByTestId('stale');
  await expect(stale).toBeFocused();
  await expect(stale).toContainText('Someone else changed this first');
  await expect(stale).toContainText('your change was not saved');
  await auditBoth(page, 'admin-service-conflict');
  await stale.getByRole('button', { name: 'Reload' }).click();
  await expect(page.getByLabel('Phone')).toHaveValue('555-0199');
  await page.getByLabel('Who may use it').fill('Anyone in the county');
  await page.getByRole('button', { name: 'Save the service' }).click();
  await expect(page.getByTestId('saved')).toHaveText(`Saved: ${service}.`);
  expect((await call('GET', `/v1/services/${id}`)).eligibility).toBe('Anyone in the county');

  // A training.
  await go(page, 'Trainings');
  await h1(page, 'Trainings');
  const training = `Test De-escalation ${m}`;
  const form = page.getByTestId('new-training');
  await form.getByLabel('Name').fill(training);
  await form.getByLabel('Provider').fill('Test Provider');
  await form.getByLabel('Renew every (months)').fill('abc');
  await form.getByRole('button', { name: 'Add the training' }).click();
  await expect(summary(page).getByRole('link', { name: /^Renew every \(months\): Enter a whole number/ })).toBeVisible();
  await form.getByLabel('Renew every (months)').fill('24');
  await form.getByLabel('Counts as de-escalation training').check();
  await form.getByRole('button', { name: 'Add the training' }).click();
  await expect(page.getByTestId('saved')).toHaveText(`Training added: ${training}.`);
  await expect(page.getByTestId('trainings').getByRole('row', { name: new RegExp(training) })).toContainText('Every 24 months');
  await auditBoth(page, 'admin-trainings');
  await page.getByRole('link', { name: `Change ${training}` }).click();
  await h1(page, `Change ${training}`);
  await auditBoth(page, 'admin-training-edit');
  await page.getByLabel('Provider').fill('Another Provider');
  await page.getByRole('button', { name: 'Save the training' }).click();
  await h1(page, 'Trainings');
  await expect(page.getByTestId('saved')).toHaveText(`Saved: ${training}.`);
  await expect(page.getByTestId('trainings').getByRole('row', { name: new RegExp(training) })).toContainText('Another Provider');

  // A rule of behavior, for one branch; then retired.
  await go(page, 'Rules of behavior');
  await h1(page, 'Rules of behavior');
  const rule = `test_quiet_${m}`;
  await page.getByRole('button', { name: 'Add the rule' }).click();
  await expect(summary(page).getByRole('link', { name: 'Code: Enter a code' })).toBeVisible();
  await page.getByLabel('Code').fill(rule);
  await page.getByLabel('The rule as posted').fill('Quiet voices in the reading room (test).');
  await page.getByLabel('Where it applies').selectOption({ label: 'Main Library (demo)' });
  await page.getByRole('button', { name: 'Add the rule' }).click();
  await expect(page.getByTestId('saved')).toHaveText(`Rule added: ${rule}.`);
  const item = page.getByTestId('rule').filter({ hasText: rule });
  await expect(item).toContainText('Main Library (demo)');
  await expect(item).toContainText('In force');
  await auditBoth(page, 'admin-rules');
  await item.getByRole('link', { name: `Change ${rule}` }).click();
  await h1(page, `Change the rule ${rule}`);
  await page.getByRole('radio', { name: 'Retired' }).check();
  await auditBoth(page, 'admin-rule-edit');
  await page.getByRole('button', { name: 'Save the rule' }).click();
  await h1(page, 'Rules of behavior');
  await expect(page.getByTestId('rule').filter({ hasText: rule })).toContainText('Retired');
  const rules = await call('GET', '/v1/rules?include_inactive=true');
  expect(rules.items.find((r) => r.code === rule)?.active).toBe(false);

  // Online only: no database, no /v1/ answer in Cache Storage, only the device's name in storage.
  const kept = await deviceState(page);
  expect(kept.dbs).toEqual({});
  expect(kept.cached.filter((p) => p.startsWith('/v1/'))).toEqual([]);
  expect(kept.local).toEqual(['casework.device_name']);
  expect(kept.session).toEqual([]);

  // Offline: a screen says it needs the network, and loads by itself when it is back.
  await page.context().setOffline(true);
  await go(page, 'Branches');
  await expect(page.getByTestId('needs-network')).toContainText('This needs the network');
  await expect(page.getByText('You are offline. These screens need the network')).toBeVisible();
  await page.context().setOffline(false);
  await expect(page.getByTestId('branches')).toContainText('Main Library (demo)');
});

test('an admin imports Open Referral (HSDS) files into the directory, twice without duplicates', async ({ page }) => {
  // Invented services under names no other test searches for (the demo server is shared).
  const m = `${Date.now().toString(36)}`;
  const hsds = JSON.stringify([
    { id: `imp-${m}-1`, name: `Imported Tenant Desk ${m}`, organization: { name: `Imported Legal Aid ${m} (invented)` },
      attributes: [{ taxonomy_term: { code: 'legal' } }], phones: [{ number: '555-0301' }] },
    { id: `imp-${m}-2`, name: `Imported Benefits Clinic ${m}`, organization: { name: `Imported Legal Aid ${m} (invented)` },
      attributes: [{ taxonomy_term: { name: 'Benefits' } }] },
    { id: `imp-${m}-3`, name: '', organization: { name: `Imported Nameless ${m} (invented)` } },
  ], null, 2);
  const file = { name: 'services.json', mimeType: 'application/json', buffer: Buffer.from(hsds) };
  const brokenLine = hsds.split('\n').findIndex((l) => l.includes(`imp-${m}-3`));
  await signInDesk(page, ADMIN);
  await go(page, 'Service directory');
  await h1(page, 'Service directory');
  const importButton = page.getByRole('button', { name: 'Import', exact: true });
  await importButton.click();
  await expect(page.locator('.error-summary')).toContainText('Choose the files to import');
  for (const [created, updated] of [[2, 0], [0, 2]]) {
    await page.getByLabel('Files to import').setInputFiles(file);
    await importButton.click();
    const report = page.getByTestId('import-report');
    await expect(report).toContainText(`Imported: ${created} new and ${updated} updated entries.`);
    // The broken service's object starts on the line before its id.
    await expect(report).toContainText(`services.json line ${brokenLine}: name: is required`);
  }
  await audit(page, 'admin-import');
  const res = await fetch(`${base()}/v1/services?q=${encodeURIComponent(`imported ${m}`)}`, { headers: { authorization: `Bearer ${await token()}` } });
  const found = (await res.json()).items.map((s) => [s.hsds_id, s.categories]);
  expect(found.sort()).toEqual([[`imp-${m}-1`, ['legal']], [`imp-${m}-2`, ['benefits']]]);
});

async function token() {
  const r = await fetch(`${base()}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN.username, password: ADMIN.password, device_name: 'Import check' }),
  });
  return (await r.json()).access_token;
}
