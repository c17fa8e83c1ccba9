// A stand-in for the service's own serving of web/ (for development and the
// browser tests until CASEWORK_WEB_DIR lands): serves web/ with the service's
// Content-Security-Policy and proxies /v1/, /readyz and /healthz to the API.
// Usage: node scripts/devserver.mjs <port> <api-origin>
import { createServer, request } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.argv[2] ?? 8081);
const upstream = new URL(process.argv[3] ?? 'http://127.0.0.1:8080');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
/** @type {Record<string, string>} */
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.webmanifest': 'application/manifest+json', '.json': 'application/json', '.txt': 'text/plain; charset=utf-8',
};

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname.startsWith('/v1/') || url.pathname === '/readyz' || url.pathname === '/healthz') {
    const up = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => { res.writeHead(502); res.end(); });
    req.pipe(up);
    return;
  }
  const rel = url.pathname === '/' ? 'index.html' : normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
  if (rel.startsWith('..') || rel.startsWith('node_modules') || rel.startsWith('tests')) { res.writeHead(404); res.end(); return; }
  readFile(join(web, rel)).then(
    (body) => {
      res.writeHead(200, { 'content-type': TYPES[extname(rel)] ?? 'application/octet-stream', 'content-security-policy': CSP, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      res.end(body);
    },
    () => { res.writeHead(404); res.end(); },
  );
}).listen(port, '127.0.0.1', () => console.log(`web/ on http://127.0.0.1:${port}, API ${upstream.origin}`));
