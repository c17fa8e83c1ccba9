// Security's and branch staff's screens against the real server
// (tests/run.sh) and its demo library: reporting an incident (responders and
// the peer rule, police after N minutes, a rule of behavior), printing it,
// searching, editing within the window and amending, suspensions and what a
// branch's staff see of them, the support request (two incident fields
// shared; afterwards the status only), and the wall: nothing of casework on
// screen, fetched or kept on the device for these roles.
import { test, expect } from '@playwright/test';
import { SECURITY, STAFF, WORKER, apiLogin, audit, deviceState, signInDesk } from './helpers.mjs';

const DESK = { width: 1024, height: 768 };
const PHONE = { width: 390, height: 844 };
const MAIN = 'Main Library (demo)';
/** Demo casework that must never reach these roles' screens. */
const CASEWORK = ['Avery Demo', 'Blake Example', 'Carmen Sample', 'Dev Placeholder', 'Demo case'];
/** The only /v1/ paths these roles' app may ask for (safety, support, the directory, the session). */
const ALLOWED = [/^\/v1\/auth\//, /^\/v1\/me$/, /^\/v1\/branches(\/[^/]+\/suspensions\/active)?$/, /^\/v1\/staff$/, /^\/v1\/rules$/,
  /^\/v1\/incidents(\/[^/]+(\/amendments)?)?$/, /^\/v1\/suspensions(\/[^/]+(\/lift)?)?$/, /^\/v1\/support-requests(\/[^/]+)?$/];

/** A word no other test writes (letters only, so it is one word of a description). */
const word = () => 'zq' + Array.from({ length: 8 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('');
/** @param {Date} d */
const localInput = (d) => {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
};
const nav = (page) => page.getByRole('navigation', { name: 'Main' });

/** Goes to a route of the app without reloading (the session lives in memory). */
async function goTo(page, route) {
  await page.evaluate((h) => { location.hash = h; }, '#/' + route);
}
/** Waits for a screen: its heading, and nothing still loading. */
async function settled(page) {
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.getByText('Loading from the server…')).toHaveCount(0);
}
/** The screen shows nothing of the demo casework. */
async function noCasework(page, where) {
  const text = await page.evaluate(() => document.body.innerText);
  for (const name of CASEWORK) expect(text.includes(name), `${name} on ${where}`).toBe(false);
}
/** Every /v1/ request the page makes, for the wall check. */
function watchApi(page) {
  const paths = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith('/v1/')) paths.push(u.pathname);
  });
  return paths;
}
async function mainBranchId() {
  const sec = await apiLogin(SECURITY);
  return (await sec.get('/v1/branches')).items.find((b) => b.name === MAIN).id;
}

test('security reports an incident, finds it, prints it, and asks social work for help sharing two fields: then sees the status only', async ({ page }) => {
  const marker = word();
  const calls = watchApi(page);
  await signInDesk(page, SECURITY);
  await expect(page.getByRole('heading', { level: 1, name: 'Incidents' })).toBeVisible();
  await expect(nav(page).getByRole('link')).toHaveText(['Incidents', 'Report an incident', 'Suspensions', 'Help requests']);

  await nav(page).getByRole('link', { name: 'Report an incident' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Report an incident' })).toBeVisible();
  await page.getByLabel('Branch').selectOption({ label: MAIN });
  await page.getByRole('radio', { name: 'Disturbance' }).check();
  const rule = page.getByLabel('Rule of behavior');
  await expect(rule.locator('option', { hasText: 'respect:' })).toHaveCount(1);
  await rule.selectOption({ label: 'respect: Treat others with respect; no threats or harassment (demo).' });
  await page.getByLabel('What happened', { exact: true }).fill(`Raised voices at the returns desk; ${marker} threats after two warnings.`);
  await page.getByLabel('Persons involved').fill('An adult in a green scarf');
  await page.getByRole('radio', { name: 'Asked to leave' }).check();

  // Responders: the peer rule is said where the part is chosen, and enforced there.
  await expect(page.getByText('A peer navigator can be recorded only as offering support')).toHaveCount(0);
  await page.getByRole('button', { name: 'Add a responder' }).click();
  await expect(page.locator('#inc-r0part-hint')).toContainText('A peer navigator can be recorded only as offering support, never as the one who enforced a rule.');
  await page.locator('#inc-r0who').selectOption({ label: 'Robin Peer (demo) (Peer navigator)' });
  const part0 = page.locator('#inc-r0part');
  await expect(part0.getByTestId('peer-rule')).toContainText('This is a peer navigator');
  await expect(part0.getByRole('radio', { name: 'Support' })).toBeChecked();
  for (const p of ['Lead', 'Assisting', 'Witness']) await expect(part0.getByRole('radio', { name: p })).toBeDisabled();
  await page.locator('#inc-r0who').selectOption({ label: 'Jo Librarian (demo) (Branch staff)' });
  await expect(part0.getByRole('radio', { name: 'Lead' })).toBeEnabled();
  await part0.getByRole('radio', { name: 'Lead' }).check();
  await page.getByRole('button', { name: 'Add a responder' }).click();
  await page.locator('#inc-r1who').selectOption({ label: 'Someone from outside (police, paramedics)' });
  await page.getByLabel('Describe who they were').fill('Two city police officers');
  await page.locator('#inc-r1part').getByRole('radio', { name: 'Assisting' }).check();

  // The police, resolved by them after 12 minutes of de-escalation.
  await page.locator('#inc-resolution').getByRole('radio', { name: 'Police', exact: true }).check();
  const police = page.getByRole('checkbox', { name: 'The police were called' });
  await expect(police).toBeChecked();
  await expect(police).toBeDisabled();
  await page.getByLabel('Minutes before the police were called').fill('12');
  await audit(page, 'safety-report-form');

  await page.getByRole('button', { name: 'Send the report' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Incident reported.');
  const incidentId = page.url().match(/#\/incident\/([0-9a-f-]{36})$/)[1];
  await expect(page.getByRole('heading', { level: 1, name: /^Disturbance, / })).toBeVisible();
  const facts = page.getByTestId('incident-facts');
  await expect(facts).toContainText(MAIN);
  await expect(facts).toContainText('respect: Treat others with respect');
  await expect(page.getByTestId('incident-police')).toHaveText('Called after 12 minutes of de-escalation');
  const rows = page.getByTestId('responders').locator('tbody tr');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('Jo Librarian (demo)');
  await expect(rows.nth(0)).toContainText('Branch staff');
  await expect(rows.nth(0)).toContainText('Lead');
  await expect(rows.nth(1)).toContainText('Two city police officers');
  await expect(rows.nth(1)).toContainText('From outside');

  // The server holds what was said.
  const sec = await apiLogin(SECURITY);
  const held = await sec.get(`/v1/incidents/${incidentId}`);
  expect(held).toMatchObject({ category: 'disturbance', action_taken: 'asked_to_leave', resolution: 'police', police_called: true, minutes_before_police: 12 });
  expect(held.rule_id).toBeTruthy();
  expect(held.responders.map((r) => [r.role, r.part])).toEqual([['staff', 'lead'], ['outside', 'assisting']]);

  // Fresh: inside the 24-hour window, so "edit" is offered as well as "amend".
  await expect(page.getByTestId('edit-window')).toContainText('You can edit this report until');
  await expect(page.getByRole('link', { name: 'Edit the report' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Add an amendment' })).toBeVisible();
  await audit(page, 'safety-incident');

  // Printable: a Print button calls window.print(); the print stylesheet keeps the record only.
  await page.evaluate(() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; });
  await page.getByRole('button', { name: 'Print' }).click();
  expect(await page.evaluate(() => window.__printed)).toBe(1);
  await page.emulateMedia({ media: 'print' });
  await expect(nav(page)).toBeHidden();
  await expect(page.getByText('Online only: nothing is kept on this device.')).toBeHidden();
  await expect(page.getByRole('button', { name: 'Print' })).toBeHidden();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeHidden();
  await expect(page.getByTestId('incident-facts')).toBeVisible();
  await expect(page.getByTestId('responders')).toBeVisible();
  await expect(page.getByText(/^Printed /)).toBeVisible();
  await page.emulateMedia({ media: 'screen' });
  await expect(page.getByText(/^Printed /)).toBeHidden();

  // Search as security finds it by a word of its description, and with filters.
  await nav(page).getByRole('link', { name: 'Incidents', exact: true }).click();
  await settled(page);
  await page.getByLabel('Words of the description').fill(marker);
  await page.getByLabel('Category').selectOption({ label: 'Disturbance' });
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('result-count')).toHaveText('1 incident.');
  await expect(page.getByTestId('incident-item')).toContainText(marker);
  await page.getByLabel('Category').selectOption({ label: 'Theft' });
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page.getByTestId('result-count')).toHaveText('No incident found.');
  await page.getByLabel('Category').selectOption({ label: 'Any category' });
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByTestId('incident-item').getByRole('link').click();
  await expect(page.getByTestId('incident-description')).toContainText(marker);

  // The support request: urgency, what is needed, exactly two of the incident's fields.
  await page.getByRole('link', { name: 'Ask social work for help' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Ask social work for help' })).toBeVisible();
  await expect(page.getByTestId('help-incident')).toContainText('Disturbance at Main Library (demo)');
  await page.getByRole('radio', { name: 'Urgent' }).check();
  const asked = word();
  const needed = `Please come to the returns desk ${asked}: the person is upset and may need shelter.`;
  await page.getByLabel('What is needed').fill(needed);
  await page.getByRole('checkbox', { name: 'When it happened' }).check();
  await page.getByRole('checkbox', { name: 'Category' }).check();
  await expect(page.getByTestId('share-count')).toHaveText('2 details will be shared.');
  await audit(page, 'safety-help-form');
  await page.getByRole('button', { name: 'Send the request' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Request sent to social work.');
  const requestId = page.url().match(/#\/help-request\/([0-9a-f-]{36})$/)[1];
  await expect(page.getByTestId('help-status')).toHaveText('Sent, waiting');
  // Afterwards the requester sees only the status: not what was asked, nor the incident.
  const shown = await page.locator('main').innerText();
  expect(shown).not.toContain(asked);
  expect(shown).not.toContain(marker);
  await expect(page.getByTestId('help-facts')).toContainText('Not yet');
  await audit(page, 'safety-help-status');

  // The social worker reads the request with those two fields, and nothing else of the incident.
  const worker = await apiLogin(WORKER);
  const seen = await worker.get(`/v1/support-requests/${requestId}`);
  expect(Object.keys(seen.shared).sort()).toEqual(['category', 'occurred_at']);
  expect(seen.shared.category).toBe('disturbance');
  expect(Date.parse(seen.shared.occurred_at)).toBe(Date.parse(held.occurred_at));
  expect(JSON.stringify(seen)).not.toContain(marker);
  expect(seen.needed).toBe(needed);
  expect(await worker.status(`/v1/incidents/${incidentId}`)).toBe(404);
  // The requester's own read through the API is the status only, as the screen shows it.
  const mine = await sec.get(`/v1/support-requests/${requestId}`);
  expect(Object.keys(mine).sort()).toEqual(['created_at', 'id', 'status', 'version']);

  // Social work receives it: the status on screen changes when asked again.
  await worker.post(`/v1/support-requests/${requestId}/receive`, {}, { 'If-Match': `"${seen.version}"` });
  await page.getByRole('button', { name: 'Check the status again' }).click();
  await expect(page.getByTestId('help-status')).toHaveText('Received');
  await expect(page.getByTestId('help-facts')).toContainText('Social work');

  // And after a reload (sign in again: nothing was kept), in the list of help requests.
  await page.reload();
  await signInDesk(page, SECURITY);
  await nav(page).getByRole('link', { name: 'Help requests' }).click();
  await settled(page);
  const row = page.locator(`[data-testid="help-row"][data-id="${requestId}"]`);
  await expect(row.getByTestId('help-status')).toHaveText('Received');
  await expect(page.locator('main')).not.toContainText(needed);

  for (const path of calls) expect(ALLOWED.some((re) => re.test(path)), `security asked for ${path}`).toBe(true);
});

test('an incident is edited within its 24-hour window, amended, and offers only amendments once the window has passed', async ({ page }) => {
  const marker = word();
  const main = await mainBranchId();
  const sec = await apiLogin(SECURITY);
  const made = await sec.post('/v1/incidents', {
    branch_id: main, occurred_at: new Date(Date.now() - 3_600_000).toISOString(), category: 'theft',
    description: `A bag taken from a study table ${marker}.`, action_taken: 'warning',
  });
  await signInDesk(page, SECURITY);
  await goTo(page, `incident/${made.id}`);
  await settled(page);
  await expect(page.getByTestId('edit-window')).toContainText('You can edit this report until');
  await page.getByRole('link', { name: 'Edit the report' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Change the incident report' })).toBeVisible();
  await expect(page.getByRole('radio', { name: 'Theft' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Warning' })).toBeChecked();
  await page.getByLabel('What happened', { exact: true }).fill(`A bag taken from a study table ${marker}; found later in the stacks.`);
  await page.getByRole('radio', { name: 'The person left' }).check();
  await audit(page, 'safety-incident-edit');
  await page.getByRole('button', { name: 'Save the changes' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Changes saved.');
  await expect(page.getByTestId('incident-description')).toContainText('found later in the stacks');
  await expect(page.getByTestId('incident-facts')).toContainText('The person left');
  expect((await sec.get(`/v1/incidents/${made.id}`)).version).toBe(2);

  // An amendment: its own author and time; the report's text stays.
  await page.getByRole('link', { name: 'Add an amendment' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Add an amendment' })).toBeVisible();
  await page.getByRole('button', { name: 'Add the amendment' }).click();
  await expect(page.getByRole('alert')).toContainText('Say what is added or corrected');
  await page.getByLabel('What is added or corrected').fill('The owner collected the bag at 5 pm.');
  await audit(page, 'safety-incident-amend');
  await page.getByRole('button', { name: 'Add the amendment' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Amendment added.');
  await expect(page.getByTestId('amendment')).toContainText('The owner collected the bag at 5 pm.');
  await expect(page.getByTestId('amendment')).toContainText('Added by you');
  await expect(page.getByTestId('incident-description')).toContainText('found later in the stacks');

  // 25 hours on (this device's clock): only amendments are offered, and the edit screen says why.
  await page.clock.setFixedTime(new Date(Date.now() + 25 * 3_600_000));
  await goTo(page, 'incidents');
  await settled(page);
  await goTo(page, `incident/${made.id}`);
  await settled(page);
  await expect(page.getByTestId('edit-window')).toContainText('The report closed to edits on');
  await expect(page.getByRole('link', { name: 'Edit the report' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Add an amendment' })).toBeVisible();
  await goTo(page, `incident/${made.id}/edit`);
  await expect(page.getByTestId('edit-closed')).toContainText('closed to edits');
  await expect(page.getByRole('link', { name: 'Add an amendment' })).toBeVisible();
});

test('suspensions: security records one with its scope and end and changes it; staff see the current suspensions at their branch only', async ({ page }) => {
  const marker = word();
  const person = `Adult in a green scarf ${marker}`;
  const reason = `Threats toward staff after two warnings ${marker}.`;
  await signInDesk(page, SECURITY);
  await nav(page).getByRole('link', { name: 'Suspensions' }).click();
  await settled(page);
  await expect(page.getByTestId('suspension-item').filter({ hasText: 'Adult in a red cap (demo)' })).toContainText('Main Library (demo) only');
  await page.getByRole('link', { name: 'Record a suspension' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Record a suspension' })).toBeVisible();
  await page.getByRole('button', { name: 'Record the suspension' }).click();
  await expect(page.getByRole('alert')).toContainText('Enter a name or a description');
  await page.getByLabel('Person', { exact: true }).fill(person);
  await page.getByRole('radio', { name: 'One branch' }).check();
  await page.getByLabel('Branch', { exact: true }).selectOption({ label: MAIN });
  const ends = new Date(Date.now() + 14 * 86_400_000);
  ends.setHours(18, 0, 0, 0);
  await page.getByLabel('Ends').fill(localInput(ends));
  await page.getByLabel('Reason').fill(reason);
  await page.getByRole('radio', { name: 'In person' }).check();
  await audit(page, 'safety-suspension-form');
  await page.getByRole('button', { name: 'Record the suspension' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Suspension recorded.');
  const facts = page.getByTestId('suspension-facts');
  await expect(facts).toContainText('In force');
  await expect(facts).toContainText('Main Library (demo) only');
  await audit(page, 'safety-suspension');

  // Change its end and record an appeal.
  await page.getByRole('button', { name: 'Change the suspension' }).click();
  const later = new Date(ends.getTime() + 7 * 86_400_000);
  await page.getByLabel('Ends').fill(localInput(later));
  await page.getByRole('radio', { name: 'Requested' }).check();
  await page.getByRole('button', { name: 'Save the changes' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Suspension changed.');
  await expect(facts).toContainText('Requested');
  const sec = await apiLogin(SECURITY);
  const list = await sec.get('/v1/suspensions?status=active');
  const mine = list.items.find((s) => s.person === person);
  expect(mine).toMatchObject({ scope: 'branch', appeal_status: 'requested', notified_how: 'in_person' });
  expect(Date.parse(mine.ends_at)).toBe(later.getTime());

  // A system-wide one (kept) and a branch one lifted early on screen, with a reason.
  const main = await mainBranchId();
  const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString();
  const everywhere = `Person everywhere ${marker}`;
  await sec.post('/v1/suspensions', { person: everywhere, scope: 'system_wide', ends_at: inAWeek, reason: 'Repeated threats.', notified_how: 'letter' });
  const gone = await sec.post('/v1/suspensions', { person: `Person lifted ${marker}`, scope: 'branch', branch_id: main, ends_at: inAWeek, reason: 'Mistaken identity.', notified_how: 'phone' });
  await goTo(page, `suspension/${gone.id}`);
  await settled(page);
  await page.getByRole('button', { name: 'Lift the suspension' }).click();
  await page.getByRole('button', { name: 'Lift it now' }).click();
  await expect(page.getByRole('alert')).toContainText('Say why it ends early');
  await page.getByLabel('Why it ends early').fill('It was someone else.');
  await page.getByRole('button', { name: 'Lift it now' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Suspension lifted.');
  await expect(facts).toContainText('Lifted');
  await expect(facts).toContainText('It was someone else.');
  await expect(page.getByRole('button', { name: 'Lift the suspension' })).toHaveCount(0);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signInDesk(page, STAFF);
  // Staff's menu: nothing of security's suspension records, nothing of casework.
  await expect(page.getByRole('heading', { level: 1, name: 'Report an incident' })).toBeVisible();
  await expect(nav(page).getByRole('link')).toHaveText(['Report an incident', 'Incidents at my branch', 'Current suspensions', 'Help requests']);
  await nav(page).getByRole('link', { name: 'Current suspensions' }).click();
  await settled(page);
  const here = page.getByTestId('branch-suspensions');
  await expect(here.getByRole('heading', { level: 2 })).toHaveText(MAIN);
  const row = here.getByTestId('current-suspension').filter({ hasText: person });
  await expect(row).toContainText('This branch');
  await expect(row).toContainText(String(later.getFullYear()));
  await expect(here.getByTestId('current-suspension').filter({ hasText: 'Adult in a red cap (demo)' })).toHaveCount(1);
  await expect(here.getByTestId('current-suspension').filter({ hasText: everywhere })).toContainText('All branches (system-wide)');
  await expect(here.getByTestId('current-suspension').filter({ hasText: 'Person lifted' })).toHaveCount(0);
  // Who, where, until when: nothing else (no reason, no appeal).
  await expect(page.locator('main')).not.toContainText(reason);
  await expect(page.locator('main')).not.toContainText('Requested');
  await audit(page, 'safety-current-suspensions');
  // Security's routes are not staff's.
  await goTo(page, 'suspensions');
  await expect(page.getByRole('heading', { level: 1, name: 'Nothing here for your role' })).toBeVisible();
  await goTo(page, `suspension/${mine.id}`);
  await expect(page.getByRole('heading', { level: 1, name: 'Nothing here for your role' })).toBeVisible();
});

test('staff report an incident at their branch, read their branch incidents, and ask for help without sharing anything', async ({ page }) => {
  const marker = word();
  await signInDesk(page, STAFF);
  await expect(page.getByRole('heading', { level: 1, name: 'Report an incident' })).toBeVisible();
  // Staff report at their own branch only: the one branch is chosen already.
  await expect(page.getByLabel('Branch')).toHaveValue(await mainBranchId());
  await expect(page.getByLabel('Branch').locator('option')).toHaveCount(2);
  await page.getByRole('radio', { name: 'Unattended child' }).check();
  await page.getByLabel('What happened', { exact: true }).fill(`A child waiting alone near the picture books ${marker}.`);
  await page.getByRole('radio', { name: 'None', exact: true }).check();
  // By keyboard: adding a responder moves focus to who it is; the parts are radios.
  await page.getByRole('button', { name: 'Add a responder' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('#inc-r0who')).toBeFocused();
  await page.locator('#inc-r0who').selectOption({ label: 'Jo Librarian (demo) (Branch staff)' });
  await page.locator('#inc-r0part').getByRole('radio', { name: 'Lead' }).focus();
  await page.keyboard.press('Space');
  await expect(page.locator('#inc-r0part').getByRole('radio', { name: 'Lead' })).toBeChecked();
  await page.keyboard.press('ArrowRight');
  await expect(page.locator('#inc-r0part').getByRole('radio', { name: 'Assisting' })).toBeChecked();
  await page.locator('#inc-r0who').selectOption({ label: 'Robin Peer (demo) (Peer navigator)' });
  await expect(page.locator('#inc-r0part').getByRole('radio', { name: 'Support' })).toBeChecked();
  await expect(page.locator('#inc-r0part').getByRole('radio', { name: 'Assisting' })).toBeDisabled();
  await page.getByRole('radio', { name: 'Social work support' }).check();
  await expect(page.getByRole('checkbox', { name: 'The police were called' })).not.toBeChecked();
  await expect(page.getByLabel('Minutes before the police were called')).toHaveCount(0);
  await page.getByRole('button', { name: 'Send the report' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Incident reported.');
  await expect(page.getByTestId('responders')).toContainText('Peer navigator');
  await expect(page.getByTestId('incident-police')).toHaveText('Not called');
  // The author may edit it within the window.
  await expect(page.getByRole('link', { name: 'Edit the report' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Record a suspension' })).toHaveCount(0);

  await nav(page).getByRole('link', { name: 'Incidents at my branch' }).click();
  await settled(page);
  await expect(page.getByTestId('incident-item').filter({ hasText: marker })).toHaveCount(1);
  await expect(page.getByLabel('Branch')).toHaveCount(0);

  await nav(page).getByRole('link', { name: 'Help requests' }).click();
  await settled(page);
  await page.getByRole('link', { name: 'Ask social work for help' }).click();
  await page.getByRole('button', { name: 'Send the request' }).click();
  await expect(page.getByRole('alert')).toContainText('Choose how soon');
  await expect(page.getByRole('alert')).toContainText('Say what is needed');
  await page.getByRole('radio', { name: 'Routine' }).check();
  await page.getByLabel('What is needed').fill(`Someone to talk with a regular who seems unwell ${marker}.`);
  await page.getByRole('button', { name: 'Send the request' }).click();
  await expect(page.getByTestId('help-status')).toHaveText('Sent, waiting');
  const requestId = page.url().match(/#\/help-request\/([0-9a-f-]{36})$/)[1];
  const seen = await (await apiLogin(WORKER)).get(`/v1/support-requests/${requestId}`);
  expect(seen.shared ?? {}).toEqual({});
  await nav(page).getByRole('link', { name: 'Help requests' }).click();
  await expect(page.locator(`[data-testid="help-row"][data-id="${requestId}"]`).getByTestId('help-status')).toHaveText('Sent, waiting');
  await expect(page.locator('main')).not.toContainText(marker);
});

test('offline, each screen says it needs the network and keeps nothing', async ({ page, context }) => {
  await signInDesk(page, SECURITY);
  await settled(page);
  await context.setOffline(true);
  for (const route of ['incidents', 'report-incident', 'suspensions', 'help-requests']) {
    await goTo(page, route);
    await expect(page.getByTestId('needs-network').first()).toContainText('This screen needs the network');
  }
  await context.setOffline(false);
  await goTo(page, 'incidents');
  await expect(page.getByTestId('result-count')).toBeVisible();
});

for (const [who, role] of [[SECURITY, 'security'], [STAFF, 'staff']]) {
  test(`the wall for ${role}: every screen, both sizes, no casework shown, fetched or kept`, async ({ page }) => {
    const calls = watchApi(page);
    await signInDesk(page, who);
    await settled(page);
    // The routes this role reaches: its menu, and the records under it.
    const routes = (await nav(page).getByRole('link').evaluateAll((as) => as.map((a) => a.getAttribute('href').slice(2))));
    await goTo(page, 'incidents');
    await settled(page);
    const incident = (await page.getByTestId('incident-item').first().getByRole('link').getAttribute('href')).slice(2);
    routes.push(incident, `${incident}/amend`, `help-request/new/${incident.split('/')[1]}`, 'help-request/new');
    await goTo(page, 'help-requests');
    await settled(page);
    const help = page.getByTestId('help-row').first().getByRole('link');
    if (await help.count()) routes.push((await help.getAttribute('href')).slice(2));
    if (role === 'security') {
      await goTo(page, 'suspensions');
      await settled(page);
      routes.push((await page.getByTestId('suspension-item').first().getByRole('link').getAttribute('href')).slice(2), 'suspension/new');
    }
    for (const size of [DESK, PHONE]) {
      await page.setViewportSize(size);
      for (const route of routes) {
        await goTo(page, route);
        await settled(page);
        await expect(page.getByRole('heading', { level: 1, name: 'Nothing here for your role' })).toHaveCount(0);
        await noCasework(page, `${role} ${route}`);
        await audit(page, `safety-${role}-${route.replace(/[0-9a-f-]{36}/g, 'ID').replace(/\//g, '-')}`);
      }
    }
    // Nothing of casework kept on the device: no copy, no API answer cached, one storage key.
    const kept = await deviceState(page);
    expect(kept.dbs).toEqual({});
    expect(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith('casework-')))).toEqual([]);
    expect(kept.cached.filter((p) => p.startsWith('/v1/'))).toEqual([]);
    expect(kept.local).toEqual(['casework.device_name']);
    expect(kept.session).toEqual([]);
    // And never asked for: every call was safety, support, the directory or the session.
    expect(calls.length).toBeGreaterThan(0);
    for (const path of calls) expect(ALLOWED.some((re) => re.test(path)), `${role} asked for ${path}`).toBe(true);
  });
}
