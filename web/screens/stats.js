// Program statistics as bar charts (plain SVG) over a whole calendar period,
// each with its published figures in a table and a CSV of them beside it.
// The server's suppression stays visible: a count of 1 to 4 is published as
// "<5" and is drawn as a short hatched bar labelled "<5", never as a number;
// totals are shown as published. The CSV is made on the device from the same
// published rows, in the server's own CSV layout.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { status } from '../lib/sync.js';
import { csvOf, saveText } from '../lib/download.js';
import { LoadNotice, useServerData } from './supervise.js';
import { useFocusHeading } from './ui.js';

/** @typedef {import('../types/app').Schemas} Schemas */
/**
 * One bar: its group, how it is labelled, the figure as published, its
 * length (null for "<5" and for what is not published), and its table cells.
 * @typedef {{group: string, label: string, shown: string, value: number | null, small: boolean, cells: string[]}} Bar
 * @typedef {{
 *   id: string, title: string, note?: string, groupColumn: string, columns: string[],
 *   bars: Bar[], total: string, totalCells: string[], csv: (string | number | undefined)[][], wide?: boolean,
 *   floor: number,
 * }} Chart
 */

const SMALL = '<5';
/** The longest bar, as a share of the chart's width (room is left for its figure). */
const SCALE = 78;
const ROW = 46;
/**
 * The least full scale of a chart of counts: a "<5" bar (drawn to 4, its
 * most) stays short beside counts of 5 and more, and when every cell is
 * "<5" the bars are short too rather than filling the chart.
 */
const COUNT_FLOOR = 20;

const NEEDS = ['housing', 'food', 'health', 'mental_health', 'substance_use', 'benefits', 'employment', 'documents', 'legal', 'safety', 'child_and_family', 'other'];
const STATUSES = ['draft', 'requested', 'received', 'accepted', 'in_progress', 'on_hold', 'completed', 'failed', 'rejected', 'cancelled', 'entered_in_error'];
const OUTCOMES = ['got_help', 'not_eligible', 'no_capacity', 'could_not_contact', 'no_longer_interested', 'referred_elsewhere', 'open', 'none'];
const RESOLUTIONS = ['staff_de_escalation', 'social_work_support', 'security', 'police', 'medical', 'person_left', 'unrecorded'];

/**
 * @param {string} period `2026`, `2026-Q2` or `2026-05`
 */
export function periodLabel(period) {
  const q = /^(\d{4})-Q([1-4])$/.exec(period);
  if (q) return t('stats.period.quarterLabel', { q: q[2], year: q[1] });
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  if (m) return monthLabel(period, 'long');
  return period;
}

/**
 * @param {string} ym `YYYY-MM`
 * @param {'long' | 'short'} [style]
 */
function monthLabel(ym, style = 'short') {
  const [y, m] = ym.split('-').map(Number);
  if (!y || !m) return ym;
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString([], { month: style, year: 'numeric', timeZone: 'UTC' });
}

/**
 * Bars in a fixed order: the list's order first, others after (by group).
 * @template {{group: string}} R
 * @param {R[]} rows
 * @param {string[]} [order]
 */
function ordered(rows, order) {
  const at = (/** @type {string} */ g) => {
    const i = order ? order.indexOf(g) : -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...rows].sort((a, b) => at(a.group) - at(b.group) || a.group.localeCompare(b.group));
}

/**
 * A published count as a bar's figure and length.
 * @param {string} figure
 */
function countBar(figure) {
  const small = figure === SMALL;
  const n = Number(figure);
  return { shown: figure, small, value: small || !Number.isFinite(n) ? null : n };
}

/** @param {number | undefined} n */
const opt = (n) => (n === undefined || n === null ? undefined : n);

/**
 * The server's CSV of a contact or referral table: rows as published, then the total.
 * @param {Schemas['StatsOut']} table
 */
function statsCsv(table) {
  return [
    ['group', 'count', 'median_days_to_complete'],
    ...table.rows.map((r) => [r.group, r.count, opt(r.median_days_to_complete)]),
    ['total', table.total, ''],
  ];
}

/** @param {Schemas['IncidentStatsOut']} table */
function incidentCsv(table) {
  return [
    ['group', 'incidents', 'without_enforcement', 'percent_without_enforcement', 'police_calls', 'police_per_1000', 'warnings', 'escalated', 'escalation_percent'],
    ...table.rows.map((r) => [r.group, r.incidents, r.without_enforcement, opt(r.percent_without_enforcement), r.police_calls, opt(r.police_per_1000), r.warnings, r.escalated, opt(r.escalation_percent)]),
    ['total', table.total, '', '', '', '', '', '', ''],
  ];
}

/**
 * A chart of counts (contacts or referrals).
 * @param {string} id
 * @param {string} titleKey
 * @param {string} groupColumn
 * @param {Schemas['StatsOut']} table
 * @param {(group: string) => string} label
 * @param {string[]} [order]
 * @returns {Chart}
 */
function countChart(id, titleKey, groupColumn, table, label, order) {
  return {
    id,
    title: t(titleKey),
    groupColumn,
    columns: [t('stats.col.count')],
    bars: ordered(table.rows, order).map((r) => ({ group: r.group, label: label(r.group), ...countBar(r.count), cells: [r.count] })),
    total: table.total,
    totalCells: [table.total],
    csv: statsCsv(table),
    floor: COUNT_FLOOR,
  };
}

/**
 * Median days from request to completion, by need.
 * @param {Schemas['StatsOut']} table referrals by category
 * @returns {Chart}
 */
function daysChart(table) {
  const days = (/** @type {number} */ n) => (n === 1 ? t('stats.dayOne') : t('stats.days', { n }));
  return {
    id: 'referrals-days',
    title: t('stats.chart.referralsDays'),
    note: t('stats.captionDays'),
    groupColumn: t('stats.col.need'),
    columns: [t('stats.col.referrals'), t('stats.col.median')],
    bars: ordered(table.rows, NEEDS).map((r) => {
      const m = r.median_days_to_complete;
      const has = m !== undefined && m !== null;
      return {
        group: r.group,
        label: t('need.' + r.group),
        shown: has ? days(m) : t('stats.notPublished'),
        small: false,
        value: has ? m : null,
        cells: [r.count, has ? String(m) : t('stats.notPublishedLong')],
      };
    }),
    total: table.total,
    totalCells: [table.total, ''],
    csv: statsCsv(table),
    floor: 1,
  };
}

/**
 * A chart of incidents (bars: how many), with the other published figures in its table.
 * @param {string} id
 * @param {string} titleKey
 * @param {string} groupColumn
 * @param {Schemas['IncidentStatsOut']} table
 * @param {(group: string) => string} label
 * @param {string[]} [order]
 * @returns {Chart}
 */
function incidentChart(id, titleKey, groupColumn, table, label, order) {
  const withRate = (/** @type {string} */ figure, /** @type {string | undefined} */ rate) => (rate ? `${figure} (${rate})` : figure);
  const pct = (/** @type {number | undefined} */ n) => (n === undefined || n === null ? undefined : t('stats.percent', { n: n.toLocaleString() }));
  return {
    id,
    title: t(titleKey),
    note: t('stats.captionIncidents'),
    groupColumn,
    columns: [t('stats.col.incidents'), t('stats.col.withoutEnforcement'), t('stats.col.police'), t('stats.col.warnings'), t('stats.col.escalated')],
    bars: ordered(table.rows, order).map((r) => ({
      group: r.group,
      label: label(r.group),
      ...countBar(r.incidents),
      cells: [
        r.incidents,
        withRate(r.without_enforcement, pct(r.percent_without_enforcement)),
        withRate(r.police_calls, r.police_per_1000 === undefined || r.police_per_1000 === null ? undefined : t('stats.per1000', { n: r.police_per_1000.toLocaleString() })),
        r.warnings,
        withRate(r.escalated, pct(r.escalation_percent)),
      ],
    })),
    total: table.total,
    totalCells: [table.total, '', '', '', ''],
    csv: incidentCsv(table),
    wide: true,
    floor: COUNT_FLOOR,
  };
}

/**
 * The JSON tables of one period (the answers' CSV form is not asked for here).
 * @param {string} period
 */
async function loadAll(period) {
  const contacts = async (/** @type {Schemas['ContactGroupBy']} */ group_by) =>
    /** @type {Schemas['StatsOut']} */ (await api('get', '/v1/stats/contacts', { query: { period, group_by } }));
  const referrals = async (/** @type {Schemas['ReferralGroupBy']} */ group_by) =>
    /** @type {Schemas['StatsOut']} */ (await api('get', '/v1/stats/referrals', { query: { period, group_by } }));
  const incidents = async (/** @type {Schemas['IncidentGroupBy']} */ group_by) =>
    /** @type {Schemas['IncidentStatsOut']} */ (await api('get', '/v1/stats/incidents', { query: { period, group_by } }));
  const [contactsNeed, contactsMonth, referralsStatus, referralsOutcome, referralsCategory, incidentsRule, incidentsResolution] = await Promise.all([
    contacts('need'),
    contacts('month'),
    referrals('status'),
    referrals('outcome'),
    referrals('category'),
    incidents('rule'),
    incidents('resolution'),
  ]);
  return { contactsNeed, contactsMonth, referralsStatus, referralsOutcome, referralsCategory, incidentsRule, incidentsResolution };
}

/** @param {Awaited<ReturnType<typeof loadAll>>} d */
function chartsOf(d) {
  const months = [...new Set(d.contactsMonth.rows.map((r) => r.group))].sort();
  return {
    contacts: [
      { ...countChart('contacts-need', 'stats.chart.contactsNeed', t('stats.col.need'), d.contactsNeed, (g) => t('need.' + g), NEEDS), note: t('stats.captionContactsNeed') },
      countChart('contacts-month', 'stats.chart.contactsMonth', t('stats.col.month'), d.contactsMonth, (g) => monthLabel(g), months),
    ],
    referrals: [
      countChart('referrals-status', 'stats.chart.referralsStatus', t('stats.col.status'), d.referralsStatus, (g) => t('stats.status.' + g), STATUSES),
      countChart('referrals-outcome', 'stats.chart.referralsOutcome', t('stats.col.outcome'), d.referralsOutcome, (g) => t('stats.outcome.' + g), OUTCOMES),
      daysChart(d.referralsCategory),
    ],
    incidents: [
      incidentChart('incidents-rule', 'stats.chart.incidentsRule', t('stats.col.rule'), d.incidentsRule, (g) => (g === 'none' ? t('stats.rule.none') : g)),
      incidentChart('incidents-resolution', 'stats.chart.incidentsResolution', t('stats.col.resolution'), d.incidentsResolution, (g) => t('stats.resolution.' + g), RESOLUTIONS),
    ],
  };
}

/**
 * Horizontal bars in plain SVG, each labelled above with its group and after
 * with its published figure. Hidden from assistive technology: the table
 * beside it holds the same figures.
 * @param {{chart: Chart}} props
 */
function Bars({ chart }) {
  const max = Math.max(chart.floor, ...chart.bars.map((b) => b.value ?? 0));
  const hatch = 'hatch-' + chart.id;
  return html`<svg class="bars" width="100%" height=${chart.bars.length * ROW + 4} aria-hidden="true" focusable="false" data-testid="bars">
    <defs>
      <pattern id=${hatch} width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
        <rect class="hatch-bg" width="6" height="6" />
        <rect class="hatch-line" width="2.5" height="6" />
      </pattern>
    </defs>
    ${chart.bars.map((b, i) => {
      const y = i * ROW;
      const length = b.small ? Math.max((4 / max) * SCALE, 3) : b.value ? (b.value / max) * SCALE : 0;
      return html`<g data-group=${b.group} class=${b.small ? 'small' : ''}>
        <text class="bar-label" x="0" y=${y + 15}>${b.label}</text>
        ${length > 0 && (b.small
          ? html`<rect class="bar-small" x="1" y=${y + 21} width=${length + '%'} height="18" fill=${`url(#${hatch})`} />`
          : html`<rect class="bar-full" x="0" y=${y + 21} width=${length + '%'} height="18" />`)}
        <text class=${'bar-value' + (b.small ? ' small' : '')} x=${length + '%'} dx=${length > 0 ? 6 : 0} y=${y + 35} data-testid="bar-value">${b.shown}</text>
      </g>`;
    })}
  </svg>`;
}

/** @param {{chart: Chart}} props */
function FiguresTable({ chart }) {
  const table = html`<table class="data figures" data-testid="figures">
    <caption class="visually-hidden">${t('stats.tableCaption', { chart: chart.title })}</caption>
    <thead><tr><th scope="col">${chart.groupColumn}</th>${chart.columns.map((c) => html`<th scope="col" class="num">${c}</th>`)}</tr></thead>
    <tbody>${chart.bars.map((b) => html`<tr data-group=${b.group}>
      <th scope="row">${b.label}</th>
      ${b.cells.map((c, i) => html`<td class=${'num' + (c === SMALL ? ' small-count' : '')} data-col=${String(i)}>${c}</td>`)}
    </tr>`)}</tbody>
    <tfoot><tr><th scope="row">${t('stats.total')}</th>${chart.totalCells.map((c, i) => html`<td class=${'num' + (c === SMALL ? ' small-count' : '')} data-testid=${i === 0 ? 'total' : undefined}>${c}</td>`)}</tr></tfoot>
  </table>`;
  if (!chart.wide) return table;
  return html`<div class="table-wrap" role="region" tabindex="0" aria-label=${t('stats.tableCaption', { chart: chart.title })}>${table}</div>`;
}

/** @param {{chart: Chart, period: string}} props */
function ChartFigure({ chart, period }) {
  const titleId = 'chart-' + chart.id;
  const anySmall = chart.bars.some((b) => b.small);
  return html`<section class=${'chart' + (chart.wide ? ' wide' : '')} aria-labelledby=${titleId} data-testid=${titleId}>
    <div class="chart-head">
      <h3 id=${titleId}>${chart.title}</h3>
      <button type="button" class="secondary small" onClick=${() => saveText(`${chart.id}-${period}.csv`, csvOf(chart.csv))}>
        ${t('stats.csv')}<span class="visually-hidden">${t('stats.csvOf', { chart: chart.title })}</span>
      </button>
    </div>
    <figure>
      <figcaption>
        <span>${t('stats.caption', { chart: chart.title, period: periodLabel(period), total: chart.total })}</span>
        ${chart.note && html` <span>${chart.note}</span>`}
        ${anySmall && html` <span class="small-legend"><svg aria-hidden="true" focusable="false" width="22" height="14" class="legend-swatch"><rect class="bar-small" x="1" y="1" width="20" height="12" fill=${`url(#hatch-${chart.id})`} /></svg>${t('stats.smallLegend')}</span>`}
      </figcaption>
      ${chart.bars.length
        ? html`<${Bars} chart=${chart} /><${FiguresTable} chart=${chart} />`
        : html`<p class="muted">${t('stats.empty')}</p>`}
    </figure>
  </section>`;
}

/** @param {{onChoose: (period: string) => void}} props */
function PeriodChooser({ onChoose }) {
  const now = new Date();
  const thisYear = now.getFullYear();
  const [kind, setKind] = useState('year');
  const [year, setYear] = useState(String(thisYear));
  const [quarter, setQuarter] = useState(String(Math.floor(now.getMonth() / 3) + 1));
  const [month, setMonth] = useState(String(now.getMonth() + 1).padStart(2, '0'));
  const years = [];
  for (let y = thisYear; y >= Math.max(2000, thisYear - 9); y--) years.push(String(y));
  const months = Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(2, '0'));

  /** @param {Event} ev */
  function submit(ev) {
    ev.preventDefault();
    onChoose(kind === 'quarter' ? `${year}-Q${quarter}` : kind === 'month' ? `${year}-${month}` : year);
  }
  return html`<form class="period-chooser" onSubmit=${submit} data-testid="period">
    <fieldset>
      <legend>${t('stats.period.kind')}</legend>
      <div class="toggles">
        ${['year', 'quarter', 'month'].map((k) => html`<label class="toggle">
          <input type="radio" name="stats-kind" value=${k} checked=${kind === k} onChange=${() => setKind(k)} />
          <span>${t('stats.period.' + k)}</span></label>`)}
      </div>
    </fieldset>
    <div class="period-fields">
      <div class="field">
        <label for="stats-year">${t('stats.period.whichYear')}</label>
        <select id="stats-year" value=${year} onChange=${(/** @type {any} */ e) => setYear(e.currentTarget.value)}>
          ${years.map((y) => html`<option value=${y}>${y}</option>`)}
        </select>
      </div>
      ${kind === 'quarter' && html`<div class="field">
        <label for="stats-quarter">${t('stats.period.whichQuarter')}</label>
        <select id="stats-quarter" value=${quarter} onChange=${(/** @type {any} */ e) => setQuarter(e.currentTarget.value)}>
          ${['1', '2', '3', '4'].map((q) => html`<option value=${q}>${t('stats.period.q' + q)}</option>`)}
        </select>
      </div>`}
      ${kind === 'month' && html`<div class="field">
        <label for="stats-month">${t('stats.period.whichMonth')}</label>
        <select id="stats-month" value=${month} onChange=${(/** @type {any} */ e) => setMonth(e.currentTarget.value)}>
          ${months.map((m) => html`<option value=${m}>${new Date(Date.UTC(2000, Number(m) - 1, 1)).toLocaleDateString([], { month: 'long', timeZone: 'UTC' })}</option>`)}
        </select>
      </div>`}
      <div class="field period-submit">
        <button class="primary" type="submit">${t('stats.show')}</button>
      </div>
    </div>
  </form>`;
}

/** @param {any} _props */
export function Statistics(_props) {
  const heading = useFocusHeading();
  const [period, setPeriod] = useState(String(new Date().getFullYear()));
  const { state, data, retry } = useServerData(() => loadAll(period), period);
  const charts = data ? chartsOf(data) : null;
  const offline = !status.online || state === 'offline';
  return html`<main id="main" class="stats">
    <h1 tabindex="-1" ref=${heading}>${t('stats.title')}</h1>
    <p class="lead">${t('stats.lead')}</p>
    ${offline && html`<${LoadNotice} state="offline" retry=${retry} needsNetwork=${t('stats.needsNetwork')} />`}
    <${PeriodChooser} onChoose=${setPeriod} />
    ${!offline && !charts && html`<${LoadNotice} state=${state} retry=${retry} needsNetwork=${t('stats.needsNetwork')} />`}
    ${charts && html`<p class="showing" role="status" data-testid="showing">${t('stats.showing', { period: periodLabel(period) })}</p>
      <section aria-labelledby="stats-contacts"><h2 id="stats-contacts">${t('stats.section.contacts')}</h2>
        <div class="chart-grid">${charts.contacts.map((c) => html`<${ChartFigure} key=${c.id} chart=${c} period=${period} />`)}</div></section>
      <section aria-labelledby="stats-referrals"><h2 id="stats-referrals">${t('stats.section.referrals')}</h2>
        <div class="chart-grid">${charts.referrals.map((c) => html`<${ChartFigure} key=${c.id} chart=${c} period=${period} />`)}</div></section>
      <section aria-labelledby="stats-incidents"><h2 id="stats-incidents">${t('stats.section.incidents')}</h2>
        <div class="chart-grid">${charts.incidents.map((c) => html`<${ChartFigure} key=${c.id} chart=${c} period=${period} />`)}</div></section>`}
  </main>`;
}
