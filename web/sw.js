// The app shell, cache-first, so the app opens without network; the API is
// network-only (the encrypted copy, not the HTTP cache, answers offline).
// The list and its version come from shell-files.js, written by
// scripts/shell.mjs (`npm run shell`; `npm run check` fails when it is stale):
// any changed file gives a new version, and the old cache is dropped on activate.
importScripts('shell-files.js');
const VERSION = /** @type {any} */ (self).SHELL_VERSION;
const SHELL = /** @type {any} */ (self).SHELL_FILES;

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('casework-shell-') && k !== VERSION).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || event.request.method !== 'GET') return;
  if (url.pathname.startsWith('/v1/') || url.pathname === '/readyz' || url.pathname === '/healthz') return; // network only
  const key = url.pathname === '/' ? '/index.html' : url.pathname;
  event.respondWith(caches.match(key, { ignoreSearch: true }).then((hit) => hit ?? fetch(event.request)));
});
