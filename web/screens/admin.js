// The admins' screens: branches, staff accounts (created with a one-time
// password; devices and ending a session; deactivation), the service
// directory, trainings and rules of behavior. Admins never see casework.
// Online only: every screen asks the server and keeps nothing on the device.
// Routes: #/admin (staff accounts, the home), #/admin/staff/new,
// #/admin/staff/ID, #/admin-branches[/ID], #/admin-directory[/new|/ID],
// #/admin-trainings[/ID], #/admin-rules[/ID]; #/admin/branches/ID and the
// like are taken as the same.
import { html } from '../lib/html.js';
import { NewStaff, StaffAccount, StaffList } from './admin-staff.js';
import { BranchEdit, Branches } from './admin-branches.js';
import { Directory, ServiceEdit } from './admin-directory.js';
import { RuleEdit, Rules, TrainingEdit, Trainings } from './admin-training.js';

/** @type {[string, string][]} */
const MENU = [
  ['admin', 'admin.nav.staff'],
  ['admin-branches', 'admin.nav.branches'],
  ['admin-directory', 'admin.nav.directory'],
  ['admin-trainings', 'admin.nav.trainings'],
  ['admin-rules', 'admin.nav.rules'],
];

/** @param {string} role @returns {[string, string][]} */
export function menu(role) {
  return role === 'admin' ? MENU : [];
}

/** `#/admin/rules/ID` and the like, as the sections' own routes (`admin-rules`, ID). */
const SUB = new Set(['branches', 'directory', 'trainings', 'rules']);

/** @param {string} role @param {string[]} parts the hash split on '/', e.g. ['admin', 'staff', ID] */
export function screen(role, parts) {
  if (role !== 'admin') return null;
  let [route, ...rest] = parts;
  if (route === 'admin' && SUB.has(rest[0])) [route, ...rest] = ['admin-' + rest[0], ...rest.slice(1)];
  const id = route === 'admin' ? (rest[0] === 'staff' ? rest[1] : undefined) : rest[0];
  switch (route) {
    case 'admin':
      if (id === 'new') return html`<${NewStaff} key="new" />`;
      if (id) return html`<${StaffAccount} key=${id} id=${id} />`;
      return html`<${StaffList} />`;
    case 'admin-branches':
      return id ? html`<${BranchEdit} key=${id} id=${id} />` : html`<${Branches} />`;
    case 'admin-directory':
      return id ? html`<${ServiceEdit} key=${id} id=${id} />` : html`<${Directory} />`;
    case 'admin-trainings':
      return id ? html`<${TrainingEdit} key=${id} id=${id} />` : html`<${Trainings} />`;
    case 'admin-rules':
      return id ? html`<${RuleEdit} key=${id} id=${id} />` : html`<${Rules} />`;
    default:
      return null;
  }
}
