// The chain: whether the trail's hash chain checks out against its signed
// checkpoints (the quick check since the last checkpoint, or the whole
// chain), and a receipt: the chain's head signed now, to keep away from this
// server (`casework audit verify --against RECEIPT` proves later that nothing
// up to it was removed or changed). The receipt is saved as a file only when
// asked; nothing else is kept.
import { useState } from '../vendor/hooks.mjs';
import { html } from '../lib/html.js';
import { t } from '../lib/t.js';
import { api } from '../lib/api.js';
import { saveText } from '../lib/download.js';
import { useFocusHeading } from './ui.js';
import { Id, LoadNotice, Time, useLoad } from './audit-common.js';

/** @typedef {import('../types/app').Schemas} Schemas */

/** The receipt as the command line prints it: one JSON line. @param {Schemas['ReceiptOut']} r */
export function receiptText(r) {
  /** @type {Record<string, unknown>} */
  const out = { seq: r.seq, hash: r.hash, at: r.at, signature: r.signature, public_key: r.public_key };
  if (r.prev) out.prev = r.prev;
  return JSON.stringify(out) + '\n';
}

function Verification() {
  const [full, setFull] = useState(false);
  const [n, setN] = useState(0);
  const check = useLoad(() => api('get', '/v1/audit/verify', { query: { full } }), `${full}#${n}`);
  const v = check.data;
  return html`<section class="chain-check" aria-labelledby="chain-title" data-testid="verification">
    <h2 id="chain-title">${t('audit.chain.verifyTitle')}</h2>
    <p>${full ? t('audit.chain.fullAbout') : t('audit.chain.quickAbout')}</p>
    <${LoadNotice} state=${check.state} retry=${check.retry} />
    ${check.state === 'ready' && v && (v.intact
      ? html`<div class="chain-result intact" role="status" data-testid="chain-status" data-intact="true">
          <p class="chain-verdict">${t('audit.chain.intact')}</p>
          <p>${v.events === undefined ? '' : v.events === 1 ? (full ? t('audit.chain.eventsFullOne') : t('audit.chain.eventsQuickOne')) : full ? t('audit.chain.eventsFull', { n: v.events }) : t('audit.chain.eventsQuick', { n: v.events })}</p>
        </div>`
      : html`<div class="chain-result broken" role="alert" data-testid="chain-status" data-intact="false">
          <p class="chain-verdict">${t('audit.chain.broken')}</p>
          <dl class="facts">
            ${v.broken_seq !== undefined && html`<div><dt>${t('audit.chain.brokenSeq')}</dt><dd>${v.broken_seq}</dd></div>`}
            ${v.broken_id && html`<div><dt>${t('audit.chain.brokenId')}</dt><dd><${Id} id=${v.broken_id} /></dd></div>`}
            ${v.reason && html`<div><dt>${t('audit.chain.brokenReason')}</dt><dd>${v.reason}</dd></div>`}
          </dl>
          <p>${t('audit.chain.brokenWhat')}</p>
        </div>`)}
    <div class="actions">
      ${!full && html`<button type="button" class="secondary" onClick=${() => setFull(true)}>${t('audit.chain.checkFull')}</button>`}
      ${full && html`<button type="button" class="secondary" onClick=${() => setFull(false)}>${t('audit.chain.checkQuick')}</button>`}
      <button type="button" class="secondary" onClick=${() => setN((x) => x + 1)} disabled=${check.state === 'loading'}>${t('audit.chain.again')}</button>
    </div>
  </section>`;
}

function Receipt() {
  const [n, setN] = useState(0);
  const receipt = useLoad(() => api('get', '/v1/audit/receipt'), String(n));
  const r = receipt.data;
  return html`<section class="receipt" aria-labelledby="receipt-title" data-testid="receipt">
    <h2 id="receipt-title">${t('audit.receipt.title')}</h2>
    <p>${t('audit.receipt.about')}</p>
    <${LoadNotice} state=${receipt.state} retry=${receipt.retry} />
    ${r && html`<dl class="facts receipt-facts">
        <div><dt>${t('audit.receipt.seq')}</dt><dd data-testid="receipt-seq">${r.seq}</dd></div>
        <div><dt>${t('audit.receipt.at')}</dt><dd><${Time} iso=${r.at} /></dd></div>
        <div><dt>${t('audit.receipt.hash')}</dt><dd><code class="audit-id">${r.hash}</code></dd></div>
        <div><dt>${t('audit.receipt.signature')}</dt><dd><code class="audit-id">${r.signature}</code></dd></div>
        <div><dt>${t('audit.receipt.publicKey')}</dt><dd><code class="audit-id">${r.public_key}</code></dd></div>
        <div><dt>${t('audit.receipt.prev')}</dt><dd>${r.prev ? html`<code class="audit-id">${r.prev}</code>` : html`<span class="muted">${t('audit.receipt.noPrev')}</span>`}</dd></div>
      </dl>
      <p class="hint">${t('audit.receipt.keep')}</p>
      <p><code class="audit-command">${t('audit.receipt.command', { file: `casework-receipt-${r.seq}.json` })}</code></p>`}
    <div class="actions">
      ${r && html`<button type="button" class="primary" onClick=${() => saveText(`casework-receipt-${r.seq}.json`, receiptText(r), 'application/json')}>${t('audit.receipt.download')}</button>`}
      <button type="button" class="secondary" onClick=${() => setN((x) => x + 1)} disabled=${receipt.state === 'loading'}>${t('audit.receipt.again')}</button>
    </div>
  </section>`;
}

export function Chain() {
  const heading = useFocusHeading();
  return html`<main id="main" class="audit audit-chain">
    <h1 tabindex="-1" ref=${heading}>${t('audit.chain.title')}</h1>
    <p class="lead">${t('audit.chain.lead')}</p>
    <div class="chain-columns">
      <${Verification} />
      <${Receipt} />
    </div>
  </main>`;
}
