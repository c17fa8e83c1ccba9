// The app as a peer uses it, against the real server (tests/run.sh).
import { test, expect } from '@playwright/test';
import { PEER, apiLogin, audit, findPatron, logContact, serverContacts, signIn, waitAllSent } from './helpers.mjs';

const mark = () => `m${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

test('a peer signs in and logs a contact that the server applies', async ({ page }) => {
  await page.goto('/');
  await audit(page, 'sign-in');
  await signIn(page);
  await audit(page, 'today');
  const m = mark();
  await logContact(page, { kind: 'Drop-in', needs: ['Food', 'Housing'], services: `Pantry list ${m}` });
  await audit(page, 'log-contact');
  await waitAllSent(page);
  const api = await apiLogin();
  const mine = (await serverContacts(api)).filter((c) => c.services_given.includes(`Pantry list ${m}`));
  expect(mine).toHaveLength(1);
  expect(mine[0].kind).toBe('drop_in');
  expect(mine[0].needs.sort()).toEqual(['food', 'housing']);
  await page.getByRole('link', { name: 'Today', exact: true }).click();
  await expect(page.getByText(`Services: Pantry list ${m}`)).toBeVisible();
});

test('offline: two contacts and a change wait, survive a reload, and are applied once online', async ({ page, context }) => {
  await signIn(page);
  const m = mark();
  await logContact(page, { kind: 'Outreach', services: `Online first ${m}` });
  await waitAllSent(page);
  await context.setOffline(true);
  await expect(page.getByTestId('online')).toHaveText('Offline');
  await logContact(page, { kind: 'Outreach', services: `Offline one ${m}` });
  await logContact(page, { kind: 'Crisis', needs: ['Safety'], services: `Offline two ${m}` });
  await page.getByRole('link', { name: 'Today', exact: true }).click();
  await page.locator('li.item', { hasText: `Online first ${m}` }).getByRole('link', { name: /^Change/ }).click();
  await audit(page, 'edit-contact');
  await page.getByRole('checkbox', { name: 'Benefits' }).check();
  await page.getByLabel('Note (optional)').fill(`Changed offline ${m}`);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByText('Changes saved. They are waiting to send.')).toBeVisible();
  await expect(page.getByTestId('waiting')).toHaveText('3 waiting to send');
  await page.getByRole('link', { name: 'Patrons', exact: true }).click();
  await audit(page, 'patrons');

  await page.reload();
  await expect(page.getByRole('heading', { name: 'Unlock your copy' })).toBeVisible();
  await audit(page, 'unlock');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByText('That password does not open the copy.').first()).toBeVisible();
  await page.getByLabel('Password').fill(PEER.password);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByTestId('waiting')).toHaveText('3 waiting to send');
  await page.getByRole('link', { name: 'Today', exact: true }).click();
  await expect(page.getByText(`Services: Offline two ${m}`)).toBeVisible();

  await context.setOffline(false);
  await waitAllSent(page);
  const api = await apiLogin();
  const contacts = await serverContacts(api);
  expect(contacts.filter((c) => c.services_given.includes(`Offline one ${m}`))).toHaveLength(1);
  const two = contacts.filter((c) => c.services_given.includes(`Offline two ${m}`));
  expect(two).toHaveLength(1);
  expect(two[0].kind).toBe('crisis');
  const changed = contacts.filter((c) => c.services_given.includes(`Online first ${m}`));
  expect(changed).toHaveLength(1);
  expect(changed[0].note).toBe(`Changed offline ${m}`);
  expect(changed[0].needs).toEqual(['benefits']);
  // Each offline contact reached the server once, with its audit event.
  const auditor = await apiLogin({ username: 'auditor', password: 'demo-auditor-password' });
  const one = contacts.filter((c) => c.services_given.includes(`Offline one ${m}`));
  for (const c of [one[0], two[0]]) {
    const events = await auditor.get(`/v1/audit/events?record_id=${c.id}&action=create&limit=50`);
    expect(events.items.filter((e) => e.outcome === 'allowed')).toHaveLength(1);
  }
});

test('a conflict made by a second device is shown and resolved on screen', async ({ page }) => {
  await signIn(page);
  const m = mark();
  await logContact(page, { kind: 'Outreach', services: `Contested ${m}` });
  await waitAllSent(page);
  const other = await apiLogin(PEER, 'Second device');
  const contact = (await serverContacts(other)).find((c) => c.services_given.includes(`Contested ${m}`));
  await other.patch(`/v1/contacts/${contact.id}`, contact.version, { note: `Server ${m}` });

  await page.getByRole('link', { name: 'Today', exact: true }).click();
  await page.locator('li.item', { hasText: `Contested ${m}` }).getByRole('link', { name: /^Change/ }).click();
  await page.getByLabel('Note (optional)').fill(`Mine ${m}`);
  await page.getByRole('button', { name: 'Save changes' }).click();
  await expect(page.getByTestId('need-you')).toHaveText('1 need you');
  await page.getByTestId('need-you').click();
  await expect(page.getByText('Someone changed this on the server')).toBeVisible();
  await expect(page.getByText(`Server ${m}`)).toBeVisible();
  await expect(page.getByText(`Mine ${m}`)).toBeVisible();
  await audit(page, 'conflict');
  await page.getByRole('button', { name: 'Apply mine on top' }).click();
  await waitAllSent(page);
  await expect(page.getByTestId('need-you')).toHaveCount(0);
  const after = (await serverContacts(other)).find((c) => c.id === contact.id);
  expect(after.note).toBe(`Mine ${m}`);
});

test('a rejected contact shows the field messages and is corrected', async ({ page }) => {
  await signIn(page);
  const m = mark();
  await logContact(page, { kind: 'Outreach', services: `Too long ${m}`, note: 'x'.repeat(2001) });
  await expect(page.getByTestId('need-you')).toHaveText('1 need you');
  await page.getByTestId('need-you').click();
  await expect(page.getByText(/The server did not accept this/)).toBeVisible();
  await expect(page.locator('.field-errors li').first()).toContainText('note');
  await audit(page, 'rejected');
  await page.getByRole('link', { name: 'Correct it' }).click();
  await expect(page.getByRole('heading', { name: 'Correct the contact' })).toBeVisible();
  await expect(page.locator('.error-summary')).toContainText('Note');
  await audit(page, 'correct-contact');
  await page.getByLabel('Note (optional)').fill('Shorter now.');
  await page.getByRole('button', { name: 'Save and send again' }).click();
  await waitAllSent(page);
  const api = await apiLogin();
  const mine = (await serverContacts(api)).filter((c) => c.services_given.includes(`Too long ${m}`));
  expect(mine).toHaveLength(1);
  expect(mine[0].note).toBe('Shorter now.');
});

test('signing out leaves no casework in IndexedDB, Cache Storage or localStorage', async ({ page }) => {
  await signIn(page);
  const before = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  expect(before.some((n) => n?.startsWith('casework-'))).toBe(true);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByText('You signed out.')).toBeVisible();
  const left = await page.evaluate(async () => {
    const dbs = (await indexedDB.databases()).map((d) => d.name);
    const cached = [];
    for (const k of await caches.keys()) for (const r of await (await caches.open(k)).keys()) cached.push(new URL(r.url).pathname);
    return { dbs, cached, local: Object.keys(localStorage), session: Object.keys(sessionStorage) };
  });
  expect(left.dbs.filter((n) => n?.startsWith('casework-'))).toEqual([]);
  expect(left.cached.filter((p) => p.startsWith('/v1/'))).toEqual([]);
  expect(left.local).toEqual(['casework.device_name']);
  expect(left.session).toEqual([]);
});

test.describe('on a phone (390x844)', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });
  test('every screen passes axe and is captured', async ({ page, context }) => {
    await page.goto('/');
    await audit(page, 'sign-in');
    await signIn(page);
    await audit(page, 'today');
    await page.getByRole('link', { name: 'Log a contact' }).first().click();
    await page.getByRole('button', { name: 'Save contact' }).click();
    await expect(page.locator('.error-summary')).toBeVisible();
    await audit(page, 'log-contact-errors');
    await page.getByRole('link', { name: 'Patrons', exact: true }).click();
    await audit(page, 'patrons');
    await page.getByRole('link', { name: 'Today', exact: true }).click();
    await page.getByRole('link', { name: /^Change/ }).first().click();
    await audit(page, 'edit-contact');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^To send/ }).click();
    await audit(page, 'outbox');
    await context.setOffline(true);
    await page.reload();
    await audit(page, 'unlock');
  });
});

test('the service worker keeps every shell file under the generated version', async ({ page, request }) => {
  await signIn(page);
  const listed = await (await request.get('/shell-files.js')).text();
  const version = /SHELL_VERSION = "([^"]+)"/.exec(listed)?.[1];
  const files = JSON.parse(/SHELL_FILES = (\[[^\]]*\])/.exec(listed)?.[1].replace(/,\s*\]$/, ']') ?? '[]');
  expect(files).toContain('/app.js');
  const cached = await page.evaluate(async () => {
    const out = {};
    for (const k of await caches.keys()) out[k] = (await (await caches.open(k)).keys()).map((r) => new URL(r.url).pathname).sort();
    return out;
  });
  expect(Object.keys(cached)).toEqual([version]);
  expect(cached[version]).toEqual([...files].sort());
});
