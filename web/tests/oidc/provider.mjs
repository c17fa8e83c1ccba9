// A real OpenID Connect provider (node-oidc-provider) for Casework's tests.
//
//   node web/tests/oidc/provider.mjs --port 0 --redirect-uri http://127.0.0.1:8080/auth/callback
//
// Prints `ready http://127.0.0.1:<port>` on stdout once listening; everything
// else goes to stderr. See README.md next to this file for the test-control
// endpoints under /__test/ and for what the login page looks like.

import http from 'node:http';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';

import Provider from 'oidc-provider';
import { CompactSign, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK } from 'jose';

// stdout carries only the `ready` line: oidc-provider prints notices with
// console.info, so send console.log/info to stderr.
console.log = console.error;
console.info = console.error;

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'redirect-uri': { type: 'string', multiple: true },
  },
});
const redirectUris = args['redirect-uri'] ?? [];
if (redirectUris.length === 0) {
  console.error('usage: provider.mjs --port <P> --redirect-uri <URL> [--redirect-uri <URL>...]');
  process.exit(2);
}

const CLIENT = {
  client_id: 'casework',
  client_secret: 'casework-test-secret',
  token_endpoint_auth_method: 'client_secret_basic',
  redirect_uris: redirectUris,
  response_types: ['code'],
  grant_types: ['authorization_code'],
  id_token_signed_response_alg: 'RS256',
};
const SCOPES = 'openid email profile';

// Private signing keys, newest first. The first one signs; all are published.
let keys = [];
// Pending id_token overrides for the next token response (or null).
let tamper = null;
// The current Provider's request handler; rebuilt on /__test/rotate behind
// the same HTTP server. Each instance has its own in-memory store, so a rotate
// forgets sessions, interactions and unused codes.
let handle;

async function newSigningKey() {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: `test-${randomUUID().slice(0, 8)}`, alg: 'RS256', use: 'sig' };
}

// Any login name is an account; its sub is the name as typed.
async function findAccount(_ctx, sub) {
  return {
    accountId: sub,
    async claims() {
      return {
        sub,
        email: `${sub}@library.example`,
        email_verified: !sub.startsWith('unverified'),
        name: sub,
      };
    },
  };
}

// Skip the consent page: the casework client is first-party, so every login
// gets a grant for openid email profile straight away.
async function loadExistingGrant(ctx) {
  const { client, session, result } = ctx.oidc;
  const grantId = result?.consent?.grantId || session.grantIdFor(client.clientId);
  if (grantId) return ctx.oidc.provider.Grant.find(grantId);
  if (client.clientId !== CLIENT.client_id) return undefined;
  const grant = new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
  grant.addOIDCScope(SCOPES);
  await grant.save();
  return grant;
}

// Rewrites an id_token's payload and re-signs it with the current signing key
// (same header, so same kid and alg).
async function tamperIdToken(idToken, overrides) {
  const [, payloadPart] = idToken.split('.');
  const payload = JSON.parse(Buffer.from(payloadPart, 'base64url').toString('utf8'));
  for (const [claim, value] of Object.entries(overrides)) {
    if (claim === 'exp_offset_seconds') {
      payload.exp = Math.floor(Date.now() / 1000) + Number(value);
      payload.iat = payload.exp - 600;
    } else if (value === null) {
      delete payload[claim];
    } else {
      payload[claim] = value;
    }
  }
  const header = decodeProtectedHeader(idToken);
  const jwk = keys.find((k) => k.kid === header.kid) ?? keys[0];
  const key = await importJWK(jwk, 'RS256');
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ ...header, alg: 'RS256', kid: jwk.kid })
    .sign(key);
}

function buildProvider(issuer) {
  const p = new Provider(issuer, {
    clients: [CLIENT],
    jwks: { keys },
    findAccount,
    loadExistingGrant,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    scopes: SCOPES.split(' '),
    // Put the scope claims (email, name) into the id_token itself, not only
    // into userinfo.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    ttl: { IdToken: 600 },
    // Signed cookies with an invented key. Over plain http oidc-provider sets
    // them without Secure (it follows ctx.secure), so no proxy setting is needed.
    cookies: { keys: ['casework-test-cookie-key'] },
    clientBasedCORS: () => false,
  });

  // Apply a pending tamper to the next successful token response only.
  p.use(async (ctx, next) => {
    await next();
    if (tamper && ctx.oidc?.route === 'token' && ctx.status === 200 && ctx.body?.id_token) {
      const overrides = tamper;
      tamper = null;
      ctx.body = { ...ctx.body, id_token: await tamperIdToken(ctx.body.id_token, overrides) };
    }
  });
  return p;
}

function send(res, status, body) {
  if (body === undefined) {
    res.writeHead(status).end();
  } else {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text.trim() === '' ? {} : JSON.parse(text);
}

// The /__test/* control endpoints.
async function control(req, res, url, issuer) {
  const route = `${req.method} ${url.pathname}`;
  switch (route) {
    case 'GET /__test/state':
      return send(res, 200, { kids: keys.map((k) => k.kid), tamper });
    case 'POST /__test/reset':
      tamper = null;
      return send(res, 204);
    case 'POST /__test/tamper': {
      let body;
      try {
        body = await readJson(req);
      } catch {
        return send(res, 400, { error: 'body must be JSON' });
      }
      if (!body || typeof body !== 'object' || Array.isArray(body)) {
        return send(res, 400, { error: 'body must be a JSON object' });
      }
      tamper = body;
      return send(res, 204);
    }
    case 'POST /__test/rotate': {
      const fresh = await newSigningKey();
      keys = url.searchParams.get('drop_old') === '1' ? [fresh] : [fresh, ...keys];
      handle = buildProvider(issuer).callback();
      return send(res, 200, { kid: fresh.kid, kids: keys.map((k) => k.kid) });
    }
    default:
      return send(res, 404, { error: `no test endpoint ${route}` });
  }
}

keys = [await newSigningKey()];

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (url.pathname.startsWith('/__test/')) {
    control(req, res, url, issuer).catch((err) => {
      console.error(err);
      if (!res.headersSent) send(res, 500, { error: String(err) });
    });
    return;
  }
  handle(req, res);
});

// Listen first so that port 0 resolves to a real port for the issuer.
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(args.port), '127.0.0.1', resolve);
});
const address = server.address();
const issuer = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : args.port}`;
handle = buildProvider(issuer).callback();
process.stdout.write(`ready ${issuer}\n`);

function shutdown() {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
