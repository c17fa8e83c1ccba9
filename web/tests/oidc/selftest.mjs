// Self-test for provider.mjs, no browser: runs the whole authorization code +
// PKCE flow with fetch and hand-kept cookies, then exercises /__test/*.
//
//   node web/tests/oidc/selftest.mjs
//
// Exits 0 with a summary, or 1 naming the step that failed.

import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';

const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const CLIENT_ID = 'casework';
const CLIENT_SECRET = 'casework-test-secret';

let step = 'start provider';
const done = [];
function ok(msg) {
  done.push(msg);
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// --- the provider child ------------------------------------------------------

const child = spawn(
  process.execPath,
  [fileURLToPath(new URL('./provider.mjs', import.meta.url)), '--port', '0', '--redirect-uri', REDIRECT_URI],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
let stderr = '';
child.stderr.on('data', (d) => { stderr += d; });

const issuer = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('no ready line within 10s')), 10_000);
  child.once('exit', (code) => reject(new Error(`provider exited early (${code})`)));
  createInterface({ input: child.stdout }).once('line', (line) => {
    clearTimeout(timer);
    const m = /^ready (http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
    m ? resolve(m[1]) : reject(new Error(`unexpected first line: ${line}`));
  });
}).catch(fail);

// --- a tiny cookie-keeping client -----------------------------------------------

const jar = new Map(); // name -> value (one host, so no domain/path handling)
async function request(url, init = {}) {
  const headers = new Headers(init.headers);
  if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
  const res = await fetch(url, { ...init, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) {
    const [pair] = c.split(';');
    const i = pair.indexOf('=');
    const name = pair.slice(0, i).trim();
    const value = pair.slice(i + 1).trim();
    if (value === '' || /expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name);
    else jar.set(name, value);
  }
  return res;
}

// Follows redirects until one leaves the provider (to the redirect URI) or a
// page is returned. Returns { url, res }.
async function follow(url, init) {
  let res = await request(url, init);
  for (let hops = 0; hops < 10; hops += 1) {
    if (res.status < 300 || res.status >= 400) return { url, res };
    url = new URL(res.headers.get('location'), url).href;
    if (!url.startsWith(issuer)) return { url, res };
    res = await request(url);
  }
  throw new Error('too many redirects');
}

const b64url = (buf) => Buffer.from(buf).toString('base64url');
const basic = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(CLIENT_SECRET)}`).toString('base64')}`;

async function control(path, body) {
  const res = await fetch(`${issuer}${path}`, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  assert(res.status === 200 || res.status === 204, `${path} answered ${res.status}`);
  return res.status === 200 ? res.json() : undefined;
}
async function state() {
  return (await fetch(`${issuer}/__test/state`)).json();
}

// One full login: returns { claims, header, nonce, sawLoginPage }, the id_token
// verified against the JWKS. Starts without cookies unless reuseSession.
async function login(discovery, loginName, { reuseSession = false } = {}) {
  if (!reuseSession) jar.clear();
  let sawLoginPage = false;
  const verifier = b64url(randomBytes(32));
  const challenge = b64url(createHash('sha256').update(verifier).digest());
  const st = b64url(randomBytes(12));
  const nonce = b64url(randomBytes(12));

  step = 'authorization request';
  const auth = new URL(discovery.authorization_endpoint);
  auth.search = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: 'code',
    scope: 'openid email profile',
    redirect_uri: REDIRECT_URI,
    state: st,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  let { url, res } = await follow(auth.href);

  // The login page, unless an existing session already skips it.
  if (url.startsWith(issuer)) {
    step = 'login form';
    sawLoginPage = true;
    const html = await res.text();
    assert(res.status === 200, `login page status ${res.status}`);
    assert(/\/interaction\/[\w-]+$/.test(new URL(url).pathname), `unexpected login URL ${url}`);
    assert(html.includes('name="login"') && html.includes('name="password"') && html.includes('>Sign-in</button>'),
      'login page lacks login/password inputs or the Sign-in button');
    const action = new URL(/<form[^>]*action="([^"]+)"/.exec(html)[1].replaceAll('&amp;', '&'), url).href;
    ({ url, res } = await follow(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ prompt: 'login', login: loginName, password: 'any-password' }),
    }));
    assert(!url.startsWith(issuer), `still on the provider after login (${url}, status ${res.status}); consent page?`);
  }

  step = 'redirect back';
  const back = new URL(url);
  assert(back.href.startsWith(REDIRECT_URI), `redirected to ${url}`);
  assert(back.searchParams.get('state') === st, 'state mismatch');
  assert(back.searchParams.get('iss') === issuer, `iss parameter ${back.searchParams.get('iss')}`);
  const code = back.searchParams.get('code');
  assert(code, `no code: ${back.search}`);

  step = 'token exchange';
  const tokenRes = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
  });
  const tokens = await tokenRes.json();
  assert(tokenRes.status === 200 && tokens.id_token, `token endpoint ${tokenRes.status}: ${JSON.stringify(tokens)}`);

  step = 'verify id_token signature';
  const jwks = await (await fetch(discovery.jwks_uri)).json();
  const { payload } = await jwtVerify(tokens.id_token, createLocalJWKSet(jwks), { algorithms: ['RS256'] });
  return { claims: payload, header: decodeProtectedHeader(tokens.id_token), nonce, sawLoginPage };
}

async function main() {
  step = 'discovery';
  const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
  assert(discovery.issuer === issuer, `issuer ${discovery.issuer}`);
  assert(discovery.code_challenge_methods_supported?.includes('S256'), 'S256 not supported');
  ok(`discovery: issuer ${issuer}`);

  // 1. normal flow
  let r = await login(discovery, 'sso-peer');
  step = 'check id_token claims';
  const c = r.claims;
  assert(c.iss === issuer, `iss ${c.iss}`);
  assert(c.aud === CLIENT_ID, `aud ${c.aud}`);
  assert(c.nonce === r.nonce, 'nonce mismatch');
  assert(c.sub === 'sso-peer', `sub ${c.sub}`);
  assert(c.email === 'sso-peer@library.example' && c.email_verified === true && c.name === 'sso-peer',
    `claims ${JSON.stringify(c)}`);
  assert(c.exp - c.iat === 600, `id token ttl ${c.exp - c.iat}`);
  assert(r.sawLoginPage, 'no login page on a fresh login');
  const firstKid = r.header.kid;
  ok(`login sso-peer: code+PKCE ok, id_token kid ${firstKid}, sub/email/email_verified/name ok, no consent page`);

  step = 'session reuse';
  r = await login(discovery, 'sso-peer', { reuseSession: true });
  assert(!r.sawLoginPage && r.claims.sub === 'sso-peer', 'existing session did not skip the login page');
  ok('second authorization with the session cookie: no login page, straight back with a code');

  // 2. tamper aud
  step = 'tamper aud';
  await control('/__test/tamper', { aud: 'someone-else' });
  assert((await state()).tamper?.aud === 'someone-else', 'tamper not pending in state');
  r = await login(discovery, 'sso-peer');
  assert(r.claims.aud === 'someone-else', `tampered aud ${r.claims.aud}`);
  assert(r.header.kid === firstKid, 'tampered token kid changed');
  assert((await state()).tamper === null, 'tamper still pending after use');
  r = await login(discovery, 'sso-peer');
  assert(r.claims.aud === CLIENT_ID, 'tamper applied twice');
  ok('tamper {"aud":"someone-else"}: next id_token aud rewritten, signature valid; following one normal');

  // 3. tamper exp + reset
  step = 'tamper exp / reset';
  await control('/__test/tamper', { exp_offset_seconds: -120 });
  await control('/__test/reset');
  assert((await state()).tamper === null, 'reset did not clear tamper');
  await control('/__test/tamper', { exp_offset_seconds: -120 });
  const expired = await login(discovery, 'sso-peer').then(() => null, (e) => e);
  assert(expired?.code === 'ERR_JWT_EXPIRED', `expected expired token, got ${expired}`);
  ok('tamper {"exp_offset_seconds":-120}: id_token rejected as expired; reset clears a pending tamper');

  // 4. rotate keeps the old kid published
  step = 'rotate';
  const rot = await control('/__test/rotate');
  let s = await state();
  assert(s.kids.length === 2 && s.kids[0] === rot.kid && s.kids[1] === firstKid, `kids after rotate ${s.kids}`);
  r = await login(discovery, 'sso-peer');
  assert(r.header.kid === rot.kid && rot.kid !== firstKid, `signing kid ${r.header.kid}, expected ${rot.kid}`);
  ok(`rotate: signs with ${rot.kid}, JWKS publishes [${s.kids.join(', ')}]`);

  // 5. rotate dropping old keys
  step = 'rotate drop_old';
  const rot2 = await control('/__test/rotate?drop_old=1');
  s = await state();
  const published = (await (await fetch(discovery.jwks_uri)).json()).keys.map((k) => k.kid);
  assert(s.kids.length === 1 && s.kids[0] === rot2.kid, `kids after drop_old ${s.kids}`);
  assert(published.length === 1 && published[0] === rot2.kid, `published kids ${published}`);
  r = await login(discovery, 'unverified-reader');
  assert(r.header.kid === rot2.kid, 'not signed by the new kid');
  assert(r.claims.email_verified === false, 'unverified- login has email_verified true');
  ok(`rotate?drop_old=1: JWKS publishes only ${rot2.kid}; unverified-reader gets email_verified false`);
}

function fail(err) {
  console.error(`FAIL at step "${step}": ${err?.stack ?? err}`);
  if (stderr) console.error(`--- provider stderr ---\n${stderr}`);
  child.kill('SIGTERM');
  process.exit(1);
}

try {
  await main();
} catch (err) {
  fail(err);
}

step = 'shutdown';
const exitCode = await new Promise((resolve) => {
  child.once('exit', (code, signal) => resolve(code ?? signal));
  child.kill('SIGTERM');
});
if (exitCode !== 0) fail(new Error(`provider exited with ${exitCode} on SIGTERM`));
ok('SIGTERM: provider exited 0');

for (const line of done) console.log(`ok  ${line}`);
console.log(`selftest passed (${done.length} checks)`);
