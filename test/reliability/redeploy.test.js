'use strict';
// Redeploy and restart (npm test size): 20 "modified nodes" redeploys while
// invokes, streams and async jobs are in flight. Every message's done() is called exactly once
// (counted by Complete and Catch nodes, by message id), and after the flows stop no timer or
// socket is left behind (process.getActiveResourcesInfo() back at its count before the flows).
// The heap check (needs --expose-gc) is in bench/soak.js, with 100 redeploys.
const assert = require('node:assert/strict');
const { helper, startEmulator, resources, sleep } = require('./util');
const { ENDPOINTS, redeploySoak, settleResources, describe: describeRun } = require('./redeploy-core');

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Server-side sockets still open on a local port (keep-alive connections from a client). */
function serverSockets(port) {
  return process._getActiveHandles().filter((h) => h.constructor.name === 'Socket' && h.localPort === port).length;
}

describe('reliability: redeploy while work is in flight', function () {
  this.timeout(60000);
  let emu;

  before(function (done) {
    helper.startServer(done);
  });
  after(async function () {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    if (emu) await emu.close();
  });

  it('20 redeploys with invokes, streams and async jobs in flight: every done() called exactly once, no timer or socket left behind', async function () {
    const fmt = (o) => `Timeout ${o.Timeout || 0}, TCPSocketWrap ${o.TCPSocketWrap || 0}, TCPServerWrap ${o.TCPServerWrap || 0}`;
    const baseline = resources(); // before the emulator: its own servers and sockets end with it
    emu = await startEmulator({ port: 0, seed: 2, endpoints: ENDPOINTS });
    const r = await redeploySoak(emu, { rounds: 20, random: rng(20) });
    console.log(`      ${describeRun(r)}`);
    assert.equal(r.lost, 0, 'a message never had done() called');
    assert.equal(r.duplicated, 0, 'done() called twice');
    assert.equal(r.unknown, 0);
    assert.equal(r.completed + r.caught, r.messages);
    // Results of async jobs that a redeploy interrupted: never twice. (That each arrives at all
    // is pinned by async-redeploy.test.js.)
    assert.equal(r.asyncDuplicated, 0, 'an async result was delivered twice');

    // The flows stop: the config node destroys its clients, so no connection to the SageMaker
    // port is left open (checked while the emulator still runs, so a leak cannot hide).
    await helper.unload();
    const port = Number(new URL(emu.url).port);
    const end = Date.now() + 5000;
    while (serverSockets(port) > 0 && Date.now() < end) await sleep(50);
    const open = serverSockets(port);
    assert.equal(emu.stats().inFlight, 0);
    await emu.close();
    emu = undefined;
    const after = await settleResources(baseline);
    console.log(
      `      active resources before the emulator and flows: ${fmt(baseline)}; after stopping both: ${fmt(after)}; connections left to the SageMaker port after the flows stopped: ${open}`,
    );
    assert.equal(open, 0, 'a client connection to the emulator survived the flows');
    // ±1 Timeout: Node-RED's own housekeeping timer comes and goes (seen with no flow at all).
    assert.ok((after.Timeout || 0) <= (baseline.Timeout || 0) + 1, `timers left: ${fmt(after)} vs ${fmt(baseline)}`);
    assert.ok((after.TCPSocketWrap || 0) <= (baseline.TCPSocketWrap || 0), `sockets left: ${fmt(after)} vs ${fmt(baseline)}`);
    assert.equal(after.TCPServerWrap || 0, baseline.TCPServerWrap || 0);
  });
});
