'use strict';
// Redeploys while invokes, streams and async jobs are in flight, shared by
// test/reliability/redeploy.test.js (20 redeploys) and bench/soak.js (100, with the heap check).
// Each worker node's `done` is counted by a Complete node (done() without error) and a Catch node
// (done(err)) scoped to the three workers; both stay deployed across "modified nodes" deploys
// that restart only the workers, so each accepted message must reach exactly one of them.
const { helper, asyncNode, onTab, slowAsyncNode, sleep, until, tally, audit, resources, KEYS } = require('./util');
const { emulatorConfig } = require('../support/emulator');

const ENDPOINTS = {
  'slow-echo': { model: 'echo', latencyMs: 150 },
  'slow-gen': { model: 'text-generator', textGenerator: { tokens: 40, delayMs: 15 } },
  'slow-async': { model: 'echo', async: { delayMs: 300, jitterMs: 200 } },
};

function flow(emu, round) {
  const workers = ['inv', 'str', ...(asyncNode ? ['asy'] : [])];
  return onTab([
    emulatorConfig(emu),
    // `name` changes every round: a "modified nodes" deploy restarts exactly these three.
    {
      id: 'inv',
      name: `invoke ${round}`,
      type: 'sagemaker-invoke',
      config: 'c1',
      endpointName: 'slow-echo',
      endpointNameType: 'str',
      wires: [['out']],
    },
    {
      id: 'str',
      name: `stream ${round}`,
      type: 'sagemaker-stream',
      config: 'c1',
      endpointName: 'slow-gen',
      endpointNameType: 'str',
      wires: [['parts'], ['sdone']],
    },
    ...(asyncNode ? [slowAsyncNode(`async ${round}`)] : []),
    { id: 'out', type: 'helper' },
    { id: 'parts', type: 'helper' },
    { id: 'sdone', type: 'helper' },
    { id: 'accepted', type: 'helper' },
    { id: 'result', type: 'helper' },
    { id: 'complete', type: 'complete', scope: workers, uncaught: false, wires: [['completed']] },
    { id: 'catch', type: 'catch', scope: workers, uncaught: false, wires: [['caught']] },
    { id: 'completed', type: 'helper' },
    { id: 'caught', type: 'helper' },
  ]);
}

/**
 * `rounds` redeploys, each while `perRound` messages per worker are in flight. `random` drives
 * how long each round waits before redeploying (seeded by the caller).
 */
async function redeploySoak(
  emu,
  { rounds, perRound = { invoke: 4, stream: 2, async: 2 }, random = Math.random, onRound, waitResultsMs = 3000 },
) {
  const { NODES } = require('./util');
  await helper.unload(); // the helper cannot load over a loaded flow
  await new Promise((resolve, reject) => helper.load(NODES, flow(emu, 0), { c1: KEYS }, (e) => (e ? reject(e) : resolve())));
  const t = tally(['completed', 'caught', 'out', 'sdone', 'accepted', 'result']);
  const ids = [];
  let rid = 0;
  const started = Date.now();
  for (let round = 1; round <= rounds; round++) {
    const send = (id, n) => {
      for (let i = 0; i < n; i++) {
        ids.push(rid);
        helper.getNode(id).receive({ rid: rid++, payload: { round, i } });
      }
    };
    send('inv', perRound.invoke);
    send('str', perRound.stream);
    if (asyncNode) send('asy', perRound.async);
    // Redeploy at a random point: some messages in flight, some streams half-way, jobs pending.
    await sleep(Math.floor(random() * 250));
    await helper.setFlows(flow(emu, round), 'nodes', { c1: KEYS });
    if (onRound) onRound(round);
  }
  // Every accepted message's done() is called once: by its outcome, or at the close that cut it.
  await until(() => t.total('completed') + t.total('caught') >= ids.length, `${ids.length} done() calls`, 30000);
  await sleep(300);
  const counts = audit(ids, [t.by('completed'), t.by('caught')]);
  // Pending async jobs survive the redeploys: each accepted one delivers one result (or error).
  const acceptedIds = [...t.by('accepted').keys()];
  await until(() => t.total('result') >= acceptedIds.length, `${acceptedIds.length} async results`, waitResultsMs).catch(() => {});
  await sleep(300);
  const asyncCounts = audit(acceptedIds, [t.by('result')]);
  return {
    rounds,
    messages: ids.length,
    completed: t.total('completed'),
    caught: t.total('caught'),
    ...counts,
    asyncLost: asyncCounts.lost,
    asyncDuplicated: asyncCounts.duplicated,
    outputs: {
      invoke: t.total('out'),
      streamCompletions: t.total('sdone'),
      asyncAccepted: t.total('accepted'),
      asyncResults: t.total('result'),
    },
    durationS: (Date.now() - started) / 1000,
  };
}

/** Unloads the flow and waits until the active Timeout / TCPSocketWrap counts are back at `baseline` (or `ms` pass). */
async function settleResources(baseline, ms = 5000, timerSlack = 1) {
  await helper.unload();
  const end = Date.now() + ms;
  let now = resources();
  while (Date.now() < end) {
    now = resources();
    if ((now.Timeout || 0) <= (baseline.Timeout || 0) + timerSlack && (now.TCPSocketWrap || 0) <= (baseline.TCPSocketWrap || 0)) break;
    await sleep(50);
  }
  return now;
}

function describe(r) {
  return (
    `${r.rounds} redeploys, ${r.messages} messages in flight → done() ${r.completed} without error + ${r.caught} with error; ` +
    `lost ${r.lost}, duplicated ${r.duplicated}, unknown ${r.unknown}; outputs ${JSON.stringify(r.outputs)}; ` +
    `accepted async jobs without a result ${r.asyncLost}, with two ${r.asyncDuplicated}; ${r.durationS.toFixed(1)} s`
  );
}

module.exports = { ENDPOINTS, redeploySoak, settleResources, describe };
