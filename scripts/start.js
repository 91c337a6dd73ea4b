#!/usr/bin/env node
'use strict';
// `npm start`: the SageMaker Runtime emulator (with its embedded S3) plus Node-RED on
// http://127.0.0.1:1880 with this package's nodes loaded from the working tree and every flow in
// examples/ deployed, one tab per file (with the palette packages they need, such as Dashboard
// 2.0, linked in too). The examples' config nodes read ${SAGEMAKER_ENDPOINT_URL},
// ${S3_ENDPOINT_URL}, ${AWS_REGION}…, which are set here to the emulator's addresses.
//
// Also a module: `startDemo(options)` (used by the browser tests) and `startNodeRed(options)`
// (used by the packaging test).
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const { startBroker, brokerEnv } = require('./broker');
const { setUpFleet } = require('./fleet');
const { simulate } = require('./simulate');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');

const DEFAULTS = {
  host: '127.0.0.1',
  port: 1880,
  emulatorPort: 9080,
  userDir: path.join(root, '.demo'),
  examplesDir: path.join(root, 'examples'),
  emulatorConfig: path.join(__dirname, 'demo-emulator.json'),
};
const DEMO_KEY = { accessKeyId: 'test', secretAccessKey: 'test' };
const CREDENTIAL_SECRET = 'sagemaker-demo';

/** An error whose message is meant for the user as is (no stack trace). */
class DemoError extends Error {}

function rel(file) {
  const r = path.relative(process.cwd(), file);
  return r && !r.startsWith('..') ? r : file;
}

function readJson(file, what) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new DemoError(`Cannot read ${what} ${rel(file)}: ${err.message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DemoError(`${what} ${rel(file)} is not valid JSON: ${jsonError(err, text)}`);
  }
}

// Node 20's JSON.parse reports a character offset only; people look for a line.
function jsonError(err, text) {
  const m = /at position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const before = text.slice(0, Number(m[1])).split('\n');
  return `${err.message} (line ${before.length}, column ${before[before.length - 1].length + 1})`;
}

// ---------------------------------------------------------------------------------------------
// Example flows → one flows.json

/** Reads every examples/*.json (sorted by name) as `{ file, name, nodes }`. */
function readExamples(dir) {
  let files;
  try {
    files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort();
  } catch (err) {
    if (err.code === 'ENOENT') return [];
    throw new DemoError(`Cannot read the examples folder ${rel(dir)}: ${err.message}`);
  }
  return files.map((f) => {
    const file = path.join(dir, f);
    const nodes = readJson(file, 'Example flow');
    if (!Array.isArray(nodes)) {
      throw new DemoError(`Example flow ${rel(file)} is not a flow export: expected a JSON array of nodes`);
    }
    nodes.forEach((n, i) => {
      if (!n || typeof n !== 'object' || typeof n.id !== 'string' || typeof n.type !== 'string') {
        throw new DemoError(`Example flow ${rel(file)}: entry ${i} is not a node (needs string "id" and "type")`);
      }
    });
    return { file, name: path.basename(f, '.json'), nodes };
  });
}

function newId(seed) {
  return crypto.createHash('sha1').update(seed).digest('hex').slice(0, 16);
}

// Node references are plain id strings in many places (wires, z, g, links, scope, config
// properties with any name, `subflow:<id>` types); replacing every string equal to a renamed id
// catches them all. Ids are random hex in exports, so a false hit on text is not a concern.
function renameIds(value, map) {
  if (typeof value === 'string') {
    if (map.has(value)) return map.get(value);
    if (value.startsWith('subflow:') && map.has(value.slice(8))) return `subflow:${map.get(value.slice(8))}`;
    return value;
  }
  if (Array.isArray(value)) return value.map((v) => renameIds(v, map));
  if (value && typeof value === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = renameIds(v, map);
    return out;
  }
  return value;
}

/**
 * Merges example files into one flow: one tab per file (a file without a tab gets one named
 * after the file), ids rewritten per file where they collide with an earlier file's.
 * Returns `{ flows, tabs: [{ file, name, id, label }] }`.
 */
function buildFlows(examples) {
  const used = new Set();
  const flows = [];
  const tabs = [];
  for (const ex of examples) {
    let nodes = ex.nodes.map((n) => ({ ...n }));
    const ownIds = new Set(nodes.map((n) => n.id));
    if (ownIds.size !== nodes.length) {
      throw new DemoError(`Example flow ${rel(ex.file)} has duplicate node ids`);
    }
    if ([...ownIds].some((id) => used.has(id))) {
      const map = new Map([...ownIds].map((id) => [id, newId(`${ex.name}/${id}`)]));
      nodes = nodes.map((n) => renameIds(n, map));
    }
    let tab = nodes.find((n) => n.type === 'tab');
    if (!tab) {
      tab = { id: newId(`${ex.name}/tab`), type: 'tab', label: ex.name, disabled: false, info: '' };
      nodes.unshift(tab);
    }
    // Flow nodes outside any tab/subflow of this file (exports of a selection) go on its tab.
    const containers = new Set(nodes.filter((n) => n.type === 'tab' || n.type === 'subflow').map((n) => n.id));
    for (const n of nodes) {
      const onCanvas = typeof n.x === 'number' || Array.isArray(n.wires) || n.type === 'group';
      if (n.type !== 'tab' && n.type !== 'subflow' && onCanvas && !containers.has(n.z)) n.z = tab.id;
    }
    nodes.forEach((n) => used.add(n.id));
    flows.push(...nodes);
    for (const t of nodes.filter((n) => n.type === 'tab')) tabs.push({ file: ex.file, name: ex.name, id: t.id, label: t.label });
  }
  return { flows, tabs };
}

/** `METHOD url` of each `http in` node, for the banner. */
function httpEndpoints(flows, base) {
  return flows
    .filter((n) => n.type === 'http in' && n.url)
    .map((n) => `${String(n.method || 'get').toUpperCase()} ${new URL(n.url.replace(/^\//, ''), base).href}`);
}

// ---------------------------------------------------------------------------------------------
// userDir

// Files Node-RED reads from its userDir; a corrupt one otherwise surfaces as an obscure error.
const USER_DIR_JSON = [
  'package.json',
  '.config.nodes.json',
  '.config.runtime.json',
  '.config.users.json',
  '.config.projects.json',
  '.sessions.json',
  'flows_cred.json',
];

function checkUserDir(userDir) {
  let st;
  try {
    st = fs.statSync(userDir);
  } catch {
    return; // created below
  }
  if (!st.isDirectory()) throw new DemoError(`The demo's userDir ${rel(userDir)} exists but is not a folder: remove it and run again`);
  for (const f of USER_DIR_JSON) {
    const file = path.join(userDir, f);
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, 'utf8');
    try {
      JSON.parse(text);
    } catch (err) {
      throw new DemoError(
        `${rel(file)} in the demo's userDir is not valid JSON (${jsonError(err, text)}); delete it (or the whole ${rel(userDir)} folder) and run again`,
      );
    }
  }
}

/**
 * Makes `userDir` load this package (and `others`, `[{ name, dir }]`) the way an installed one is
 * loaded: listed in its package.json and linked into its node_modules (so Node-RED reads package.json
 * `node-red.nodes` and shows examples/ under Import → Examples).
 */
function linkPackage(userDir, others = []) {
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  const pj = path.join(userDir, 'package.json');
  const manifest = fs.existsSync(pj)
    ? readJson(pj, 'userDir file')
    : { name: 'node-red-sagemaker-demo', description: 'userDir of `npm start`', version: '0.0.0', private: true };
  const packages = [{ name: pkg.name, dir: root }, ...others];
  for (const p of packages) manifest.dependencies = { ...manifest.dependencies, [p.name]: `file:${path.relative(userDir, p.dir) || '.'}` };
  fs.writeFileSync(pj, JSON.stringify(manifest, null, 2) + '\n');
  for (const p of packages) {
    const link = path.join(userDir, 'node_modules', p.name);
    let current;
    try {
      current = fs.lstatSync(link);
    } catch {
      /* absent */
    }
    if (current && current.isSymbolicLink() && fs.realpathSync(link) === fs.realpathSync(p.dir)) continue;
    if (current) fs.rmSync(link, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(link), { recursive: true }); // a scope folder (@flowfuse/…)
    fs.symlinkSync(p.dir, link, 'junction');
  }
}

// ---------------------------------------------------------------------------------------------
// Palette packages that examples need besides this one

// An example with a node of one of these types needs the package (a dev dependency here): the
// demo links it into the userDir, and leaves the example out, saying so, when it is not installed
// (Node-RED would otherwise start no flow at all while a node type is missing).
const EXAMPLE_PACKAGES = [{ name: '@flowfuse/node-red-dashboard', types: /^ui-/ }];

/** `{ name, types, dir }` per package; `dir` is undefined when the package is not installed. */
function findExamplePackages(packages = EXAMPLE_PACKAGES) {
  return packages.map((p) => {
    try {
      return { ...p, dir: path.dirname(require.resolve(`${p.name}/package.json`, { paths: [root] })) };
    } catch {
      return { ...p, dir: undefined };
    }
  });
}

/** Splits examples into `usable` ones and `missing` ones (`{ example, package }`) whose package is not installed. */
function usableExamples(examples, packages) {
  const usable = [];
  const missing = [];
  for (const ex of examples) {
    const lacking = packages.find((p) => !p.dir && ex.nodes.some((n) => p.types.test(n.type)));
    if (lacking) missing.push({ example: ex, package: lacking.name });
    else usable.push(ex);
  }
  return { usable, missing };
}

// Node-RED's flows_cred.json format with a credentialSecret (@node-red/runtime credentials.js).
function encryptedCredentials(credentials, secret) {
  const key = crypto.createHash('sha256').update(secret).digest();
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv('aes-256-ctr', key, iv);
  return { $: iv.toString('hex') + cipher.update(JSON.stringify(credentials), 'utf8', 'base64') + cipher.final('base64') };
}

// ---------------------------------------------------------------------------------------------
// Node-RED

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve(server.address().port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function portMessage(err, port, host) {
  const next = port ? port + 1 : 1881;
  const how = `choose another with PORT=${next} npm start (or npm start -- --port ${next})`;
  if (err.code === 'EADDRINUSE') return `Port ${port} on ${host} is already in use (is the demo already running?); ${how}`;
  if (err.code === 'EACCES') return `Not allowed to listen on port ${port} on ${host}; ${how}`;
  return `Cannot listen on ${host}:${port}: ${err.message}`;
}

/** Creates Node-RED's http server and listens, so a taken port is reported before anything starts. */
async function openServer({ port = 0, host = DEFAULTS.host, nodeRedPackage = process.env.NODE_RED_PACKAGE || 'node-red' }) {
  const redPath = require.resolve(nodeRedPackage);
  const express = require(require.resolve('express', { paths: [path.dirname(redPath)] }));
  const app = express();
  const server = http.createServer(app);
  try {
    return { app, server, host, redPath, port: await listen(server, port, host) };
  } catch (err) {
    throw new DemoError(portMessage(err, port, host));
  }
}

/**
 * Starts Node-RED from code on an http server of its own (`listening`: from openServer, else
 * one is opened). The Node-RED module is global state: one runtime per process.
 * Returns `{ RED, url, port, server, close() }`.
 */
async function startNodeRed({ userDir, port = 0, host = DEFAULTS.host, quiet = false, nodeRedPackage, settings = {}, listening }) {
  if (listening) host = listening.host;
  userDir = path.resolve(userDir);
  const { app, server, redPath, port: actualPort } = listening || (await openServer({ port, host, nodeRedPackage }));
  const RED = require(redPath);
  const full = {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: CREDENTIAL_SECRET,
    uiHost: host,
    uiPort: actualPort,
    httpAdminRoot: '/',
    httpNodeRoot: '/',
    functionExternalModules: false,
    logging: { console: { level: quiet ? 'warn' : 'info', metrics: false, audit: false } },
    telemetry: { enabled: false, updateNotification: false },
    ...settings,
    // Projects stay off; `enabled: false` would log a warning saying so at every start.
    editorTheme: { projects: {}, tours: false, ...settings.editorTheme },
  };
  let started = false;
  const close = async () => {
    if (started) {
      started = false;
      await RED.stop().catch(() => {});
    }
    if (server.listening) {
      const closed = new Promise((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.(); // the editor's websocket and keep-alive connections
      await closed;
    }
  };
  try {
    RED.init(server, full);
    app.use(full.httpAdminRoot, RED.httpAdmin);
    app.use(full.httpNodeRoot, RED.httpNode);
    started = true;
    // RED.start() resolves before the flows run; the banner (and a test opening a page the flows
    // serve, such as /dashboard) should come after them. Flows that cannot start (missing node
    // types or modules, safe mode) send a runtime-state event with an error instead.
    const flowsStarted = new Promise((resolve) => {
      const onState = (e) => {
        if (e && e.id === 'runtime-state' && e.payload && e.payload.error) done();
      };
      const done = () => {
        RED.events.off('flows:started', done);
        RED.events.off('runtime-event', onState);
        resolve();
      };
      RED.events.on('flows:started', done);
      RED.events.on('runtime-event', onState);
    });
    await RED.start();
    await flowsStarted;
  } catch (err) {
    await close();
    throw new DemoError(`Node-RED could not start with userDir ${rel(userDir)}: ${err.message}`);
  }
  return { RED, url: `http://${host}:${actualPort}/`, port: actualPort, server, close };
}

// ---------------------------------------------------------------------------------------------
// Emulator

function loadEmulator() {
  try {
    return require('../dist/emulator');
  } catch (err) {
    throw new DemoError(`The emulator is not built (${err.code || err.message}): run npm run build first, or use npm start`);
  }
}

async function startEmulatorOn(port, options, fallback, startEmulator = loadEmulator().startEmulator) {
  if (typeof startEmulator !== 'function') throw new DemoError('dist/emulator has no startEmulator(): run npm run build');
  try {
    return await startEmulator({ ...options, host: DEFAULTS.host, port });
  } catch (err) {
    if (err.code === 'EADDRINUSE' && fallback) return startEmulator({ ...options, host: DEFAULTS.host, port: 0 });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The demo

/**
 * Starts the emulator and Node-RED with every example deployed.
 * Options: `port` (Node-RED, default 1880; 0 = any), `userDir` (default .demo/), `quiet`
 * (Node-RED logs warnings only, no banner), `emulatorPort` (default 9080, any free port if that
 * one is taken; 0 = any), `emulator` (extra emulator options; `endpoints` and `credentials` are
 * added to the demo's), `mqttPort` (the MQTT broker, default any free port), `simulate`
 * (`{ devices, rate }`: publish simulated readings to it), `examplesDir`, `examplePackages`
 * (default EXAMPLE_PACKAGES), `keepFlows` (keep an existing flows.json), `startEmulator` (another
 * emulator implementation, default dist/emulator's), `settings` (more Node-RED settings).
 * Resolves to `{ url, emulator, broker, nodeRed, tabs, missing, close() }` (`missing`: examples
 * left out).
 */
async function startDemo(options = {}) {
  const o = { ...DEFAULTS, quiet: false, keepFlows: false, emulator: {}, ...options };
  const userDir = path.resolve(o.userDir);

  // Everything that can be wrong with the inputs is reported before anything starts.
  const packages = findExamplePackages(o.examplePackages);
  const { usable, missing } = usableExamples(readExamples(o.examplesDir), packages);
  const { flows, tabs } = buildFlows(usable);
  checkUserDir(userDir);
  const demoConfig = readJson(o.emulatorConfig, 'Emulator config');
  // Before touching the userDir: a second `npm start` must not rewrite the running one's flows.
  const listening = await openServer({ port: o.port, host: o.host, nodeRedPackage: o.nodeRedPackage });
  const closeServer = () => new Promise((resolve) => listening.server.close(() => resolve()));
  try {
    fs.mkdirSync(userDir, { recursive: true });
    linkPackage(
      userDir,
      packages.filter((p) => p.dir),
    );
    const flowFile = path.join(userDir, 'flows.json');
    if (!(o.keepFlows && fs.existsSync(flowFile))) {
      fs.writeFileSync(flowFile, JSON.stringify(flows, null, 2) + '\n');
      // Credentials of the previous flows belong to nodes that no longer exist. An empty but
      // encrypted file keeps Node-RED from warning "Encrypted credentials not found".
      fs.writeFileSync(path.join(userDir, 'flows_cred.json'), JSON.stringify(encryptedCredentials({}, CREDENTIAL_SECRET)) + '\n');
    }
  } catch (err) {
    await closeServer();
    throw err instanceof DemoError ? err : new DemoError(`Cannot prepare the demo's userDir ${rel(userDir)}: ${err.message}`);
  }

  const extra = o.emulator || {};
  const emulatorOptions = {
    ...demoConfig,
    ...extra,
    endpoints: { ...demoConfig.endpoints, ...extra.endpoints },
    credentials: [DEMO_KEY, ...(demoConfig.credentials || []), ...(extra.credentials || [])],
  };
  let emulator;
  try {
    emulator = await startEmulatorOn(o.emulatorPort, emulatorOptions, options.emulatorPort === undefined, o.startEmulator);
  } catch (err) {
    await closeServer();
    throw err instanceof DemoError ? err : new DemoError(`The emulator did not start: ${err.message}`);
  }

  const previousEnv = {};
  const env = {
    SAGEMAKER_ENDPOINT_URL: emulator.url,
    S3_ENDPOINT_URL: emulator.s3Url,
    AWS_REGION: emulator.region || 'us-east-1',
    AWS_ACCESS_KEY_ID: DEMO_KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: DEMO_KEY.secretAccessKey,
    AWS_ENDPOINT_URL_STS: emulator.url,
    AWS_SESSION_TOKEN: undefined, // a token from the user's shell would not match the demo key
    AWS_PROFILE: undefined,
  };
  // The topics, queues and subscriptions of the fleet example (its nodes read ${SQS_ENDPOINT_URL},
  // ${GATEWAY_QUEUE_URL} and ${FLEET_QUEUE_URL}); an emulator without SQS leaves them unset.
  if (emulator.sqsUrl && typeof emulator.setEndpoint === 'function') {
    try {
      Object.assign(env, await setUpFleet(emulator, { region: env.AWS_REGION, credentials: DEMO_KEY }));
    } catch (err) {
      await emulator.close().catch(() => {});
      await closeServer();
      throw new DemoError(`Setting up the emulator's SQS and SNS failed: ${err.message}`);
    }
  }
  // The MQTT broker of the IoT gateway example (its mqtt-broker node reads ${MQTT_BROKER_HOST}/${MQTT_BROKER_PORT}).
  let broker;
  try {
    broker = await startBroker({ host: DEFAULTS.host, port: o.mqttPort ?? 0 });
  } catch (err) {
    await emulator.close().catch(() => {});
    await closeServer();
    throw new DemoError(`The MQTT broker did not start: ${err.message}`);
  }
  Object.assign(env, brokerEnv(broker));
  for (const [k, v] of Object.entries(env)) {
    previousEnv[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }

  let nodeRed;
  try {
    nodeRed = await startNodeRed({ userDir, host: o.host, quiet: o.quiet, listening, settings: o.settings });
  } catch (err) {
    await emulator.close().catch(() => {});
    await broker.close().catch(() => {});
    throw err;
  }
  const simulator = o.simulate ? await simulate({ url: broker.url, ...o.simulate }) : undefined;

  let closing;
  const close = () => {
    closing ??= (async () => {
      await simulator?.stop().catch(() => {});
      await nodeRed.close();
      await emulator.close().catch(() => {});
      await broker.close().catch(() => {});
      for (const [k, v] of Object.entries(previousEnv)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    })();
    return closing;
  };
  if (!o.quiet) {
    const lines = [
      '',
      `Node-RED editor:     ${nodeRed.url}`,
      `SageMaker emulator:  ${emulator.url}  (region ${env.AWS_REGION}, access key test / secret test)`,
      `S3 (emulator):       ${emulator.s3Url}`,
      ...(env.SQS_ENDPOINT_URL
        ? [`SQS/SNS (emulator):  ${env.SQS_ENDPOINT_URL}  (queues \${GATEWAY_QUEUE_URL}, \${FLEET_QUEUE_URL})`]
        : []),
      `MQTT broker:         ${broker.url}  (\${MQTT_BROKER_URL})` +
        (simulator
          ? `; simulator: ${o.simulate.devices ?? 10} devices, ${o.simulate.rate ?? 10} readings/s`
          : '; readings: npm start -- --simulate, or npm run simulate'),
      `userDir:             ${rel(userDir)}`,
      '',
      tabs.length ? 'Example flows, one tab each:' : 'No example flows found in examples/',
      ...tabs.map((t) => `  - ${t.label || t.name}`),
      ...missing.map((m) => `Left out (needs npm install ${m.package}): ${m.example.name}`),
      ...httpEndpoints(flows, nodeRed.url).map((e) => `HTTP endpoint of the examples: ${e}`),
      ...flows
        .filter((n) => n.type === 'ui-base' && n.path)
        .map((n) => `Dashboard of the examples: ${new URL(n.path.replace(/^\//, ''), nodeRed.url).href}`),
      '',
      'Press Ctrl-C to stop.',
      '',
    ];
    console.log(lines.join('\n'));
  }
  return {
    url: nodeRed.url,
    emulator,
    broker,
    nodeRed,
    tabs,
    missing: missing.map((m) => ({ name: m.example.name, package: m.package })),
    userDir,
    close,
  };
}

// ---------------------------------------------------------------------------------------------
// Command line

const USAGE = `Usage: npm start [-- --port N] [--keep-flows] [--simulate [--devices N] [--rate R]]

Starts the SageMaker Runtime emulator and Node-RED (http://127.0.0.1:1880) with every example
flow deployed. Options:
  --port N        Node-RED port (also PORT=N npm start); default 1880
  --keep-flows    keep .demo/flows.json instead of redeploying the examples
  --user-dir DIR  Node-RED userDir (default .demo/)
  --simulate      publish device readings to the demo's MQTT broker (sensors/<device>/reading)
  --devices N     simulated devices (default 10); --rate R readings per second in total (default 10)
  --help          this text`;

function parsePort(value, from) {
  const n = Number(value);
  if (!/^\d+$/.test(String(value).trim()) || n > 65535) throw new DemoError(`${from} must be a port number 0-65535, got "${value}"`);
  return n;
}

function parseArgs(argv, env) {
  const out = {};
  if (env.PORT !== undefined && env.PORT !== '') out.port = parsePort(env.PORT, 'PORT');
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new DemoError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--port' || flag === '-p') out.port = parsePort(value(), '--port');
    else if (flag === '--user-dir') out.userDir = path.resolve(value());
    else if (flag === '--keep-flows') out.keepFlows = true;
    else if (flag === '--simulate') out.simulate = { ...out.simulate };
    else if (flag === '--devices' || flag === '--rate') {
      const n = Number(value());
      if (!(n > 0)) throw new DemoError(`${flag} must be a positive number`);
      out.simulate = { ...out.simulate, [flag.slice(2)]: flag === '--devices' ? Math.ceil(n) : n };
    } else if (flag === '--help' || flag === '-h') out.help = true;
    else throw new DemoError(`Unknown option ${a}\n\n${USAGE}`);
  }
  return out;
}

async function main() {
  let starting;
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) {
      console.error(`\n${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopping = true;
    console.log(`\n${signal}: stopping Node-RED and the emulator…`);
    const force = setTimeout(() => {
      console.error('Did not stop within 10 s; exiting');
      process.exit(1);
    }, 10000);
    force.unref();
    const demo = await starting?.catch(() => undefined);
    if (demo) await demo.close();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  try {
    const args = parseArgs(process.argv.slice(2), process.env);
    if (args.help) {
      console.log(USAGE);
      return;
    }
    const options = { ...args };
    delete options.help;
    starting = startDemo(options);
    await starting;
  } catch (err) {
    if (stopping) return;
    if (err instanceof DemoError) console.error(`npm start: ${err.message}`);
    else console.error('npm start failed:', err);
    process.exit(1);
  }
}

if (require.main === module) main();

module.exports = { startDemo, startNodeRed, buildFlows, readExamples, findExamplePackages, usableExamples, EXAMPLE_PACKAGES, DemoError };
