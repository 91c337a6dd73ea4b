'use strict';
// Fault soak (npm test size): 1,000 messages through sagemaker-invoke with ≈20 %
// injected faults (throttling, 500, 503, ModelError, resets, hangs cut by a 2 s timeout) and
// 200 through sagemaker-stream with mid-stream failures. Every input ends in exactly one output
// or one Catch, counted by message id; a ModelError is never retried. bench/soak.js runs the
// full size (10,000 + 1,000).
const assert = require('node:assert/strict');
const { useNodeRed } = require('../helper');
const { useEmulator } = require('../support/emulator');
const { ENDPOINTS, invokeSoak, streamSoak, describe: describeRun } = require('./soak-core');

describe('reliability: fault soak', function () {
  this.timeout(60000);
  let emu;
  useEmulator({ seed: 8, endpoints: ENDPOINTS }, (e) => (emu = e));
  useNodeRed();

  it('1,000 invoke messages with ≈20 % faults: each ends in exactly one output or one Catch, none lost or duplicated, ModelError never retried', async function () {
    const r = await invokeSoak(emu, { n: 1000 });
    console.log(`      ${describeRun('invoke soak', r)}`);
    console.log(`      emulator errors served: ${JSON.stringify(r.emulatorErrors)}`);
    assert.equal(r.lost, 0, 'lost');
    assert.equal(r.duplicated, 0, 'duplicated');
    assert.equal(r.unknown, 0);
    assert.equal(r.outputs + r.catches, 1000);
    assert.equal(r.mismatched, 0, 'an output carried another message’s response');
    // Faults really happened, of every kind the endpoint injects.
    for (const name of ['ThrottlingException', 'InternalFailure', 'ServiceUnavailable', 'ModelError']) {
      assert.ok(r.emulatorErrors[name] > 0, `no ${name} served`);
    }
    assert.ok(r.requests > 1000, 'faulted requests were retried');
    // Every ModelError the emulator sent ended one message: the SDK did not retry it.
    assert.ok(r.modelErrorsServed > 0);
    assert.equal(r.modelErrorsCaught, r.modelErrorsServed);
  });

  it('200 streams with mid-stream ModelStreamError / InternalStreamFailure / resets: each ends in exactly one completion or one Catch', async function () {
    const r = await streamSoak(emu, { n: 200 });
    console.log(`      ${describeRun('stream soak', r)}`);
    assert.equal(r.lost, 0, 'lost');
    assert.equal(r.duplicated, 0, 'duplicated');
    assert.equal(r.unknown, 0);
    assert.equal(r.completions + r.catches, 200);
    for (const name of ['ModelStreamError', 'InternalStreamFailure']) assert.ok(r.caughtByName[name] > 0, `no ${name} caught`);
    assert.ok(r.partsBeforeFailure > 0, 'failures happened mid-stream, after parts were sent');
    assert.equal(r.modelErrorsCaught, r.modelErrorsServed);
  });
});
