// Writes web/shell-files.js: every file the app serves (for the service
// worker's shell cache) and a version that is a hash of their contents, so a
// changed file gives a new cache and the old one is dropped. sw.js loads it
// with importScripts. `--check` exits 1 when shell-files.js is out of date.
// Usage: node scripts/shell.mjs [--check]   (npm run shell / npm run shell:check)
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = 'shell-files.js';
/** Directories under web/ that are not served: tooling, tests, declarations, tool output. */
const SKIP_DIRS = new Set(['node_modules', 'tests', 'scripts', 'types', 'test-results', 'playwright-report']);
/** Top-level files that are not served: the package, tool configuration, this script's output. */
const SKIP_FILES = new Set(['package.json', 'package-lock.json', 'tsconfig.json', 'playwright.config.mjs', '.gitignore', OUT]);

/**
 * The served files, as URL paths ('/app.js'), sorted.
 * @param {string} dir relative to web/, '' for web/ itself
 * @returns {string[]}
 */
function served(dir = '') {
  const out = [];
  for (const e of readdirSync(join(web, dir), { withFileTypes: true })) {
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.name.startsWith('.')) continue; // .gitignore, editor files: never served
    if (e.isDirectory()) {
      if (!(dir === '' && SKIP_DIRS.has(e.name))) out.push(...served(rel));
    } else if (e.isFile() && !(dir === '' && SKIP_FILES.has(e.name))) {
      out.push(rel);
    }
  }
  return out.sort();
}

function expected() {
  const files = served();
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(f).update('\0');
    hash.update(readFileSync(join(web, f))).update('\0');
  }
  const version = `casework-shell-${hash.digest('hex').slice(0, 16)}`;
  const list = files.map((f) => `  ${JSON.stringify('/' + f)},`).join('\n');
  return `// Written by web/scripts/shell.mjs (\`npm run shell\`); do not edit.
// The files the service worker keeps for opening offline, and a hash of them.
self.SHELL_VERSION = ${JSON.stringify(version)};
self.SHELL_FILES = [
${list}
];
`;
}

const want = expected();
const path = join(web, OUT);
if (process.argv.includes('--check')) {
  if (!existsSync(path) || readFileSync(path, 'utf8') !== want) {
    console.error(`web/${OUT} is out of date with the files under web/: run \`npm run shell\` in web/`);
    process.exit(1);
  }
  console.log(`web/${OUT} is up to date (${want.match(/casework-shell-\w+/)?.[0]})`);
} else {
  writeFileSync(path, want);
  console.log(`wrote web/${OUT} (${want.match(/casework-shell-\w+/)?.[0]})`);
}
