// The server changes the peer's own account (role, branches): the next sync
// wipes the whole copy on the device, outbox included, and goes to sign-in.
// Each test puts the demo account back as it was, since the server is shared.
import { test, expect } from '@playwright/test';
import { ADMIN, PEER, apiLogin, audit, deviceState, logContact, signIn, staffNamed } from './helpers.mjs';

/** Signs the peer in and checks the copy holds records; returns the peer's staff account. */
async function signedInWithCopy(page, admin) {
  await signIn(page);
  const peer = await staffNamed(admin, PEER.username);
  const state = await deviceState(page);
  expect(Object.keys(state.dbs)).toContain(`casework-${peer.id}`);
  expect(state.dbs[`casework-${peer.id}`].records).toBeGreaterThan(0);
  return peer;
}

/** Nothing of the casework is left on the device. */
async function expectWiped(page) {
  const left = await deviceState(page);
  expect(Object.values(left.dbs).filter((d) => d.records !== 0 || d.outbox !== 0), JSON.stringify(left.dbs)).toEqual([]);
  expect(Object.keys(left.dbs)).toEqual([]);
  expect(left.cached.filter((p) => p.startsWith('/v1/'))).toEqual([]);
  expect(left.local).toEqual(['casework.device_name']);
  expect(left.session).toEqual([]);
}

/** Puts the demo peer's role and branches back. */
async function restore(admin, original) {
  const now = await admin.get(`/v1/staff/${original.id}`);
  if (now.role !== original.role || [...now.branches].sort().join() !== [...original.branches].sort().join()) {
    await admin.patch(`/v1/staff/${original.id}`, now.version, { role: original.role, branches: original.branches });
  }
}

test('a role change on the server wipes the copy at the next sync', async ({ page }) => {
  const admin = await apiLogin(ADMIN, 'Test admin');
  const peer = await signedInWithCopy(page, admin);
  try {
    await admin.patch(`/v1/staff/${peer.id}`, peer.version, { role: 'social_worker' });
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    // A role change ends the sessions (401 session-ended); a reset says so too.
    await expect(page.locator('.notice')).toContainText(/copy on this device was deleted/);
    await expectWiped(page);
  } finally {
    await restore(admin, peer);
  }
});

test('a branch change (sync reset) wipes the copy and the outbox, and says how many were discarded', async ({ page }) => {
  const admin = await apiLogin(ADMIN, 'Test admin');
  const peer = await signedInWithCopy(page, admin);
  try {
    // An entry the server rejected stays in the outbox, unsent.
    await logContact(page, { kind: 'Outreach', services: 'Never sent', note: 'x'.repeat(2001) });
    await expect(page.getByTestId('need-you')).toHaveText('1 need you');
    const branches = (await admin.get('/v1/branches')).items;
    const other = branches.find((b) => !peer.branches.includes(b.id));
    await admin.patch(`/v1/staff/${peer.id}`, peer.version, { branches: [...peer.branches, other.id] });
    await page.getByRole('button', { name: 'Sync now' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Sign in' })).toBeVisible();
    await expect(page.locator('.notice')).toContainText('Your account was changed on the server');
    await expect(page.getByTestId('discarded')).toHaveText('1 change that had not been sent was deleted with it.');
    await audit(page, 'signin-after-reset');
    await expectWiped(page);
  } finally {
    await restore(admin, peer);
  }
});
