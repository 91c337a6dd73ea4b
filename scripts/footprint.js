#!/usr/bin/env node
'use strict';
// What `npm install node-red-contrib-sagemaker-runtime` puts on a user's disk: packs this
// checkout, installs the tarball into an empty folder (production dependencies only) and
// measures node_modules. `npm run footprint` prints the figure the README quotes;
// test/nodes/package.test.js applies the same measure to its own install.
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');

const run = promisify(execFile);
const root = path.join(__dirname, '..');

/** Packages that must never reach a user's install (advisories, or the emulator's old S3). */
const BANNED = [
  { name: 's3rver', why: 'the emulator no longer uses it' },
  { name: 'busboy', below: 1, why: 'busboy < 1 pulls dicer (published advisory)' },
  { name: 'dicer', why: 'published advisory' },
  { name: 'fast-xml-parser', below: 4, why: 'fast-xml-parser < 4 has published advisories' },
];

// npm as installed with node: under `npm run`/npx, PATH may start with node_modules/.bin, where
// node-red's own dependency puts an older npm.
const bundledNpm = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const [npm, npmPrefix] = fs.existsSync(bundledNpm)
  ? [process.execPath, [bundledNpm]]
  : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];
// The outer npm's settings (npm_config_*) would override our flags.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const runNpm = (args, cwd) => run(npm, [...npmPrefix, ...args], { cwd, env: npmEnv, maxBuffer: 64 * 1024 * 1024 });

/**
 * Sizes and packages of a node_modules folder: `disk` in bytes of allocated blocks (as du counts
 * them), `contents` in bytes of file contents, and every package found (name, version, path).
 */
function measureTree(nodeModules) {
  let disk = 0;
  let contents = 0;
  const packages = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      const st = fs.lstatSync(p);
      disk += st.blocks * 512;
      if (e.isDirectory()) {
        if (path.basename(dir) === 'node_modules' || path.basename(path.dirname(dir)) === 'node_modules') {
          const pj = path.join(p, 'package.json');
          if (!e.name.startsWith('@') && fs.existsSync(pj)) {
            const j = JSON.parse(fs.readFileSync(pj, 'utf8'));
            if (j.name) packages.push({ name: j.name, version: j.version, path: path.relative(nodeModules, p) });
          }
        }
        walk(p);
      } else if (st.isFile()) contents += st.size;
    }
  };
  disk += fs.lstatSync(nodeModules).blocks * 512;
  walk(nodeModules);
  return { disk, contents, packages };
}

/** The banned packages found in a tree, with why. */
function bannedIn(packages) {
  const out = [];
  for (const p of packages) {
    for (const b of BANNED) {
      if (p.name !== b.name) continue;
      const major = Number(String(p.version).split('.')[0]);
      if (b.below === undefined || major < b.below) out.push(`${p.name}@${p.version} (${p.path}): ${b.why}`);
    }
  }
  return out;
}

// Two decimals: the limit is 26 MB, and 25.98 would print as 26.0.
const mb = (n) => (n / 1e6).toFixed(2);
const mib = (n) => (n / 1024 / 1024).toFixed(2);

function summary(pkg, m) {
  const declared = Object.keys(pkg.dependencies || {}).length;
  const names = new Set(m.packages.map((p) => p.name));
  return `production install: ${mb(m.disk)} MB on disk, ${mib(m.contents)} MiB of file contents, ${names.size} packages (${declared} declared dependencies)`;
}

/** Packs `dir`, installs the tarball into a fresh folder and measures what landed there. */
async function measurePackage(dir = root) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-footprint-'));
  try {
    const { stdout } = await runNpm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], dir);
    const packed = JSON.parse(stdout)[0];
    const user = path.join(tmp, 'user');
    fs.mkdirSync(user);
    fs.writeFileSync(path.join(user, 'package.json'), JSON.stringify({ name: 'footprint', version: '0.0.0', private: true }));
    const args = ['install', path.join(tmp, packed.filename), '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'];
    try {
      await runNpm([...args, '--offline'], user);
    } catch {
      await runNpm([...args, '--prefer-offline'], user);
    }
    return measureTree(path.join(user, 'node_modules'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

module.exports = { measureTree, bannedIn, summary, measurePackage, BANNED };

if (require.main === module) {
  const pkg = require('../package.json');
  measurePackage().then(
    (m) => {
      console.log(summary(pkg, m));
      const banned = bannedIn(m.packages);
      if (banned.length) {
        console.error(`banned packages in the install:\n  ${banned.join('\n  ')}`);
        process.exitCode = 1;
      }
    },
    (err) => {
      console.error(`footprint: ${err.message}`);
      process.exitCode = 1;
    },
  );
}
