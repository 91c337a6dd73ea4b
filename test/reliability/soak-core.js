'use strict';
// The fault soak shared by test/reliability/soak.test.js (small) and bench/soak.js (full size):
// messages through sagemaker-invoke / sagemaker-stream against emulator endpoints with seeded,
// rate-based faults; every input must end in exactly one output or one Catch, by message id.
const { helper, load, sleep, until, tally, audit, KEYS } = require('./util');

/** ≈ 20 % of requests get a fault (rules are tried in order, each with its own draw). */
const INVOKE_FAULTS = [
  { kind: 'throttle', rate: 0.04 },
  { kind: 'internal', rate: 0.04 },
  { kind: 'unavailable', rate: 0.04 },
  { kind: 'model-error', rate: 0.04, originalStatusCode: 500, originalMessage: 'soak: injected model failure' },
  { kind: 'reset', rate: 0.03 },
  { kind: 'hang', rate: 0.02 },
];
/** ≈ 22 % of streams fail, most of them after some parts were sent. */
const STREAM_FAULTS = [
  { kind: 'stream-error', rate: 0.06, afterParts: 2 },
  { kind: 'stream-failure', rate: 0.06, afterParts: 4 },
  { kind: 'stream-reset', rate: 0.06, afterParts: 3 },
  { kind: 'model-error', rate: 0.03 },
  { kind: 'throttle', rate: 0.02 },
];

const TIMEOUT_S = 2;

const ENDPOINTS = {
  'soak-invoke': { model: 'echo', faults: INVOKE_FAULTS },
  'soak-stream': { model: 'text-generator', textGenerator: { tokens: 8 }, faults: STREAM_FAULTS },
};

function configNode(emu) {
  // timeout 2 s cuts the injected hangs; retries stay at the SDK default (3 attempts). Not
  // 0.5 s: the emulator shares this process's event loop, and on a loaded 2-core machine a
  // 0.5 s idle timer fires on healthy requests (measured: 36 % TimeoutError with no fault).
  return { id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url, timeout: String(TIMEOUT_S) };
}

/** Deploys `worker` on config c1, each output wired to its helper node in `outputs`, its errors to a Catch → `caught`. */
function loadSoak(emu, worker, outputs) {
  return load(
    [
      { id: 'tab', type: 'tab' },
      configNode(emu),
      { z: 'tab', config: 'c1', endpointNameType: 'str', wires: outputs.map((id) => [id]), ...worker },
      ...outputs.map((id) => ({ id, z: 'tab', type: 'helper' })),
      { id: 'catch', z: 'tab', type: 'catch', scope: [worker.id], uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
    ],
    { c1: KEYS },
  );
}

/** The errors the emulator served and the Catch node got, ModelError counted on both sides. */
function errorFigures(stats, caughtByName) {
  return {
    emulatorErrors: { ...stats.errors },
    caughtByName,
    modelErrorsServed: stats.errors.ModelError || 0,
    modelErrorsCaught: caughtByName.ModelError || 0,
  };
}

function countNames(msgs) {
  const out = {};
  for (const m of msgs) {
    const name = m.sagemaker?.error?.name ?? 'unknown';
    out[name] = (out[name] || 0) + 1;
  }
  return out;
}

/** n messages through sagemaker-invoke; resolves with the figures. */
async function invokeSoak(emu, { n, concurrency = 16 }) {
  await loadSoak(
    emu,
    {
      id: 'inv',
      type: 'sagemaker-invoke',
      endpointName: 'soak-invoke',
      concurrency: String(concurrency),
      queueSize: String(n),
    },
    ['out'],
  );
  emu.resetStats();
  const t = tally(['out', 'caught']);
  const caughtMsgs = [];
  let mismatched = 0;
  helper.getNode('caught').on('input', (m) => caughtMsgs.push(m));
  helper.getNode('out').on('input', (m) => {
    if (!m.payload || m.payload.i !== m.rid) mismatched++;
  });
  const ids = Array.from({ length: n }, (_, i) => i);
  const started = Date.now();
  const inv = helper.getNode('inv');
  for (const i of ids) inv.receive({ rid: i, payload: { i } });
  await until(() => t.total('out') + t.total('caught') >= n, `${n} invoke outcomes`, Math.max(30000, n * 20));
  const durationS = (Date.now() - started) / 1000;
  await sleep(300); // a duplicate would arrive in this window
  const stats = emu.stats();
  const caughtByName = countNames(caughtMsgs);
  const result = {
    messages: n,
    outputs: t.total('out'),
    catches: t.total('caught'),
    ...audit(ids, [t.by('out'), t.by('caught')]),
    mismatched,
    requests: stats.requests.InvokeEndpoint || 0,
    injected: Object.entries(stats.errors).reduce((a, [, v]) => a + v, 0),
    ...errorFigures(stats, caughtByName),
    durationS,
  };
  await helper.unload();
  return result;
}

/** n messages through sagemaker-stream, at most `window` streams open at once. */
async function streamSoak(emu, { n, window = 16 }) {
  await loadSoak(emu, { id: 's', type: 'sagemaker-stream', endpointName: 'soak-stream' }, ['parts', 'done']);
  emu.resetStats();
  const t = tally(['done', 'caught', 'parts']);
  const caughtMsgs = [];
  let partsBeforeFailure = 0;
  helper.getNode('caught').on('input', (m) => {
    caughtMsgs.push(m);
    partsBeforeFailure += m.sagemaker?.error?.partsReceived ?? 0;
  });
  const ids = Array.from({ length: n }, (_, i) => i);
  const started = Date.now();
  const s = helper.getNode('s');
  let sent = 0;
  const ended = () => t.total('done') + t.total('caught');
  while (sent < n) {
    while (sent < n && sent - ended() < window) {
      s.receive({ rid: sent, payload: `prompt ${sent}` });
      sent++;
    }
    await until(() => sent - ended() < window || sent === n, 'a free stream slot', 30000);
  }
  await until(() => ended() >= n, `${n} stream outcomes`, Math.max(30000, n * 30));
  const durationS = (Date.now() - started) / 1000;
  await sleep(300);
  const stats = emu.stats();
  const caughtByName = countNames(caughtMsgs);
  const result = {
    messages: n,
    completions: t.total('done'),
    catches: t.total('caught'),
    ...audit(ids, [t.by('done'), t.by('caught')]),
    partMessages: t.total('parts'),
    partsBeforeFailure,
    requests: stats.requests.InvokeEndpointWithResponseStream || 0,
    ...errorFigures(stats, caughtByName),
    durationS,
  };
  await helper.unload();
  return result;
}

function describe(label, r) {
  const names = Object.entries(r.caughtByName)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const ok = 'outputs' in r ? `${r.outputs} outputs` : `${r.completions} completions (${r.partMessages} part messages)`;
  return (
    `${label}: ${r.messages} messages → ${ok} + ${r.catches} catches [${names}]; ` +
    `lost ${r.lost}, duplicated ${r.duplicated}, unknown ${r.unknown}; ` +
    `${r.requests} requests served; ModelError served ${r.modelErrorsServed} = caught ${r.modelErrorsCaught}; ${r.durationS.toFixed(1)} s`
  );
}

module.exports = { ENDPOINTS, invokeSoak, streamSoak, describe };
