// Single sign-on through a real OpenID Connect provider (web/tests/oidc/provider.mjs,
// started by tests/run.sh): the whole flow in the browser, the device passphrase
// that seals the copy, linking by an admin and by verified email, and the
// refusals: wrong audience, expired id token, replayed state, a deactivated or
// unlinked account; a rotated provider key still signs in. All people invented.
import { test, expect } from '@playwright/test';
import { ADMIN, AUDITOR, apiLogin, audit, base, signInDesk } from './helpers.mjs';

const OIDC = () => process.env.CASEWORK_OIDC_URL ?? '';
const PROVIDER = 'Library staff account';
const PASSPHRASE = 'blue heron over the river';

test.describe.configure({ mode: 'serial' });
test.skip(() => !OIDC(), 'run through tests/run.sh, which starts the provider');

let admin;
let auditor;
let main;
const run = Date.now().toString(36);
// The trail from this file's start on (the suite before it wrote thousands).
const since = new Date(Date.now() - 5_000).toISOString();

test.beforeAll(async () => {
  admin = await apiLogin(ADMIN, 'SSO admin');
  auditor = await apiLogin(AUDITOR, 'SSO auditor');
  main = (await admin.get('/v1/branches')).items.find((b) => b.code === 'MAIN').id;
});

/** An account made by the admin, then linked (or given an email to link by). */
async function account(username, role, link) {
  const made = await admin.post('/v1/staff', {
    username, display_name: `${username} (invented)`, role, branches: [main],
    password: 'an admin-given password',
  });
  return admin.patch(`/v1/staff/${made.id}`, made.version, link);
}

async function control(path, body) {
  const r = await fetch(`${OIDC()}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}),
  });
  expect(r.ok, path).toBe(true);
}

/** Audit events with this rule since this file began (oldest first). */
async function events(rule) {
  const all = [];
  let cursor;
  do {
    const page = await auditor.get(`/v1/audit/events?limit=500&from=${encodeURIComponent(since)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    all.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return all.filter((e) => e.rule === rule);
}

/**
 * From the sign-in screen, through the provider's own sign-in page (unless
 * its session cookie skips it), back to the app.
 */
async function viaProvider(page, login, { open = true } = {}) {
  if (open) await page.goto('/');
  const button = page.getByRole('button', { name: `Sign in with ${PROVIDER}` });
  await expect(button).toBeVisible();
  const device = page.getByLabel('Name of this device');
  if (await device.count()) await device.fill('SSO test tablet');
  await button.click();
  await page.waitForURL((u) => u.pathname.startsWith('/interaction/') || u.origin === base());
  if (new URL(page.url()).pathname.startsWith('/interaction/')) {
    await expect(page.getByRole('heading', { name: 'Sign-in' })).toBeVisible();
    await page.locator('input[name="login"]').fill(login);
    await page.locator('input[name="password"]').fill('whatever the provider asks');
    await page.getByRole('button', { name: 'Sign-in' }).click();
  }
  await page.waitForURL((u) => u.origin === base());
}

test('a peer signs in through the provider, seals the copy with a device passphrase and opens it again', async ({ page }) => {
  const name = `sso.peer.${run}`;
  const peer = await account(name, 'peer', { sso_subject: name, password_sign_in: false });
  expect(peer.password_sign_in).toBe(false);
  expect(peer.sso_subject).toBe(name);

  let callback = '';
  page.on('request', (r) => { if (r.url().includes('/v1/auth/sso/callback')) callback = r.url(); });
  await viaProvider(page, name);
  // The ticket is taken out of the address at once.
  await expect(page.getByRole('heading', { level: 1, name: 'Choose a passphrase for this device' })).toBeVisible();
  expect(new URL(page.url()).hash).toBe('');
  await audit(page, 'sso-passphrase');
  await page.getByLabel('Device passphrase').fill('short');
  await page.getByRole('button', { name: 'Lock the copy with this passphrase' }).click();
  await expect(page.getByText('Use at least 12 characters').first()).toBeVisible();
  await page.getByLabel('Device passphrase').fill(PASSPHRASE);
  await page.getByLabel('The passphrase again').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Lock the copy with this passphrase' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Today' })).toBeVisible();
  await expect(page.getByTestId('last-synced')).toContainText('Last synced');

  // Audited as a sign-in, the provider named.
  const signIns = (await events('sso')).filter((e) => e.actor_id === peer.id && e.action === 'login');
  expect(signIns.length).toBe(1);
  expect(JSON.parse(signIns[0].query).provider).toBe(PROVIDER);

  // The password an admin gave does not sign in: passwords are off for it.
  const byPassword = await fetch(`${base()}/v1/auth/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: name, password: 'an admin-given password', device_name: 'x' }),
  });
  expect(byPassword.status).toBe(401);
  expect((await events('password_sign_in_off')).some((e) => e.record_id === peer.id)).toBe(true);

  // The same state again (a replayed callback) finishes nothing.
  expect(callback).toContain('state=');
  const replay = await fetch(callback, { redirect: 'manual' });
  expect(replay.status).toBe(303);
  expect(replay.headers.get('location')).toBe('/#sso-error=state');
  expect((await events('sso_state_replayed')).length).toBeGreaterThan(0);

  // A reload: the copy opens with the passphrase, not with any password.
  await page.reload();
  await expect(page.getByRole('heading', { level: 1, name: 'Unlock your copy' })).toBeVisible();
  await page.getByLabel('Device passphrase').fill('not the passphrase at all');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByText('That passphrase does not open the copy.').first()).toBeVisible();

  // Signing in through the provider again on this device asks for the
  // passphrase of the copy kept here (the provider remembers the person).
  await page.getByRole('button', { name: 'Sign in as someone else' }).click();
  await viaProvider(page, name, { open: false });
  await expect(page.getByRole('heading', { level: 1, name: 'Enter this device’s passphrase' })).toBeVisible();
  await page.getByLabel('Device passphrase').fill('still not the passphrase');
  await page.getByRole('button', { name: 'Open the copy' }).click();
  await expect(page.getByText('That passphrase does not open the copy.').first()).toBeVisible();
  await page.getByLabel('Device passphrase').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Open the copy' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Today' })).toBeVisible();
  await expect(page.getByTestId('last-synced')).toContainText('Last synced');
});

test('an admin links an account on its screen and switches its password off', async ({ page }) => {
  const name = `sso.linked.${run}`;
  const made = await admin.post('/v1/staff', {
    username: name, display_name: `${name} (invented)`, role: 'supervisor', branches: [main],
    password: 'an admin-given password',
  });
  await signInDesk(page, ADMIN);
  await page.goto(`/#/admin/staff/${made.id}`);
  const panel = page.getByTestId('account-sso');
  // Passwords off for an account that cannot sign in another way: refused, by field.
  await panel.getByLabel('Can sign in with a Casework password').uncheck();
  await panel.getByRole('button', { name: 'Save single sign-on' }).click();
  await expect(panel.getByText('an account without its password must be linked').first()).toBeVisible();
  await panel.getByLabel('Subject at the sign-in provider').fill(name);
  await panel.getByRole('button', { name: 'Save single sign-on' }).click();
  await expect(page.getByText(`Single sign-on for ${name} (invented) saved.`)).toBeVisible();
  await audit(page, 'admin-sso');
  const saved = await admin.get(`/v1/staff/${made.id}`);
  expect(saved.sso_subject).toBe(name);
  expect(saved.password_sign_in).toBe(false);

  // The person signs in through the provider (the admin's page is gone at the reload).
  await page.context().clearCookies();
  await viaProvider(page, name);
  await expect(page.getByRole('heading', { level: 1, name: 'Choose a passphrase for this device' })).toBeVisible();
});

test('a desk account is linked once by its verified email; an unverified email links nothing', async ({ page }) => {
  const name = `sso.desk.${run}`;
  const desk = await account(name, 'staff', { sso_email: `${name}@library.example` });
  await viaProvider(page, name);
  await expect(page.getByText('Online only: nothing is kept on this device.')).toBeVisible();
  const linked = await admin.get(`/v1/staff/${desk.id}`);
  expect(linked.sso_subject).toBe(name);
  expect(linked.sso_email).toBeUndefined();
  expect((await events('sso_linked_by_verified_email')).some((e) => e.record_id === desk.id)).toBe(true);

  await page.context().clearCookies();
  const unverified = `unverified.${run}`;
  const other = await account(unverified, 'staff', { sso_email: `${unverified}@library.example` });
  await viaProvider(page, unverified);
  await expect(page.getByText('This account cannot sign in to Casework.')).toBeVisible();
  expect((await admin.get(`/v1/staff/${other.id}`)).sso_subject).toBeUndefined();
});

test('a wrong audience, an expired id token, a deactivated account and a stranger are refused and audited', async ({ page }) => {
  const name = `sso.worker.${run}`;
  const worker = await account(name, 'social_worker', { sso_subject: name });

  const refused = async (tamper, message, rule) => {
    const before = (await events(rule)).length;
    if (tamper) await control('/__test/tamper', tamper);
    await page.context().clearCookies();
    await viaProvider(page, name);
    await expect(page.getByText(message)).toBeVisible();
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    const after = await events(rule);
    expect(after.length).toBe(before + 1);
    expect(JSON.parse(after.at(-1).query).provider).toBe(PROVIDER);
  };
  await refused({ aud: 'someone-else' }, 'The sign-in could not be verified', 'sso_id_token_audience');
  await refused({ exp_offset_seconds: -120 }, 'The sign-in could not be verified', 'sso_id_token_expired');
  await audit(page, 'sso-refused');

  // Deactivated: whatever the provider says.
  await admin.patch(`/v1/staff/${worker.id}`, worker.version, { active: false });
  await refused(null, 'This account cannot sign in to Casework.', 'sso_account_deactivated');

  // Someone the provider knows but no account is linked to.
  const before = (await events('sso_not_linked')).length;
  await page.context().clearCookies();
  await viaProvider(page, `stranger.${run}`);
  await expect(page.getByText('This account cannot sign in to Casework.')).toBeVisible();
  expect((await events('sso_not_linked')).length).toBe(before + 1);
});

test('after the provider rotates its signing key, sign-in goes on (the new key is fetched)', async ({ page }) => {
  const name = `sso.rotated.${run}`;
  const peer = await account(name, 'peer', { sso_subject: name });
  // Casework has read the old key by now (the tests before); the provider
  // signs with a new one and no longer publishes the old.
  const before = await (await fetch(`${OIDC()}/__test/state`)).json();
  await control('/__test/rotate?drop_old=1');
  const after = await (await fetch(`${OIDC()}/__test/state`)).json();
  expect(after.kids).toHaveLength(1);
  expect(before.kids).not.toContain(after.kids[0]);
  await page.context().clearCookies();
  await viaProvider(page, name);
  await expect(page.getByRole('heading', { level: 1, name: 'Choose a passphrase for this device' })).toBeVisible();
  const signIns = (await events('sso')).filter((e) => e.actor_id === peer.id && e.action === 'login');
  expect(signIns.length).toBe(1);
});
