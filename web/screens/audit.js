// The auditors' screens: who saw what. The access log with its filters,
// "who searched for this name", the accounting of disclosures for a patron,
// the anomaly views, break-glass review, and the chain with its receipt.
// Online only: every answer lives in the screen's memory and nothing of the
// trail is kept on the device (no database, no storage, no cache; the
// service worker leaves /v1/ to the network).
import { html } from '../lib/html.js';
import { AccessLog } from './audit-log.js';
import { WhoSearched } from './audit-searches.js';
import { Disclosures } from './audit-disclosures.js';
import { Anomalies } from './audit-anomalies.js';
import { BreakGlassReview } from './audit-break-glass.js';
import { Chain } from './audit-chain.js';

/** @type {[string, string][]} */
const MENU = [
  ['audit', 'audit.nav.log'],
  ['audit-searches', 'audit.nav.searches'],
  ['audit-disclosures', 'audit.nav.disclosures'],
  ['audit-anomalies', 'audit.nav.anomalies'],
  ['audit-break-glass', 'audit.nav.breakGlass'],
  ['audit-chain', 'audit.nav.chain'],
];

/** @param {string} role @returns {[string, string][]} */
export function menu(role) {
  return role === 'auditor' ? MENU : [];
}

/** `#/audit/disclosures/ID` and the like, as the screens' own routes (`audit-disclosures`, ID). */
const SUB = new Set(['searches', 'disclosures', 'anomalies', 'break-glass', 'chain']);

/**
 * @param {string} role
 * @param {string[]} parts the hash split on '/', e.g. ['audit-disclosures', ID]
 */
export function screen(role, parts) {
  if (role !== 'auditor') return null;
  let [route, ...rest] = parts;
  if (route === 'audit' && SUB.has(rest[0])) [route, ...rest] = ['audit-' + rest[0], ...rest.slice(1)];
  switch (route) {
    case 'audit':
      return html`<${AccessLog} key=${'log/' + rest.join('/')} rest=${rest} />`;
    case 'audit-searches':
      return html`<${WhoSearched} key="searches" />`;
    case 'audit-disclosures':
      return html`<${Disclosures} key="disclosures" id=${rest[0] || undefined} />`;
    case 'audit-anomalies':
      return html`<${Anomalies} key=${'anomalies/' + (rest[0] ?? '')} kind=${rest[0]} />`;
    case 'audit-break-glass':
      return html`<${BreakGlassReview} key=${'bg/' + (rest[0] ?? '')} reviewed=${rest[0] === 'reviewed'} />`;
    case 'audit-chain':
      return html`<${Chain} key="chain" />`;
    default:
      return null;
  }
}
