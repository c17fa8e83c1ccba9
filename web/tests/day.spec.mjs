// A social worker's day, as the people of the floor use the app, against the
// real server (tests/run.sh): a peer's contact becomes a case; notes, a
// restricted note, a correction, a follow-up (done offline), a consent; a
// support request from security received and linked; and the peer on the
// team sees the case but never the restricted note.
import { test, expect } from '@playwright/test';
import { PEER, SECURITY, WORKER, apiLogin, audit, signIn, waitAllSent } from './helpers.mjs';

const mark = () => `m${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const nav = (page) => page.getByRole('navigation', { name: 'Main' });

async function signOut(page) {
  await waitAllSent(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByText('You signed out.')).toBeVisible();
}

/** Today on the device's calendar, as a date input takes it. */
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
};

test("a social worker's day: from a peer's contact to a case, a support request received, and the wall inside the team", async ({ page, context }) => {
  test.setTimeout(180_000);
  const m = mark();
  const name = `Rowan ${m}`;
  const secret = `Restricted ${m}: disclosed a health condition.`;

  // The peer meets someone new, adds them (a second try shows the possible duplicate) and logs the contact.
  await signIn(page, PEER);
  await nav(page).getByRole('link', { name: 'Patrons' }).click();
  await page.getByRole('button', { name: 'Add a patron' }).click();
  await page.getByLabel('Preferred name').fill(name);
  await page.getByLabel('Year of birth (optional)').fill('1990');
  await page.getByRole('button', { name: 'Add patron' }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  await nav(page).getByRole('link', { name: 'Patrons' }).click();
  await page.getByRole('button', { name: 'Add a patron' }).click();
  await page.getByLabel('Preferred name').fill(name);
  await page.getByLabel('Year of birth (optional)').fill('1990');
  await expect(page.getByTestId('possible-duplicates')).toContainText(name);
  await audit(page, 'patron-duplicates');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await nav(page).getByRole('link', { name: 'Log a contact' }).click();
  await page.getByRole('radio', { name: 'Outreach' }).check();
  await page.getByRole('radio', { name: 'A patron' }).check();
  await page.getByLabel('Find a patron by name').fill(m);
  await page.getByRole('button', { name: `Choose ${name}` }).click();
  await page.getByRole('checkbox', { name: 'Housing' }).check();
  await page.getByRole('button', { name: 'Save contact' }).click();
  await expect(page.getByText('Contact saved. It is waiting to send.')).toBeVisible();
  await signOut(page);

  // The social worker finds the patron and opens a case with the peer on its team.
  await signIn(page, WORKER);
  await expect(page.getByRole('heading', { level: 1, name: 'Caseload' })).toBeVisible();
  await audit(page, 'caseload');
  await nav(page).getByRole('link', { name: 'Patrons' }).click();
  await page.getByLabel('Find by name').fill(m);
  await page.getByRole('button', { name: 'Search the server too' }).click();
  await expect(page.getByText('The server has no other patron of that name for you.')).toBeVisible();
  await page.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  await audit(page, 'patron-file');
  await page.getByRole('link', { name: 'Open a case' }).click();
  await page.getByLabel('Summary').fill('Looking for a room before winter.');
  await page.getByRole('button', { name: 'Open the case' }).click();
  await expect(page.getByRole('heading', { level: 1, name: `Case: ${name}` })).toBeVisible();
  await page.getByLabel('Add a peer to the team').selectOption({ label: 'Robin Peer (demo)' });
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByTestId('case-team')).toContainText('Robin Peer (demo)');

  // Notes: a standard one over two lines, a restricted one, a correction.
  await page.getByLabel('Note', { exact: true }).fill('Met at the library.\nWants a room near the bus line.');
  await page.getByRole('button', { name: 'Save note' }).click();
  await page.getByLabel('Note', { exact: true }).fill(secret);
  await page.getByRole('checkbox', { name: 'Restricted note' }).check();
  await page.getByRole('button', { name: 'Save note' }).click();
  await expect(page.getByTestId('note').filter({ hasText: secret })).toContainText('Restricted');
  await page.getByTestId('note').filter({ hasText: 'Met at the library.' }).getByRole('button', { name: 'Correct this note' }).click();
  await page.getByLabel('Note', { exact: true }).fill('The bus line is the 12.');
  await page.getByRole('button', { name: 'Save correction' }).click();
  await expect(page.getByTestId('note').filter({ hasText: 'Met at the library.' }).getByTestId('amendment')).toContainText('The bus line is the 12.');

  // A consent, and a follow-up due today that is done while offline.
  await page.getByRole('button', { name: 'Record a consent' }).click();
  await page.getByLabel('Recipient').fill('Harbor Housing (demo)');
  await page.getByLabel('What may be shared').fill('name, phone, housing need');
  await page.getByLabel('Purpose').fill('housing referral');
  await page.getByRole('radio', { name: 'Signed' }).check();
  await page.getByRole('button', { name: 'Save consent' }).click();
  await expect(page.getByTestId('consents')).toContainText('Harbor Housing (demo)');
  await page.getByLabel('Due on').fill(today());
  await page.getByLabel('What to do (optional)').fill('Call the housing office');
  await page.getByRole('button', { name: 'Add follow-up' }).click();
  await expect(page.getByTestId('follow-up').filter({ hasText: 'Call the housing office' })).toBeVisible();
  await waitAllSent(page);
  await audit(page, 'case-file');

  await context.setOffline(true);
  await expect(page.getByTestId('online')).toHaveText('Offline');
  await page.getByTestId('follow-up').filter({ hasText: 'Call the housing office' }).getByRole('button', { name: /Mark done/ }).click();
  await page.getByLabel('Note', { exact: true }).fill('Called from the branch phone; left a message.');
  await page.getByRole('button', { name: 'Save note' }).click();
  await expect(page.getByTestId('waiting')).toHaveText('2 waiting to send');
  await context.setOffline(false);
  await waitAllSent(page);

  // What the server now holds, through the API.
  const sw = await apiLogin(WORKER);
  const peerId = (await (await apiLogin(PEER)).get('/v1/me')).id;
  const patrons = (await sw.get(`/v1/patrons?q=${m}`)).items;
  expect(patrons.map((p) => p.preferred_name)).toEqual([name]);
  const caseload = (await sw.get('/v1/me/caseload?limit=200')).items.map((i) => i.case);
  const theCase = caseload.find((c) => c.patron_id === patrons[0].id);
  expect(theCase.team).toEqual([peerId]);
  const notes = (await sw.get(`/v1/cases/${theCase.id}/notes?limit=200`)).items;
  expect(notes.map((n) => [n.sensitivity, n.body]).sort()).toEqual([
    ['restricted', secret],
    ['standard', 'Called from the branch phone; left a message.'],
    ['standard', 'Met at the library.\nWants a room near the bus line.'],
    ['standard', 'The bus line is the 12.'],
  ].sort());
  const original = notes.find((n) => n.body.startsWith('Met at'));
  expect(notes.find((n) => n.body === 'The bus line is the 12.').amends_note_id).toBe(original.id);
  const followUps = (await sw.get(`/v1/me/follow-ups?due_by=${today()}&limit=200`)).items;
  expect(followUps.filter((f) => f.case_id === theCase.id)).toEqual([]);
  const consents = (await sw.get(`/v1/patrons/${patrons[0].id}/consents`)).items;
  expect(consents.map((c) => [c.recipient, c.method, c.valid])).toEqual([['Harbor Housing (demo)', 'signed', true]]);

  // Security asks social work for help, sharing two fields of an incident.
  const security = await apiLogin(SECURITY);
  const branch = (await sw.get('/v1/me')).branches[0];
  const incident = await security.post('/v1/incidents', {
    branch_id: branch, occurred_at: new Date().toISOString(), category: 'intoxication',
    description: `Asleep in the reading room ${m}`, action_taken: 'none', persons_involved: `Hidden person ${m}`,
  });
  const request = await security.post('/v1/support-requests', {
    branch_id: branch, urgency: 'urgent', needed: `Check in with the person by the windows ${m}`,
    incident_id: incident.id, share: ['category', 'description'],
  });
  await page.getByRole('button', { name: 'Sync now' }).click();
  await expect(page.getByTestId('urgent-requests').or(page.getByTestId('waiting'))).toBeVisible();
  await nav(page).getByRole('link', { name: 'Support requests' }).click();
  await audit(page, 'requests');
  await page.getByRole('link', { name: new RegExp(`by the windows ${m}`) }).click();
  await expect(page.getByTestId('shared-fields')).toContainText('Intoxication');
  await expect(page.getByTestId('shared-fields')).toContainText(`Asleep in the reading room ${m}`);
  await expect(page.locator('main')).not.toContainText(`Hidden person ${m}`);
  await page.getByLabel('What it led to (optional)').selectOption({ label: name });
  await audit(page, 'request');
  await page.getByRole('button', { name: 'Receive' }).click();
  // The move shows at once (and waits in the outbox) before it is sent.
  await expect(page.locator('main .badge').first()).toHaveText('Received');
  await waitAllSent(page);
  const seenBySecurity = await security.get(`/v1/support-requests/${request.id}`);
  expect(seenBySecurity.status).toBe('received');
  expect(seenBySecurity.case_id).toBeUndefined();
  const seenBySw = await sw.get(`/v1/support-requests/${request.id}`);
  expect(seenBySw.case_id).toBe(theCase.id);

  // Phone-sized screens of the social worker.
  await page.setViewportSize({ width: 390, height: 844 });
  await audit(page, 'request');
  await page.goto(`/#/case/${theCase.id}`);
  await expect(page.getByRole('heading', { level: 1, name: `Case: ${name}` })).toBeVisible();
  await audit(page, 'case-file');
  await nav(page).getByRole('link', { name: 'Caseload' }).click();
  await audit(page, 'caseload');
  await page.setViewportSize({ width: 1024, height: 768 });
  await signOut(page);

  // The peer on the team: the summary and the standard notes, never the restricted one.
  await signIn(page, PEER);
  const screens = [];
  await nav(page).getByRole('link', { name: 'Patrons' }).click();
  screens.push(await page.locator('body').innerText());
  await page.getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  screens.push(await page.locator('body').innerText());
  await page.getByRole('link', { name: /Case opened/ }).click();
  await expect(page.getByTestId('case-summary')).toHaveText('Looking for a room before winter.');
  await expect(page.getByText('Wants a room near the bus line.')).toBeVisible();
  screens.push(await page.locator('body').innerText());
  await audit(page, 'case-file-peer');
  await nav(page).getByRole('link', { name: 'Today' }).click();
  screens.push(await page.locator('body').innerText());
  await nav(page).getByRole('link', { name: /To send/ }).click();
  screens.push(await page.locator('body').innerText());
  for (const text of screens) {
    expect(text).not.toContain(`Restricted ${m}`);
    expect(text).not.toContain('disclosed a health condition');
  }
  const held = await page.evaluate(() => document.documentElement.outerHTML);
  expect(held).not.toContain(`Restricted ${m}`);
});

test('a patron added on a device that has not yet synced the same person: the server flags the duplicate, and the patron file shows it', async ({ page }) => {
  const m = mark();
  const name = `Quinn ${m}`;
  await signIn(page, WORKER);
  // The same social worker on another device records them a moment later;
  // this device has not synced since, so its own check finds nobody.
  const other = await apiLogin(WORKER, 'Second tablet');
  const branch = (await other.get('/v1/me')).branches[0];
  const first = await other.post('/v1/patrons', { preferred_name: name, birth_year: 1985, home_branch_id: branch });
  await nav(page).getByRole('link', { name: 'Patrons' }).click();
  await page.getByRole('button', { name: 'Add a patron' }).click();
  await page.getByLabel('Preferred name').fill(name);
  await page.getByLabel('Year of birth (optional)').fill('1985');
  await expect(page.getByTestId('possible-duplicates')).toHaveCount(0);
  await page.getByRole('button', { name: 'Add patron' }).click();
  await waitAllSent(page);
  const flagged = page.getByTestId('server-duplicates');
  await expect(flagged).toContainText('The server flagged possible duplicates');
  await expect(flagged.getByRole('link', { name })).toHaveAttribute('href', `#/patron/${first.patron.id}`);
  await audit(page, 'patron-server-duplicates');
});
