'use strict';
// Examples may use nodes of another palette package (the chat example: Dashboard 2.0). Each such
// package is declared in scripts/start.js, so `npm start` links it into the demo and leaves the
// example out when the package is not installed, instead of Node-RED starting no flow at all.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { readExamples, findExamplePackages, usableExamples, buildFlows, EXAMPLE_PACKAGES } = require('../../scripts/start');

const root = path.join(__dirname, '..', '..');
const pkg = require('../../package.json');
const OWN = new Set(Object.keys(pkg['node-red'].nodes));
const CONFIG = new Set(['tab', 'group', 'subflow', 'junction']);

/** The node types Node-RED's core registers (from its editor files). */
function coreTypes() {
  const dir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json')), 'core');
  const types = new Set();
  for (const sub of fs.readdirSync(dir)) {
    const full = path.join(dir, sub);
    if (!fs.statSync(full).isDirectory()) continue;
    for (const f of fs.readdirSync(full).filter((n) => n.endsWith('.html'))) {
      for (const m of fs.readFileSync(path.join(full, f), 'utf8').matchAll(/RED\.nodes\.registerType\(\s*['"]([^'"]+)['"]/g))
        types.add(m[1]);
    }
  }
  return types;
}

describe('examples that need another palette package', function () {
  const examples = readExamples(path.join(root, 'examples'));

  it("uses only core nodes, this package's nodes and nodes of a package declared in scripts/start.js", function () {
    const core = coreTypes();
    assert.ok(core.has('inject') && core.has('function'), 'found the core node types');
    for (const ex of examples) {
      const unknown = ex.nodes
        .map((n) => n.type)
        .filter((t) => !core.has(t) && !OWN.has(t) && !CONFIG.has(t) && !EXAMPLE_PACKAGES.some((p) => p.types.test(t)));
      assert.deepEqual([...new Set(unknown)], [], `${ex.name} uses nodes of an undeclared package`);
    }
  });

  it('each declared package is a dev dependency, installed here, and every example needing it says how to install it', function () {
    for (const p of findExamplePackages()) {
      assert.ok(pkg.devDependencies[p.name], `${p.name} is not a dev dependency`);
      assert.ok(p.dir, `${p.name} is not installed (npm install)`);
      const users = examples.filter((ex) => ex.nodes.some((n) => p.types.test(n.type)));
      for (const ex of users) {
        const text = ex.nodes
          .filter((n) => n.type === 'comment')
          .map((n) => `${n.name}\n${n.info}`)
          .join('\n');
        assert.ok(text.includes(`npm install ${p.name}`), `the comment of ${ex.name} does not say "npm install ${p.name}"`);
      }
    }
  });

  it('without Dashboard 2.0 installed, the demo leaves out the chat example and keeps every other one', function () {
    const packages = findExamplePackages([{ name: '@flowfuse/no-such-dashboard', types: /^ui-/ }]);
    assert.equal(packages[0].dir, undefined);
    const { usable, missing } = usableExamples(examples, packages);
    assert.deepEqual(
      missing.map((m) => [m.example.name, m.package]),
      [['Chat with a streaming model', '@flowfuse/no-such-dashboard']],
    );
    assert.equal(usable.length, examples.length - 1);
    const { flows } = buildFlows(usable);
    assert.deepEqual(
      flows.filter((n) => /^ui-/.test(n.type)),
      [],
      'no dashboard node reaches the flows',
    );
  });

  it('with it installed, the chat example is deployed with one ui-base at /dashboard that routes messages per client', function () {
    const { usable, missing } = usableExamples(examples, findExamplePackages());
    assert.deepEqual(missing, []);
    const { flows } = buildFlows(usable);
    const bases = flows.filter((n) => n.type === 'ui-base');
    assert.equal(bases.length, 1, 'Dashboard 2.0 takes one ui-base');
    assert.equal(bases[0].path, '/dashboard');
    assert.equal(bases[0].includeClientData, true);
    assert.ok(bases[0].acceptsClientConfig.includes('ui-template'), 'answers go only to the tab that asked');
    const template = flows.find((n) => n.type === 'ui-template');
    assert.equal(template.passthru, false, 'answers sent to the page must not loop back into the flow');
    assert.equal(template.storeOutMessages, false);
  });
});
