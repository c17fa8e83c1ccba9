// The supervisor's screens against the real server (tests/run.sh) and its
// demo library: supervision (overdue referrals, expiring certifications,
// coverage, break-glass) and statistics (suppression kept visible, CSV).
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { ADMIN, audit, base } from './helpers.mjs';

const SUPERVISOR = { username: 'supervisor', password: 'demo-supervisor-password' };
const AUDITOR = { username: 'auditor', password: 'demo-auditor-password' };
const PHONE = { width: 390, height: 844 };
const DESK = { width: 1024, height: 768 };
const mark = () => `m${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** Signs in on screen and waits for the first sync (whatever the home screen's heading). */
async function signInOnScreen(page, who = SUPERVISOR) {
  await page.goto('/');
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  const deviceField = page.getByLabel('Name of this device');
  if (await deviceField.count()) await deviceField.fill('Supervisor tablet');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByTestId('last-synced')).toContainText('Last synced', { timeout: 30_000 });
  // The service worker must control the page before a test goes offline.
  await page.evaluate(async () => { await navigator.serviceWorker.ready; });
}

/** The API as a second device: any method, the answer's status checked. */
async function apiAs(who, device = 'Supervisor test checker') {
  const res = await fetch(`${base()}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: who.username, password: who.password, device_name: device }),
  });
  expect(res.status, `sign-in of ${who.username}`).toBe(200);
  const login = await res.json();
  const token = login.access_token;
  const call = async (method, path, body, { status = [200, 201, 204], accept = 'application/json' } = {}) => {
    const r = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    expect(status, `${method} ${path}: ${r.status}`).toContain(r.status);
    if (r.status === 204) return undefined;
    return accept === 'application/json' ? r.json() : r.text();
  };
  return {
    mustChange: login.password_change_required === true,
    get: (path, opts) => call('GET', path, undefined, opts),
    post: (path, body, opts) => call('POST', path, body, opts),
  };
}

/**
 * A case that none of the supervisor's branches holds. The demo supervisor
 * covers every demo branch (East included), so the case is opened at a new
 * branch: as admin, a branch and a social worker there; as that worker
 * (after choosing their own password), a patron and a case.
 */
async function caseOutsideSupervisorsBranches() {
  const admin = await apiAs(ADMIN);
  const m = mark();
  const branch = await admin.post('/v1/branches', { code: `T${m.slice(-8).toUpperCase()}`, name: `Northgate test branch ${m}` });
  const worker = { username: `sw.${m}`, password: `one-time password ${m}` };
  await admin.post('/v1/staff', { username: worker.username, display_name: `North Worker ${m}`, role: 'social_worker', branches: [branch.id], password: worker.password });
  const first = await apiAs(worker);
  expect(first.mustChange).toBe(true);
  const chosen = `their own passphrase ${m}`;
  await first.post('/v1/me/password', { current_password: worker.password, new_password: chosen });
  const sw = await apiAs({ username: worker.username, password: chosen });
  const made = await sw.post('/v1/patrons', { preferred_name: `North Patron ${m}`, home_branch_id: branch.id });
  const opened = await sw.post('/v1/cases', { patron_id: made.patron.id, summary: 'Test case outside the supervisor branches' });
  return opened.id;
}

test('supervision: overdue referrals, expiring certifications, coverage and break-glass', async ({ page }) => {
  const outside = await caseOutsideSupervisorsBranches();
  await signInOnScreen(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Supervision' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Supervision' })).toBeVisible();

  // The Main branch: the shelter referral, 3 days past its follow-up date.
  const sup = await apiAs(SUPERVISOR);
  const main = (await sup.get('/v1/branches')).items.find((b) => b.code === 'MAIN');
  const overdue = (await sup.get(`/v1/branches/${main.id}/referrals/overdue?limit=200`)).items;
  const shelter = overdue.find((r) => r.recipient_name.includes('Shelter'));
  expect(shelter).toBeTruthy();
  const panel = page.getByTestId('branch-panel').filter({ has: page.getByRole('heading', { level: 2, name: main.name }) });
  const item = panel.getByTestId('overdue-referral').filter({ hasText: shelter.recipient_name });
  await expect(item).toHaveCount(1);
  await expect(item.getByRole('link', { name: `Referral to ${shelter.recipient_name}`, exact: true })).toHaveAttribute('href', `#/referral/${shelter.id}`);
  // The demo's follow-up date is 3 days back (counted here in the browser's own calendar, as the screen does).
  const now = new Date();
  const [fy, fm, fd] = shelter.follow_up_on.split('-').map(Number);
  const late = Math.round((Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) - Date.UTC(fy, fm - 1, fd)) / 86_400_000);
  expect(late).toBeGreaterThanOrEqual(2);
  await expect(item).toContainText(`${late} days overdue`);
  await expect(item).toContainText('Requested');
  await expect(item).toContainText('Avery Demo'); // the patron's preferred name, from the copy
  await expect(item.getByRole('link', { name: /^Open the case to reassign it/ })).toHaveAttribute('href', `#/case/${shelter.case_id}`);

  // The certification expiring in about three weeks, and coverage.
  const expiring = panel.getByTestId('expiring-certification').filter({ hasText: 'Jo Librarian (demo)' });
  await expect(expiring).toContainText('Nonviolent Crisis Intervention (demo)');
  await expect(expiring).toContainText(/Expires .* \(in \d+ days\)/);
  await expect(panel.getByTestId('coverage')).toContainText('Nonviolent Crisis Intervention (demo)');
  await audit(page, 'supervise');
  await page.setViewportSize(PHONE);
  await audit(page, 'supervise');
  await page.setViewportSize(DESK);

  // Break-glass: a reason too short is stopped with the error summary.
  const form = page.getByTestId('break-glass');
  await expect(form).toContainText('auditor reviews each grant');
  const restricted = form.getByRole('checkbox', { name: 'Also open the case’s restricted notes' });
  await expect(restricted).not.toBeChecked();
  await form.getByLabel('Case reference').fill(outside);
  await form.getByLabel('Reason').fill('Family call');
  await expect(form.getByTestId('reason-count')).toHaveText('11 characters written; at least 20 needed.');
  await form.getByRole('button', { name: 'Break glass' }).click();
  const summary = page.locator('.error-summary');
  await expect(summary).toBeVisible();
  await expect(summary).toBeFocused();
  await expect(summary).toContainText('Reason: Write a reason of at least 20 characters');
  await audit(page, 'break-glass-errors');
  await page.setViewportSize(PHONE);
  await audit(page, 'break-glass-errors');
  await page.setViewportSize(DESK);
  // The summary's link takes focus to the field.
  await summary.getByRole('link', { name: /^Reason:/ }).click();
  await expect(form.getByLabel('Reason')).toBeFocused();

  // A written reason: the grant, its end and the case link.
  const reason = `Sister called the front desk: urgent welfare check ${mark()}`;
  await form.getByLabel('Reason').fill(reason);
  await form.getByLabel('How long').selectOption('2');
  await form.getByRole('button', { name: 'Break glass' }).click();
  const grant = page.getByTestId('grant');
  await expect(grant).toContainText(`Access granted to case ${outside}.`);
  await expect(grant).toContainText(/It ends at .+ on .+/);
  await expect(grant).toContainText('Restricted notes stay closed.');
  await expect(grant.getByRole('link', { name: 'Open the case' })).toHaveAttribute('href', `#/case/${outside}`);
  await expect(page.locator('.error-summary')).toHaveCount(0);
  await audit(page, 'break-glass-granted');
  await page.setViewportSize(PHONE);
  await audit(page, 'break-glass-granted');
  await page.setViewportSize(DESK);
  // The server holds the grant as asked, for the auditors' review.
  const auditor = await apiAs(AUDITOR);
  const grants = (await auditor.get('/v1/break-glass?reviewed=false')).items.filter((g) => g.case_id === outside);
  expect(grants).toHaveLength(1);
  expect(grants[0].reason).toBe(reason);
  expect(grants[0].restricted_notes).toBe(false);
  expect(new Date(grants[0].ends_at) - new Date(grants[0].starts_at)).toBe(2 * 3600 * 1000);

  // The server's refusals name the field: a second grant (never extended),
  // and a case already at one of the supervisor's branches.
  await form.getByLabel('Case reference').fill(outside);
  await form.getByLabel('Reason').fill(reason);
  await form.getByRole('button', { name: 'Break glass' }).click();
  await expect(summary).toContainText('Case reference: You already have an open grant to this case');
  await form.getByLabel('Case reference').fill(shelter.case_id);
  await form.getByRole('button', { name: 'Break glass' }).click();
  await expect(summary).toContainText('Case reference: This case is already at one of your branches');
});

/** Which API table each chart on screen draws, and the figure its bars show. */
const CHARTS = [
  { id: 'contacts-need', path: '/v1/stats/contacts', group_by: 'need', figure: 'count', button: 'Contacts by need' },
  { id: 'contacts-month', path: '/v1/stats/contacts', group_by: 'month', figure: 'count', button: 'Contacts by month' },
  { id: 'referrals-status', path: '/v1/stats/referrals', group_by: 'status', figure: 'count', button: 'Referrals by status' },
  { id: 'referrals-outcome', path: '/v1/stats/referrals', group_by: 'outcome', figure: 'count', button: 'Referrals by outcome' },
  { id: 'referrals-days', path: '/v1/stats/referrals', group_by: 'category', figure: 'count', button: 'Days from request to completion', bars: false },
  { id: 'incidents-rule', path: '/v1/stats/incidents', group_by: 'rule', figure: 'incidents', button: 'Incidents by rule' },
  { id: 'incidents-resolution', path: '/v1/stats/incidents', group_by: 'resolution', figure: 'incidents', button: 'Incidents by resolution' },
];

/** Every chart's table (and bars) show exactly the API's published figures for the period. */
async function expectPublished(page, sup, period) {
  let small = 0;
  for (const c of CHARTS) {
    const table = await sup.get(`${c.path}?period=${period}&group_by=${c.group_by}`);
    const chart = page.getByTestId(`chart-${c.id}`);
    await expect(chart.getByTestId('total')).toHaveText(table.total);
    await expect(chart.locator('tbody tr')).toHaveCount(table.rows.length);
    for (const r of table.rows) {
      const figure = r[c.figure];
      if (figure === '<5') small += 1;
      await expect(chart.locator(`tr[data-group="${r.group}"] td[data-col="0"]`), `${c.id} ${r.group}`).toHaveText(figure);
      if (c.bars !== false) {
        await expect(chart.locator(`g[data-group="${r.group}"] [data-testid="bar-value"]`), `${c.id} bar ${r.group}`).toHaveText(figure);
      }
    }
  }
  return small;
}

test('statistics: published figures with "<5" kept, CSV beside each chart, offline says so', async ({ page, context }) => {
  await signInOnScreen(page);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Statistics' }).click();

  await expect(page.getByRole('heading', { level: 1, name: 'Statistics' })).toBeVisible();
  const year = String(new Date().getFullYear());
  await expect(page.getByTestId('showing')).toHaveText(`Showing ${year}.`);

  const sup = await apiAs(SUPERVISOR);
  const small = await expectPublished(page, sup, year);
  expect(small, 'the demo has cells published as <5').toBeGreaterThan(0);
  // Wherever "<5" is published, no digit is drawn or written in its place.
  const smallCells = page.locator('td.small-count');
  expect(await smallCells.count()).toBeGreaterThan(0);
  for (const text of await smallCells.allTextContents()) expect(text).toBe('<5');
  for (const text of await page.locator('[data-testid="bar-value"].small').allTextContents()) expect(text).toBe('<5');
  await expect(page.locator('.bar-small').first()).toBeVisible();
  await audit(page, 'stats');
  await page.setViewportSize(PHONE);
  await audit(page, 'stats');
  await page.setViewportSize(DESK);

  // CSV beside the chart: the published rows (with "<5" as text), exactly as
  // the server's own CSV of the same table.
  let withSmall = null;
  for (const c of CHARTS) {
    const table = await sup.get(`${c.path}?period=${year}&group_by=${c.group_by}`);
    if (table.rows.some((r) => r[c.figure] === '<5')) { withSmall = c; break; }
  }
  expect(withSmall).toBeTruthy();
  // By keyboard: the button takes focus and Enter saves the file.
  await page.getByRole('button', { name: `Download CSV for ${withSmall.button}` }).focus();
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  expect(download.suggestedFilename()).toBe(`${withSmall.id}-${year}.csv`);
  const csv = readFileSync(await download.path(), 'utf8');
  expect(csv).toContain('<5');
  const serverCsv = await sup.get(`${withSmall.path}?period=${year}&group_by=${withSmall.group_by}`, { accept: 'text/csv' });
  expect(csv).toBe(serverCsv);
  // Every chart has its own CSV button.
  for (const c of CHARTS) await expect(page.getByRole('button', { name: `Download CSV for ${c.button}` })).toBeVisible();

  // Another period: this month.
  const now = new Date();
  const month = `${year}-${String(now.getMonth() + 1).padStart(2, '0')}`;
  await page.getByRole('radio', { name: 'Month' }).check();
  await page.locator('#stats-month').selectOption(month.slice(5));
  await page.getByRole('button', { name: 'Show statistics' }).click();
  await expect(page.getByTestId('showing')).toContainText(String(now.getFullYear()));
  await expect(page.getByTestId('showing')).not.toHaveText(`Showing ${year}.`);
  await expectPublished(page, sup, month);

  // Offline: the screen says it needs the network, and recovers.
  await context.setOffline(true);
  await expect(page.getByTestId('online')).toHaveText('Offline');
  await expect(page.getByTestId('needs-network')).toContainText('need the network');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Supervision' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Supervision' })).toBeVisible();
  await expect(page.getByTestId('needs-network').first()).toContainText('need the network');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Statistics' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Statistics' })).toBeVisible();
  await expect(page.getByTestId('needs-network')).toContainText('Statistics come from the server, so they need the network.');
  await expect(page.getByTestId('showing')).toHaveCount(0);
  await audit(page, 'stats-offline');
  await page.setViewportSize(PHONE);
  await audit(page, 'stats-offline');
  await page.setViewportSize(DESK);
  await context.setOffline(false);
  await expect(page.getByTestId('showing')).toHaveText(`Showing ${year}.`);
  await expect(page.getByTestId('needs-network')).toHaveCount(0);
  await expectPublished(page, sup, year);
});
