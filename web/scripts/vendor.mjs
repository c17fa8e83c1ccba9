// Copies the ES-module builds the app imports from node_modules (the locked
// versions in package-lock.json) into web/vendor/, so the app needs no build
// step and no import map. `--check` exits 1 when web/vendor/ differs.
//
// preact/hooks imports `preact` by bare specifier; a browser without an import
// map cannot resolve it, so the copy is rewritten to import "./preact.mjs"
// (one preact instance, the locked one). Source-map comments are dropped
// because the maps are not vendored.
import { readFileSync, writeFileSync, readdirSync, mkdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const vendor = join(web, 'vendor');
const nm = join(web, 'node_modules');

const version = (pkg) => JSON.parse(readFileSync(join(nm, pkg, 'package.json'), 'utf8')).version;
const stripMap = (text) => text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n');

/** @type {{out: string, pkg: string, from: string, rewrite?: (t: string) => string}[]} */
const files = [
  { out: 'preact.mjs', pkg: 'preact', from: 'dist/preact.module.js' },
  {
    out: 'hooks.mjs', pkg: 'preact', from: 'hooks/dist/hooks.module.js',
    rewrite: (t) => {
      const r = t.replace(/from\s*["']preact["']/g, 'from"./preact.mjs"');
      if (r === t) throw new Error('preact/hooks no longer imports "preact": revisit vendor.mjs');
      return r;
    },
  },
  { out: 'htm.mjs', pkg: 'htm', from: 'dist/htm.module.js' },
  { out: 'dexie.mjs', pkg: 'dexie', from: 'dist/dexie.mjs' },
];

/** @returns {Map<string, string>} */
function expected() {
  const out = new Map();
  for (const f of files) {
    let text = readFileSync(join(nm, f.pkg, f.from), 'utf8');
    if (f.rewrite) text = f.rewrite(text);
    text = `/* ${f.pkg}@${version(f.pkg)} ${f.from} (copied by web/scripts/vendor.mjs; do not edit) */\n` + stripMap(text);
    out.set(f.out, text);
  }
  const licences = files
    .map((f) => f.pkg)
    .filter((p, i, a) => a.indexOf(p) === i)
    .map((p) => `${p}@${version(p)}\n\n` + readFileSync(join(nm, p, existsSync(join(nm, p, 'LICENSE')) ? 'LICENSE' : 'LICENSE.md'), 'utf8').trim())
    .join('\n\n----\n\n');
  out.set('LICENSES.txt', licences + '\n');
  // Declarations beside the copies, so `tsc --checkJs` types the relative
  // imports with the locked packages' own types.
  const dts = '// written by web/scripts/vendor.mjs: the locked package\'s own types\n';
  out.set('preact.d.mts', dts + "export * from 'preact';\n");
  out.set('hooks.d.mts', dts + "export * from 'preact/hooks';\n");
  out.set('htm.d.mts', dts + "export { default } from 'htm';\n");
  out.set('dexie.d.mts', dts + "export * from 'dexie';\nexport { default } from 'dexie';\n");
  return out;
}

if (!existsSync(nm)) {
  console.error('web/node_modules is missing: run `npm ci` in web/ first');
  process.exit(2);
}
const want = expected();
if (process.argv.includes('--check')) {
  const problems = [];
  const have = existsSync(vendor) ? readdirSync(vendor) : [];
  for (const [name, text] of want) {
    const path = join(vendor, name);
    if (!existsSync(path)) problems.push(`missing: vendor/${name}`);
    else if (readFileSync(path, 'utf8') !== text) problems.push(`differs from the locked package: vendor/${name}`);
  }
  for (const name of have) if (!want.has(name)) problems.push(`not produced by vendor.mjs: vendor/${name}`);
  if (problems.length) {
    console.error(problems.join('\n') + '\nrun `npm run vendor` in web/');
    process.exit(1);
  }
  console.log(`web/vendor/ matches the locked packages (${want.size} files)`);
} else {
  mkdirSync(vendor, { recursive: true });
  for (const name of readdirSync(vendor)) if (!want.has(name)) throw new Error(`unexpected file vendor/${name}; remove it by hand`);
  for (const [name, text] of want) writeFileSync(join(vendor, name), text);
  console.log(`wrote ${want.size} files to web/vendor/`);
}
