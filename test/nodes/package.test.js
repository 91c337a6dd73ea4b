'use strict';
// What a Flow Library user gets: `npm pack` holds what Node-RED needs (and nothing of the
// sources or tests), and the tarball installed into a fresh userDir loads all four nodes in a
// Node-RED started from code (the one named by NODE_RED_PACKAGE, so this runs on 4 and 5). The
// installed tree is measured (the README's footprint figure, `npm run footprint`) and checked for
// packages that must never reach users.
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { promisify } = require('node:util');

const run = promisify(execFile);
const { measureTree, bannedIn, summary } = require('../../scripts/footprint');
const root = path.join(__dirname, '..', '..');
const pkg = require('../../package.json');
const TYPES = ['sagemaker-config', 'sagemaker-invoke', 'sagemaker-stream', 'sagemaker-invoke-async'];
// The npm installed with node: under `npm test` or npx, PATH starts with node_modules/.bin, where
// node-red's own dependency puts an older npm (10.x) that does not honour --ignore-scripts for pack.
const bundledNpm = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
const [npm, npmPrefix] = fs.existsSync(bundledNpm)
  ? [process.execPath, [bundledNpm]]
  : [process.platform === 'win32' ? 'npm.cmd' : 'npm', []];

// Under `npm test`/`npx` the environment carries the outer npm's settings (npm_config_*), which
// would override our flags (`--ignore-scripts` included): npm runs in a clean environment.
const npmEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
const runNpm = (args, cwd) => run(npm, [...npmPrefix, ...args], { cwd, env: npmEnv, maxBuffer: 16 * 1024 * 1024 });

function built() {
  return (
    fs.existsSync(path.join(root, 'dist', 'emulator', 'index.js')) &&
    TYPES.every((t) => fs.existsSync(path.join(root, 'nodes', `${t}.js`)) && fs.existsSync(path.join(root, 'nodes', `${t}.html`)))
  );
}

// Runs in a child: the Node-RED runtime is one global per process (the helper owns mocha's).
const LOAD_NODES = `
const { startNodeRed } = require(${JSON.stringify(path.join(root, 'scripts', 'start.js'))});
(async () => {
  const nr = await startNodeRed({ userDir: process.argv[1], port: 0, quiet: true, settings: { logging: { console: { level: 'error' } } } });
  const res = await fetch(nr.url + 'nodes', { headers: { accept: 'application/json' } });
  const list = await res.json();
  const info = nr.RED.nodes.getModuleInfo(${JSON.stringify(pkg.name)});
  const types = {};
  for (const t of ${JSON.stringify(TYPES)}) {
    const i = nr.RED.nodes.getNodeInfo(t);
    types[t] = { constructor: typeof nr.RED.nodes.getType(t) === 'function', enabled: i && i.enabled, err: i && i.err ? String(i.err) : undefined };
  }
  await nr.close();
  process.stdout.write('\\nRESULT ' + JSON.stringify({ list, types, path: info && info.path }) + '\\n');
  process.exit(0);
})().catch((err) => { console.error(err.message); process.exit(1); });
`;

describe('npm package (pack, install into a fresh userDir, load in Node-RED)', function () {
  this.timeout(180000);
  let tmp;
  let packed;
  let installedTree;

  before(async function () {
    if (!built()) {
      console.warn('  package test skipped: the nodes or the emulator are not built yet (npm run build)');
      this.skip();
    }
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-pack-'));
    // --ignore-scripts: `prepare` would rebuild (the test run has just built) under other tests' feet.
    const { stdout } = await runNpm(['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root);
    packed = JSON.parse(stdout)[0];
  });

  after(function () {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('packs the built nodes, their editor files, locales, icons, the emulator, examples, README and LICENSE', function () {
    const files = packed.files.map((f) => f.path);
    const has = (p) => files.includes(p);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/emulator/index.js', 'dist/emulator/cli.js'])
      assert.ok(has(f), `the tarball lacks ${f}`);
    // The editor script every node's .html loads (Node-RED serves it from resources/).
    assert.ok(has('resources/sagemaker-editor.js'), 'the tarball lacks resources/sagemaker-editor.js');
    for (const t of TYPES) {
      for (const f of [`nodes/${t}.js`, `nodes/${t}.html`, `nodes/locales/en-US/${t}.json`, `nodes/locales/en-US/${t}.html`])
        assert.ok(has(f), `the tarball lacks ${f}`);
      if (t !== 'sagemaker-config') assert.ok(has(`nodes/icons/${t}.svg`), `the tarball lacks nodes/icons/${t}.svg`);
    }
    const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'));
    assert.ok(examples.length > 0, 'no examples to pack');
    for (const e of examples) assert.ok(has(`examples/${e}`), `the tarball lacks examples/${e}`);
    // Every file the package.json points at is in the tarball.
    for (const f of Object.values(pkg['node-red'].nodes))
      assert.ok(has(path.posix.normalize(f)), `node-red.nodes names ${f}, which is not packed`);
    for (const f of Object.values(pkg.bin || {})) assert.ok(has(path.posix.normalize(f)), `bin ${f} is not packed`);
  });

  it('leaves sources, tests, the demo userDir and build tooling out of the tarball', function () {
    const files = packed.files.map((f) => f.path);
    const stray = files.filter(
      (f) =>
        /^(src|test|test-output|\.demo|bench|scripts|\.ci|docs|node_modules|icons)\//.test(f) ||
        /\.ts$/.test(f) ||
        /^(tsconfig\.json|tsup\.config\.ts|\.mocharc\.json|package-lock\.json)$/.test(f),
    );
    assert.deepEqual(stray, []);
    // The nodes are bundled: nothing in nodes/ reaches into dist/lib or src/.
    for (const t of TYPES) {
      const js = fs.readFileSync(path.join(root, 'nodes', `${t}.js`), 'utf8');
      assert.doesNotMatch(js, /require\(["'](\.\.?\/)+(dist\/lib|src)\//, `nodes/${t}.js requires unpacked sources`);
    }
  });

  it('installs from the tarball into a fresh userDir where Node-RED loads all four node types', async function () {
    const userDir = path.join(tmp, 'userDir');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'node-red-project', version: '0.0.1', private: true }));
    const tgz = path.join(tmp, packed.filename);
    const args = ['install', tgz, '--no-audit', '--no-fund', '--loglevel=error'];
    // The dependencies are in npm's cache from the project's own install; fall back to the network.
    try {
      await runNpm([...args, '--offline'], userDir);
    } catch {
      await runNpm([...args, '--prefer-offline'], userDir);
    }
    installedTree = path.join(userDir, 'node_modules');
    const installed = path.join(installedTree, pkg.name);
    assert.ok(fs.existsSync(path.join(installed, 'package.json')), 'npm install did not install the package');
    assert.ok(!fs.lstatSync(installed).isSymbolicLink(), 'the package was linked, not installed from the tarball');

    const { stdout } = await run(process.execPath, ['-e', LOAD_NODES, userDir], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
    // Node-RED 5 on Node 20 prints a warning banner on stdout first.
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
    assert.ok(line, `Node-RED printed no result:\n${stdout}`);
    const { list, types, path: modulePath } = JSON.parse(line.slice(7));
    assert.equal(
      fs.realpathSync(modulePath),
      fs.realpathSync(installed),
      'Node-RED loaded the package from somewhere else than the userDir',
    );
    const ours = list.filter((s) => s.module === pkg.name);
    for (const type of TYPES) {
      assert.ok(
        ours.some((s) => s.types.includes(type)),
        `the admin API lists no ${type} (sets: ${ours.map((s) => s.id).join(', ')})`,
      );
      assert.equal(types[type].err, undefined, `${type} failed to load: ${types[type].err}`);
      assert.equal(types[type].enabled, true, `${type} is disabled`);
      assert.equal(types[type].constructor, true, `${type} registered no constructor`);
    }
  });

  it('installs lean: no s3rver, busboy < 1, dicer or fast-xml-parser < 4; at most 26 MB on disk, 15 MiB of file contents and 6 declared dependencies', function () {
    assert.ok(installedTree, 'the install test did not run');
    const m = measureTree(installedTree);
    console.log(`      ${summary(pkg, m)}`);
    assert.deepEqual(bannedIn(m.packages), []);
    assert.ok(
      m.packages.some((p) => p.name === '@aws-sdk/client-sagemaker-runtime'),
      'the measured tree lacks the SDK: not a real install',
    );
    assert.ok(m.disk <= 26e6, `${(m.disk / 1e6).toFixed(1)} MB on disk`);
    assert.ok(m.contents <= 15 * 1024 * 1024, `${(m.contents / 1024 / 1024).toFixed(1)} MiB of file contents`);
    assert.ok(Object.keys(pkg.dependencies).length <= 6, `${Object.keys(pkg.dependencies).length} declared dependencies`);
  });
});
