#!/usr/bin/env node
'use strict';
// Benchmark harness: runs every bench/*.js module's exported async function (except this one)
// and prints each figure next to its reference measured in the same run, as a ratio.
// A module resolves to [{ name, value, reference, unit, ratio?, target?, better: 'higher'|'lower' }]
// (`ratio` defaults to value / reference; `target` is checked against ratio, or against the
// value when `targetOn: 'value'`).
const fs = require('node:fs');

// The SDK's notice that its 2027 releases need Node 22 would repeat in every bench's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const path = require('node:path');

async function main() {
  const only = process.argv.slice(2);
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.js') && f !== 'run.js')
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  let missed = 0;
  for (const file of files) {
    const fn = require(path.join(__dirname, file));
    const run = typeof fn === 'function' ? fn : fn.default || fn.run;
    console.log(`\n## ${file}`);
    const started = Date.now();
    const figures = await run();
    for (const f of figures) {
      const ratio = f.ratio ?? f.value / f.reference;
      const checked = f.targetOn === 'value' ? f.value : ratio;
      const met = f.target === undefined ? undefined : f.better === 'lower' ? checked <= f.target : checked >= f.target;
      if (met === false) missed++;
      const target =
        f.target === undefined
          ? ''
          : `  target ${f.better === 'lower' ? '≤' : '≥'} ${f.target}${f.targetOn === 'value' ? ` ${f.unit}` : ''} ${met ? 'met' : 'MISSED'}`;
      console.log(
        `${f.name}: ${fmt(f.value)} ${f.unit} vs reference ${fmt(f.reference)} ${f.unit} → ratio ${ratio.toFixed(3)}${f.extra ? `  (${f.extra})` : ''}${target}`,
      );
    }
    console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  console.log(missed ? `\n${missed} target(s) missed` : '\nall targets met');
}

function fmt(n) {
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(3);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
