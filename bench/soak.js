'use strict';
// Fault soak and redeploy soak at full size: 10,000 messages through sagemaker-invoke
// with ≈20 % injected faults, 1,000 through sagemaker-stream with mid-stream failures, and 100
// redeploys while invokes, streams and async jobs are in flight, with the heap measured after
// global.gc(). Runs in a child `node --expose-gc` (Node-RED is one runtime per process; the heap
// needs gc). npm test runs the same code at 1,000 / 200 / 20 (test/reliability/).
// Usage: npm run bench -- soak   (or: node bench/soak.js)
const { fork } = require('node:child_process');

const INVOKE_N = Number(process.env.SOAK_INVOKE || 10000);
const STREAM_N = Number(process.env.SOAK_STREAM || 1000);
const REDEPLOYS = Number(process.env.SOAK_REDEPLOYS || 100);
const WARMUP = Number(process.env.SOAK_WARMUP || 150);

async function child() {
  const { helper, startEmulator, resources } = require('../test/reliability/util');
  const soak = require('../test/reliability/soak-core');
  const redeploy = require('../test/reliability/redeploy-core');
  const out = {};
  await new Promise((r) => helper.startServer(r));

  let emu = await startEmulator({ port: 0, seed: 8, endpoints: soak.ENDPOINTS });
  out.invoke = await soak.invokeSoak(emu, { n: INVOKE_N });
  console.log(soak.describe('invoke soak', out.invoke));
  console.log(`emulator errors served: ${JSON.stringify(out.invoke.emulatorErrors)}`);
  out.stream = await soak.streamSoak(emu, { n: STREAM_N });
  console.log(soak.describe('stream soak', out.stream));
  await emu.close();
  await helper.unload();

  // Redeploys, against an emulator in its own process so the heap and the handles measured
  // are Node-RED's and the nodes' alone. Heap after gc with the flows stopped: after a
  // 150-redeploy warm-up, then after REDEPLOYS more. The warm-up matters: the heap grows by
  // ≈10–12 MB over the first 60–150 redeploys (lazily loaded SDK and Node-RED modules, JIT code,
  // caches) and then stays flat — measured 30.2 → 42.7 → 41.9 → 42.5 MB at 5 / 65 / 125 / 185
  // redeploys, and 40.1 → 50.0 → 50.1 MB at 50 / 150 / 250: bounded, not a per-redeploy leak.
  const remote = await remoteEmulator(redeploy.ENDPOINTS);
  const before = resources();
  const heap = () => {
    global.gc();
    global.gc();
    return process.memoryUsage().heapUsed;
  };
  let seed = 100;
  const random = () => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  await redeploy.redeploySoak(remote, { rounds: WARMUP, random, waitResultsMs: 5000 });
  await helper.unload();
  out.heapStart = heap();
  out.redeploy = await redeploy.redeploySoak(remote, { rounds: REDEPLOYS, random, waitResultsMs: 5000 });
  // With the emulator still running: every client socket and timer of the nodes must be gone.
  out.resourcesBefore = before;
  out.resourcesAfter = await redeploy.settleResources(before);
  out.heapEnd = heap();
  remote.close();
  console.log(redeploy.describe(out.redeploy));
  console.log(
    `heap after gc (flows stopped, emulator in another process): ${(out.heapStart / 1048576).toFixed(1)} MB after a ${WARMUP}-redeploy warm-up → ${(out.heapEnd / 1048576).toFixed(1)} MB after ${REDEPLOYS} more ` +
      `(${(((out.heapEnd - out.heapStart) / out.heapStart) * 100).toFixed(1)} %); active resources before the redeploys ${JSON.stringify(out.resourcesBefore)}, after the flows stopped ${JSON.stringify(out.resourcesAfter)}`,
  );
  process.send(out);
  await new Promise((r) => helper.stopServer(r));
}

/** The emulator in a child process: `{ url, s3Url, close() }`. */
function remoteEmulator(endpoints) {
  return new Promise((resolve, reject) => {
    const p = fork(__filename, ['--emulator', JSON.stringify(endpoints)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    p.once('message', (m) => resolve({ url: m.url, s3Url: m.s3Url, close: () => p.disconnect() }));
    p.once('exit', (code) => reject(new Error(`emulator child exited with ${code}`)));
  });
}

function runChild() {
  return new Promise((resolve, reject) => {
    const p = fork(__filename, ['--child'], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
    let result;
    let stderr = '';
    p.stderr.on('data', (d) => (stderr += d));
    p.on('message', (m) => (result = m));
    p.on('exit', (code) => (result ? resolve(result) : reject(new Error(`soak child exited with ${code}: ${stderr.slice(-2000)}`))));
  });
}

module.exports = async function soakBench() {
  const r = await runChild();
  const inv = r.invoke;
  const str = r.stream;
  const rd = r.redeploy;
  return [
    {
      name: `invoke soak: messages ending in exactly one output or Catch (of ${inv.messages}, ${inv.catches} caught)`,
      value: inv.messages - inv.lost - inv.duplicated,
      reference: inv.messages,
      unit: 'messages',
      target: 1,
      better: 'higher',
      extra: `lost ${inv.lost}, duplicated ${inv.duplicated}, ${inv.requests} requests, ${inv.durationS.toFixed(1)} s`,
    },
    // A retried ModelError would be served twice for one Catch: the ratio would drop below 1.
    {
      name: 'invoke soak: ModelError catches ÷ ModelErrors served (1 = never retried)',
      value: inv.modelErrorsCaught,
      reference: inv.modelErrorsServed,
      unit: 'errors',
      target: 1,
      better: 'higher',
    },
    {
      name: `stream soak: streams ending in exactly one completion or Catch (of ${str.messages}, ${str.catches} caught)`,
      value: str.messages - str.lost - str.duplicated,
      reference: str.messages,
      unit: 'streams',
      target: 1,
      better: 'higher',
      extra: `lost ${str.lost}, duplicated ${str.duplicated}, caught ${JSON.stringify(str.caughtByName)}`,
    },
    {
      name: `redeploys: messages whose done() was called exactly once (${rd.rounds} redeploys)`,
      value: rd.messages - rd.lost - rd.duplicated,
      reference: rd.messages,
      unit: 'messages',
      target: 1,
      better: 'higher',
      extra: `lost ${rd.lost}, duplicated ${rd.duplicated}`,
    },
    {
      name: `redeploys: heap after gc, after ${rd.rounds} redeploys ÷ after a ${WARMUP}-redeploy warm-up`,
      value: r.heapEnd / 1048576,
      reference: r.heapStart / 1048576,
      unit: 'MB',
      target: 1.1,
      better: 'lower',
    },
    {
      name: 'redeploys: sockets left after the flows stopped (TCPSocketWrap, emulator still running)',
      value: r.resourcesAfter.TCPSocketWrap || 0,
      reference: Math.max(1, r.resourcesBefore.TCPSocketWrap || 0),
      ratio: (r.resourcesAfter.TCPSocketWrap || 0) - (r.resourcesBefore.TCPSocketWrap || 0),
      unit: 'sockets',
      target: 0,
      better: 'lower',
      extra: 'ratio = sockets after − before',
    },
  ];
};

if (require.main === module) {
  if (process.argv.includes('--emulator')) {
    const { startEmulator } = require('../dist/emulator');
    const endpoints = JSON.parse(process.argv[process.argv.indexOf('--emulator') + 1]);
    startEmulator({ port: 0, seed: 2, endpoints }).then((emu) => {
      process.send({ url: emu.url, s3Url: emu.s3Url });
      process.on('disconnect', () => emu.close().then(() => process.exit(0)));
    });
  } else if (process.argv.includes('--child')) {
    child().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  } else {
    module.exports().then((figures) => {
      for (const f of figures) console.log(`${f.name}: ${f.value} / ${f.reference} ${f.unit}${f.extra ? ` (${f.extra})` : ''}`);
    });
  }
}
