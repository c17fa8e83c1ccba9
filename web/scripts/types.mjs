// Generates web/types/api.d.ts from the committed spec (../openapi/openapi.yaml)
// with the locked openapi-typescript. `--check` exits 1 when the checked-in
// file is not what the spec gives.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..');
const spec = join(web, '..', 'openapi', 'openapi.yaml');
const target = join(web, 'types', 'api.d.ts');
const cli = join(web, 'node_modules', 'openapi-typescript', 'bin', 'cli.js');

const tmp = mkdtempSync(join(tmpdir(), 'casework-types-'));
const out = join(tmp, 'api.d.ts');
try {
  execFileSync(process.execPath, [cli, spec, '-o', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const text = readFileSync(out, 'utf8');
  if (process.argv.includes('--check')) {
    if (!existsSync(target) || readFileSync(target, 'utf8') !== text) {
      console.error('web/types/api.d.ts is not what openapi/openapi.yaml gives: run `npm run types` in web/');
      process.exit(1);
    }
    console.log('web/types/api.d.ts matches openapi/openapi.yaml');
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    console.log('wrote web/types/api.d.ts');
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
