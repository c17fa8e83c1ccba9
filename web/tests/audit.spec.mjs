// The auditors' screens against the real server (tests/run.sh) and its demo
// library: the access log and its filters, "who searched for this name",
// the accounting of disclosures (print view, CSV), anomalies, break-glass
// review, the chain and its receipt, and that nothing of the trail is kept
// on the device.
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { ADMIN, AUDITOR, SUPERVISOR, WORKER, audit, base, deviceState, signInDesk } from './helpers.mjs';

const PHONE = { width: 390, height: 844 };
const DESK = { width: 1024, height: 768 };
const mark = () => `m${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** The API as another device: any method, the answer's status checked. */
async function apiAs(who, device = 'Audit test checker') {
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

/** A staff account by username (the directory, as the auditor reads it). */
async function staffNamed(api, username) {
  let cursor;
  do {
    const page = await api.get(`/v1/staff?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const hit = page.items.find((s) => s.username === username);
    if (hit) return hit;
    cursor = page.next_cursor;
  } while (cursor);
  throw new Error(`no staff account ${username}`);
}

/**
 * A case none of the supervisor's branches holds (the demo supervisor covers
 * every demo branch): as admin a new branch and a social worker there, who
 * chooses their own password, then a patron and a case.
 */
async function caseOutsideSupervisorsBranches() {
  const admin = await apiAs(ADMIN);
  const m = mark();
  const branch = await admin.post('/v1/branches', { code: `A${m.slice(-8).toUpperCase()}`, name: `Audit test branch ${m}` });
  const worker = { username: `sw.${m}`, password: `one-time password ${m}` };
  await admin.post('/v1/staff', { username: worker.username, display_name: `Audit Worker ${m}`, role: 'social_worker', branches: [branch.id], password: worker.password });
  const first = await apiAs(worker);
  expect(first.mustChange).toBe(true);
  const chosen = `their own passphrase ${m}`;
  await first.post('/v1/me/password', { current_password: worker.password, new_password: chosen });
  const sw = await apiAs({ username: worker.username, password: chosen });
  const made = await sw.post('/v1/patrons', { preferred_name: `Audit Patron ${m}`, home_branch_id: branch.id });
  const opened = await sw.post('/v1/cases', { patron_id: made.patron.id, summary: 'Test case outside the supervisor branches' });
  return { caseId: opened.id, patronId: made.patron.id };
}

const nav = (page) => page.getByRole('navigation', { name: 'Main' });
async function go(page, link, heading) {
  await nav(page).getByRole('link', { name: link, exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
  await expect(nav(page).getByRole('link', { name: link, exact: true })).toHaveAttribute('aria-current', 'page');
}

/** The social worker finds Avery Demo and reads the file, through the API. */
async function workerReadsAvery() {
  const sw = await apiAs(WORKER);
  const found = await sw.get('/v1/patrons?q=avery');
  const avery = found.items.find((p) => p.preferred_name === 'Avery Demo');
  expect(avery, 'the demo patron Avery Demo').toBeTruthy();
  await sw.get(`/v1/patrons/${avery.id}`);
  return avery;
}

test('the access log, who searched for a name, and the accounting of disclosures (print, CSV)', async ({ page }) => {
  const started = new Date().toISOString();
  const avery = await workerReadsAvery();
  const auditor = await apiAs(AUDITOR);
  const worker = await staffNamed(auditor, WORKER.username);
  // The read, as the server recorded it.
  const reads = (await auditor.get(`/v1/audit/events?patron_id=${avery.id}&actor_id=${worker.id}&action=read&limit=500`)).items;
  const read = reads.find((e) => e.record_id === avery.id && e.recorded_at >= started);
  expect(read, 'the social worker’s read in the trail').toBeTruthy();

  await signInDesk(page, AUDITOR);
  // The access log is the auditor's home.
  await expect(page.getByRole('heading', { level: 1, name: 'Access log' })).toBeVisible();
  await expect(nav(page).getByRole('link', { name: 'Access log', exact: true })).toHaveAttribute('aria-current', 'page');

  // A patron reference that is not one is stopped, with the summary.
  const filters = page.getByTestId('log-filters');
  await filters.getByLabel('Patron reference').fill('avery');
  await filters.getByRole('button', { name: 'Show events' }).click();
  await expect(page.locator('.error-summary')).toBeFocused();
  await expect(page.locator('.error-summary')).toContainText('Patron reference: Enter the patron’s reference');

  // By patron and staff member (the directory's picker) and what they did.
  await filters.getByLabel('Patron reference').fill(avery.id);
  await filters.getByLabel('Staff member').selectOption({ label: `${worker.display_name} (${worker.username}), Social worker` });
  await filters.getByLabel('What they did').selectOption({ label: 'Read' });
  await filters.getByLabel('Outcome').selectOption({ label: 'Allowed' });
  await filters.getByRole('button', { name: 'Show events' }).click();
  await expect(page.locator('.error-summary')).toHaveCount(0);
  const rows = page.getByTestId('events').getByTestId('event');
  await expect(rows).toHaveCount(reads.length);
  const row = page.locator(`[data-testid="event"][data-id="${read.id}"]`);
  await expect(row).toContainText(worker.display_name);
  await expect(row).toContainText('Social worker');
  await expect(row).toContainText('Read');
  await expect(row).toContainText('Patron');
  await expect(row).toContainText(avery.id);
  await expect(row).toContainText('Allowed');
  // Its details: the rule, the fields by name (never their values).
  await row.getByRole('button', { name: `Details of event ${read.seq}` }).click();
  const details = page.getByTestId('event-details');
  await expect(details).toContainText(read.rule);
  await expect(details).toContainText('preferred_name');
  await expect(details).not.toContainText('Avery');
  await row.getByRole('button', { name: `Hide details of event ${read.seq}` }).click();
  await expect(details).toHaveCount(0);

  // Other filters reach the server as asked: a kind of record, role, branch, time.
  await filters.getByLabel('Kind of record').selectOption({ label: 'Patron' });
  await filters.getByLabel('Their role at the time').selectOption({ label: 'Social worker' });
  await filters.getByLabel('One of their branches at the time').selectOption({ label: 'Main Library (demo)' });
  const from = new Date(Date.parse(started) - 60_000);
  const p2 = (n) => String(n).padStart(2, '0');
  await filters.getByLabel('From', { exact: true }).fill(`${from.getFullYear()}-${p2(from.getMonth() + 1)}-${p2(from.getDate())}T${p2(from.getHours())}:${p2(from.getMinutes())}`);
  const asked = page.waitForRequest((r) => r.url().includes('/v1/audit/events?'));
  await filters.getByRole('button', { name: 'Show events' }).click();
  const query = new URL((await asked).url()).searchParams;
  expect(Object.fromEntries(query)).toMatchObject({ actor_id: worker.id, patron_id: avery.id, action: 'read', outcome: 'allowed', record_type: 'patron', actor_role: 'social_worker', limit: '50' });
  expect(query.get('branch_id')).toBeTruthy();
  expect(Date.parse(query.get('from'))).toBeLessThanOrEqual(Date.parse(started));
  await expect(page.locator(`[data-testid="event"][data-id="${read.id}"]`)).toBeVisible();
  await audit(page, 'audit-log');
  await page.setViewportSize(PHONE);
  await audit(page, 'audit-log');
  await page.setViewportSize(DESK);

  // Paging: the whole trail, 50 at a time, with "Show more".
  await filters.getByRole('button', { name: 'Clear filters' }).click();
  await expect(page.getByTestId('log-count')).toHaveText('50 events shown; there are more.');
  await page.getByRole('button', { name: 'Show more' }).click();
  await expect.poll(() => rows.count()).toBeGreaterThan(50);
  const seqs = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
  expect(new Set(seqs).size).toBe(seqs.length);

  // Who searched for this name: the worker's search for "avery" (case ignored), found by fingerprint.
  await go(page, 'Who searched', 'Who searched for this name?');
  await page.getByRole('button', { name: 'Find the searches' }).click();
  await expect(page.locator('.error-summary')).toContainText('Enter the name or words to look for');
  await page.getByLabel('Name or words').fill('AVERY');
  await page.getByRole('button', { name: 'Find the searches' }).click();
  const hit = page.getByTestId('search-hit').filter({ hasText: worker.display_name }).filter({ hasText: avery.id }).last();
  await expect(hit).toBeVisible();
  await expect(hit).toContainText('1 record:');
  // Patron searches only, unless the auditors' own searches of the trail are asked for.
  await expect(page.getByTestId('search-hit').filter({ hasText: 'Audit trail' })).toHaveCount(0);
  const me = await staffNamed(auditor, AUDITOR.username);
  await page.getByLabel('Also auditors’ searches of the trail for these words').check();
  await page.getByRole('button', { name: 'Find the searches' }).click();
  await expect(page.getByTestId('search-hit').filter({ hasText: me.display_name }).filter({ hasText: 'Audit trail' }).first()).toBeVisible();
  await page.getByLabel('Also auditors’ searches of the trail for these words').uncheck();
  expect(page.url()).not.toContain('avery');
  expect(page.url()).not.toContain('AVERY');
  await page.getByLabel('Name or words').fill('nobody-by-this-name');
  await page.getByRole('button', { name: 'Find the searches' }).click();
  await expect(page.getByTestId('who-count')).toHaveText('No search held these words.');
  await page.getByLabel('Name or words').fill('avery');
  await page.getByRole('button', { name: 'Find the searches' }).click();
  await expect(hit).toBeVisible();
  await audit(page, 'audit-searches');
  await page.setViewportSize(PHONE);
  await audit(page, 'audit-searches');
  await page.setViewportSize(DESK);

  // From the search to the patron's accounting of disclosures.
  await hit.getByRole('link', { name: `Disclosures for patron ${avery.id}` }).first().click();
  await expect(page.getByRole('heading', { level: 1, name: 'Accounting of disclosures' })).toBeVisible();
  await expect(page.getByLabel('Patron reference')).toHaveValue(avery.id);
  const report = page.getByTestId('disclosure-report');
  await expect(report).toContainText(avery.id);
  const server = await auditor.get(`/v1/audit/disclosures?patron_id=${avery.id}`);
  const mine = server.rows.find((r) => r.staff_id === worker.id);
  const disclosed = report.locator(`[data-testid="disclosure-row"][data-staff="${worker.id}"]`);
  await expect(disclosed).toContainText(worker.display_name);
  await expect(disclosed).toContainText('Social worker');
  await expect(disclosed).toContainText(String(mine.accesses));
  await expect(disclosed).toContainText('Patron');
  await expect(report.getByTestId('disclosures-total')).toHaveText(String(server.rows.reduce((n, r) => n + r.accesses, 0)));
  await audit(page, 'audit-disclosures');
  await page.setViewportSize(PHONE);
  await audit(page, 'audit-disclosures');
  await page.setViewportSize(DESK);

  // The CSV, made on the device, is the server's own CSV of the same accounting.
  const [download] = await Promise.all([page.waitForEvent('download'), report.getByRole('button', { name: 'Save as CSV' }).click()]);
  expect(download.suggestedFilename()).toBe(`disclosures-${avery.id}.csv`);
  const csv = readFileSync(await download.path(), 'utf8');
  const serverCsv = await auditor.get(`/v1/audit/disclosures?patron_id=${avery.id}`, { accept: 'text/csv' });
  expect(csv).toBe(serverCsv);
  expect(csv.split('\n')[0]).toBe('staff_id,display_name,role,purpose,accesses,first_at,last_at,record_types');

  // Print: the button prints; on paper the report stands alone (no menu, status bar or buttons).
  await page.evaluate(() => { window.__printed = 0; window.print = () => { window.__printed += 1; }; });
  await report.getByRole('button', { name: 'Print' }).click();
  expect(await page.evaluate(() => window.__printed)).toBe(1);
  await page.emulateMedia({ media: 'print' });
  await expect(nav(page)).toBeHidden();
  await expect(page.locator('.status-bar')).toBeHidden();
  await expect(page.locator('header.top')).toBeHidden();
  await expect(report.getByRole('button', { name: 'Print' })).toBeHidden();
  await expect(report.getByRole('button', { name: 'Save as CSV' })).toBeHidden();
  await expect(page.getByTestId('disclosures-form')).toBeHidden();
  await expect(report.getByTestId('disclosures')).toBeVisible();
  await expect(disclosed).toContainText(worker.display_name);
  await page.screenshot({ path: 'tests/artifacts/audit-disclosures-print.png', fullPage: true });
  await page.emulateMedia({ media: 'screen' });
  await expect(nav(page)).toBeVisible();

  // The events behind the row, in the access log.
  await disclosed.getByRole('link', { name: new RegExp(`^See the ${mine.event_ids.length} events`) }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Access log' })).toBeVisible();
  await expect(page.getByTestId('log-filters').getByLabel('Patron reference')).toHaveValue(avery.id);
  await expect(page.getByTestId('log-count')).toHaveText(`${mine.accesses} events shown.`);
});

test('break-glass review with the events under the grant, anomalies, the chain and the receipt', async ({ page }) => {
  const { caseId, patronId } = await caseOutsideSupervisorsBranches();
  const sup = await apiAs(SUPERVISOR);
  const supervisor = await staffNamed(sup, SUPERVISOR.username);
  const reason = `Family called about an emergency ${mark()}`;
  const grant = await sup.post('/v1/break-glass', { case_id: caseId, reason, hours: 1 });
  await sup.get(`/v1/cases/${caseId}`); // a read the grant allows

  await signInDesk(page, AUDITOR);

  // The anomaly view lists the grant awaiting review.
  await go(page, 'Anomalies', 'Anomalies');
  await expect(page.getByTestId('anomaly-view')).toHaveAttribute('data-kind', 'denied_by_actor');
  await page.getByLabel('View', { exact: true }).selectOption({ label: 'Break-glass grants awaiting review' });
  await page.getByRole('button', { name: 'Show the view' }).click();
  const anomaly = page.locator(`[data-testid="anomaly-row"][data-grant="${grant.id}"]`);
  await expect(anomaly).toContainText(supervisor.display_name);
  await expect(anomaly).toContainText('2 events');
  await audit(page, 'audit-anomalies');
  await page.setViewportSize(PHONE);
  await audit(page, 'audit-anomalies');
  await page.setViewportSize(DESK);
  await page.getByLabel('View', { exact: true }).selectOption({ label: 'Many patrons in a day' });
  await page.getByLabel('More distinct patrons in a day than').fill('1');
  await page.getByRole('button', { name: 'Show the view' }).click();
  await expect(page.getByTestId('anomalies').getByTestId('anomaly-row').first()).toBeVisible();

  // The grant, its reason and the events under it.
  await go(page, 'Break-glass review', 'Break-glass review');
  const card = page.locator(`[data-testid="grant"][data-id="${grant.id}"]`);
  await expect(card.getByRole('heading', { level: 2 })).toHaveText(`Grant to ${supervisor.display_name}`);
  await expect(card).toContainText(caseId);
  await expect(card).toContainText(reason);
  await expect(card).toContainText('Kept closed');
  const events = card.getByTestId('grant-events').getByTestId('event');
  await expect(events).toHaveCount(2);
  await expect(events.nth(0)).toHaveAttribute('data-action', 'break_glass');
  await expect(events.nth(0)).toContainText('Broke glass');
  await expect(events.nth(1)).toHaveAttribute('data-action', 'read');
  await expect(events.nth(1)).toHaveAttribute('data-record', caseId);
  await expect(events.nth(1)).toContainText(patronId);
  await audit(page, 'audit-break-glass');
  await page.setViewportSize(PHONE);
  await audit(page, 'audit-break-glass');
  await page.setViewportSize(DESK);

  // The review: a finding is needed, then recorded once.
  await card.getByRole('button', { name: 'Record the review' }).click();
  await expect(card.locator('.error-summary')).toContainText('Write your finding');
  const comment = `Checked with the branch: the reads fit the reason. ${mark()}`;
  await card.getByLabel('Your finding').fill(comment);
  await card.getByRole('button', { name: 'Record the review' }).click();
  await expect(page.getByTestId('review-done')).toContainText(`Your review of the grant to ${supervisor.display_name} is recorded.`);
  await expect(page.getByTestId('review-done')).toBeFocused();
  await expect(card).toHaveCount(0);

  // The server holds the review, with the auditor's name.
  const auditorApi = await apiAs(AUDITOR);
  const me = await staffNamed(auditorApi, AUDITOR.username);
  const reviewed = (await auditorApi.get('/v1/break-glass?reviewed=true')).items.find((g) => g.id === grant.id);
  expect(reviewed).toMatchObject({ review_comment: comment, reviewed_by: me.id });
  expect(reviewed.reviewed_at).toBeTruthy();
  expect((await auditorApi.get('/v1/break-glass?reviewed=false')).items.map((g) => g.id)).not.toContain(grant.id);

  // The reviewed grants show it.
  await page.getByRole('link', { name: 'See the reviewed grants' }).click();
  const done = page.locator(`[data-testid="grant"][data-id="${grant.id}"]`);
  await expect(done.getByTestId('review-comment')).toHaveText(comment);
  await expect(done.getByTestId('reviewed-by')).toContainText(me.display_name);
  await expect(done.getByTestId('review-form')).toHaveCount(0);
  await expect(page.getByRole('navigation', { name: 'Grants' }).getByRole('link', { name: 'Reviewed' })).toHaveAttribute('aria-current', 'page');

  // The chain: intact, quick and in full.
  await go(page, 'Chain and receipt', 'Chain and receipt');
  const status = page.getByTestId('chain-status');
  await expect(status).toHaveAttribute('data-intact', 'true');
  await expect(status).toContainText('The chain is intact.');
  await expect(status).toContainText('since the last checkpoint');
  await page.getByRole('button', { name: 'Check the whole chain' }).click();
  await expect(status).toContainText('the whole chain');
  await expect(status).toHaveAttribute('data-intact', 'true');

  // The receipt: its fields shown, and saved as a file to keep.
  const receipt = page.getByTestId('receipt');
  await expect(receipt.getByTestId('receipt-seq')).toHaveText(/^\d+$/);
  const seq = Number(await receipt.getByTestId('receipt-seq').textContent());
  const [download] = await Promise.all([page.waitForEvent('download'), receipt.getByRole('button', { name: 'Save the receipt (JSON)' }).click()]);
  expect(download.suggestedFilename()).toBe(`casework-receipt-${seq}.json`);
  const kept = JSON.parse(readFileSync(await download.path(), 'utf8'));
  expect(kept.seq).toBe(seq);
  expect(kept.hash).toMatch(/^[0-9a-f]{64}$/);
  expect(kept.signature).toMatch(/^[0-9a-f]{128}$/);
  expect(Date.parse(kept.at)).not.toBeNaN();
  const fresh = await auditorApi.get('/v1/audit/receipt');
  expect(kept.public_key).toBe(fresh.public_key);
  expect(fresh.seq).toBeGreaterThanOrEqual(seq);
  await expect(receipt).toContainText(kept.signature);
  await expect(receipt).toContainText(`casework audit verify --against casework-receipt-${seq}.json`);
  await audit(page, 'audit-chain');
  await page.setViewportSize(PHONE);
  await audit(page, 'audit-chain');
  await page.setViewportSize(DESK);
});

test('after every auditor screen nothing of the trail is kept on the device', async ({ page }) => {
  const avery = await workerReadsAvery();
  await signInDesk(page, AUDITOR);
  await expect(page.getByTestId('log-count')).toBeVisible();
  await go(page, 'Who searched', 'Who searched for this name?');
  await page.getByLabel('Name or words').fill('Avery');
  await page.getByRole('button', { name: 'Find the searches' }).click();
  await expect(page.getByTestId('search-hit').first()).toBeVisible();
  await go(page, 'Disclosures', 'Accounting of disclosures');
  await page.getByLabel('Patron reference').fill(avery.id);
  await page.getByRole('button', { name: 'Show the accounting' }).click();
  await expect(page.getByTestId('disclosure-report')).toBeVisible();
  await go(page, 'Anomalies', 'Anomalies');
  await expect(page.getByTestId('anomaly-view').getByRole('status')).toBeVisible();
  await go(page, 'Break-glass review', 'Break-glass review');
  await expect(page.getByTestId('grant-count')).toBeVisible();
  await page.getByRole('link', { name: 'Reviewed', exact: true }).click();
  await expect(page.getByTestId('grant-count')).toBeVisible();
  await go(page, 'Chain and receipt', 'Chain and receipt');
  await expect(page.getByTestId('chain-status')).toBeVisible();
  await expect(page.getByTestId('receipt-seq')).toBeVisible();

  // The wall: no casework database, no /v1/ answer in Cache Storage, only the device's name in storage.
  const kept = await deviceState(page);
  expect(kept.dbs).toEqual({});
  expect(kept.cached.filter((p) => p.startsWith('/v1/'))).toEqual([]);
  expect(kept.local).toEqual(['casework.device_name']);
  const names = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  expect(names.filter((n) => n?.startsWith('casework-'))).toEqual([]);

  // Offline: the screens say they need the network, and show nothing kept.
  await page.context().setOffline(true);
  await go(page, 'Access log', 'Access log');
  await expect(page.getByTestId('needs-network')).toContainText('nothing of it is kept on this device');
  await page.context().setOffline(false);
  await expect(page.getByTestId('log-count')).toBeVisible();
});
