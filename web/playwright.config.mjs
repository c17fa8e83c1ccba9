// Browser tests: Debian's Chromium (never a downloaded browser) against the
// real server started by tests/run.sh, which sets CASEWORK_APP_URL.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  // PW_OUTPUT_DIR lets two runs at once keep their traces apart.
  outputDir: process.env.PW_OUTPUT_DIR ?? './tests/artifacts/results',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  workers: 1,
  reporter: [['list']],
  use: {
    baseURL: process.env.CASEWORK_APP_URL ?? 'http://127.0.0.1:8080',
    launchOptions: { executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] },
    viewport: { width: 1024, height: 768 },
    serviceWorkers: 'allow',
    trace: 'retain-on-failure',
  },
});
