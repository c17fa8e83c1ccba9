// The safety screens of security and branch staff, on the other side of the
// wall from casework: incidents (report, read, print, change within the
// edit window, amend, search), suspensions (security's list and records;
// what a branch's staff see of those in force there) and support requests
// as their requester sees them (status only). Online only: every screen asks
// the server; nothing is kept on the device. No casework screen, menu entry
// or record exists here, and none of these calls reaches casework.
import { html } from '../lib/html.js';
import { AmendIncident, IncidentView, Incidents, ReportIncident } from './safety-incidents.js';
import { CurrentSuspensions, NewSuspension, SuspensionView, Suspensions } from './safety-suspensions.js';
import { HelpRequest, HelpRequests, NewHelpRequest } from './safety-help.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Each role's menu, only what the spec lets it call (DESIGN.md section 3):
 * security reads and searches every incident and keeps suspensions; staff
 * report and read their branches' incidents and see the suspensions in
 * force there. Both ask social work for help and see its status.
 * @type {Record<string, [string, string][]>}
 */
const MENUS = {
  security: [
    ['incidents', 'safety.nav.incidents'],
    ['report-incident', 'safety.nav.report'],
    ['suspensions', 'safety.nav.suspensions'],
    ['help-requests', 'safety.nav.help'],
  ],
  staff: [
    ['report-incident', 'safety.nav.report'],
    ['incidents', 'safety.nav.branchIncidents'],
    ['current-suspensions', 'safety.nav.current'],
    ['help-requests', 'safety.nav.help'],
  ],
};

/** @param {string} role @returns {[string, string][]} */
export function menu(role) {
  return MENUS[role] ?? [];
}

/**
 * The screen for a route of this area, or null when the route is not ours
 * (or not this role's).
 * @param {string} role
 * @param {string[]} parts the hash split on '/', e.g. ['incident', ID, 'amend']
 */
export function screen(role, parts) {
  if (role !== 'security' && role !== 'staff') return null;
  const security = role === 'security';
  const [route, a = '', b = ''] = parts;
  const id = UUID.test(a) ? a : '';
  switch (route) {
    case 'incidents':
      return html`<${Incidents} />`;
    case 'report-incident':
      return html`<${ReportIncident} key="new" />`;
    case 'incident':
      if (!id) return null;
      if (b === 'edit') return html`<${ReportIncident} key=${'edit' + id} id=${id} />`;
      if (b === 'amend') return html`<${AmendIncident} key=${'amend' + id} id=${id} />`;
      return html`<${IncidentView} key=${id} id=${id} />`;
    case 'suspensions':
      return security ? html`<${Suspensions} />` : null;
    case 'suspension':
      if (!security) return null;
      if (a === 'new') return html`<${NewSuspension} key=${'new' + b} incidentId=${UUID.test(b) ? b : undefined} />`;
      return id ? html`<${SuspensionView} key=${id} id=${id} />` : null;
    case 'current-suspensions':
      return security ? null : html`<${CurrentSuspensions} />`;
    case 'help-requests':
      return html`<${HelpRequests} />`;
    case 'help-request':
      if (a === 'new') return html`<${NewHelpRequest} key=${'new' + b} incidentId=${UUID.test(b) ? b : undefined} />`;
      return id ? html`<${HelpRequest} key=${id} id=${id} />` : null;
    default:
      return null;
  }
}
