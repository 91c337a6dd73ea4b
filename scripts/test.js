#!/usr/bin/env node
'use strict';
// Runs the whole suite on Node-RED 4 (the dev dependency), then the node, security and browser
// tests (test/e2e: the demo started from code, Node-RED 5's own editor in Chromium) again on
// Node-RED 5 (the `node-red-5` alias), and prints one closing line `N passed, N failed`.
// Each run is a child process: Node-RED keeps global state in its module cache.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const mocha = require.resolve('mocha/bin/mocha.js');
const extra = process.argv.slice(2);

function run(label, env, args) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'smr-test-')), 'result.json');
  console.log(`\n=== ${label} ===`);
  const r = spawnSync(
    process.execPath,
    [mocha, '--reporter', path.join(__dirname, 'mocha-reporter.js'), '--reporter-option', `output=${out}`, ...args],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...env },
    },
  );
  let counts = { passed: 0, failed: 0, pending: 0 };
  try {
    counts = JSON.parse(fs.readFileSync(out, 'utf8'));
  } catch {
    counts.failed += 1; // the run died before reporting
    console.error(`${label}: mocha exited with ${r.status} before reporting`);
  }
  if (r.status !== 0 && counts.failed === 0) counts.failed = 1;
  return counts;
}

const results = [];
if (extra.length > 0) {
  // `npm test -- test/unit/x.test.js` runs just those files.
  results.push(run('selected tests (Node-RED 4)', {}, ['--no-config', '--timeout', '20000', '--exit', ...extra]));
} else {
  results.push(run('all tests (Node-RED 4)', {}, []));
  if (!process.env.SKIP_NODE_RED_5) {
    // --no-config: mocha would otherwise add .mocharc.json's spec list to the files named here.
    results.push(
      run('node, security and browser tests (Node-RED 5)', { NODE_RED_PACKAGE: 'node-red-5' }, [
        '--no-config',
        '--timeout',
        '20000',
        '--exit',
        'test/nodes/**/*.test.js',
        'test/security/**/*.test.js',
        'test/e2e/**/*.test.js',
      ]),
    );
  }
}
const total = results.reduce((a, c) => ({ passed: a.passed + c.passed, failed: a.failed + c.failed, pending: a.pending + c.pending }), {
  passed: 0,
  failed: 0,
  pending: 0,
});
console.log(`\n${total.passed} passed, ${total.failed} failed` + (total.pending ? `, ${total.pending} skipped` : ''));
process.exit(total.failed > 0 ? 1 : 0);
