'use strict';
// The IoT gateway demo end to end: `npm start`'s MQTT broker, emulator and Node-RED with the
// "IoT gateway: MQTT readings scored in batches" example (in a child process), driven by a real
// MQTT client: 1,000 readings from 10 devices → exactly 1,000 scores, each on its device's topic
// with its own reading's result, and the injected anomalies on alerts/….
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const mqtt = require('mqtt');
const { startDemoProcess } = require('./harness');
const { reading, deviceName } = require('../../scripts/simulate');
const { until } = require('../helper');

const DEVICES = 10;
const PER_DEVICE = 100;
const isAnomaly = (d, seq) => (d * 7 + seq) % 43 === 0;

/** The model's answer for one reading, computed here: the largest |z| of its samples, rounded as the emulator does. */
function expectedMaxScore(samples) {
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length);
  return Math.max(...samples.map((x) => Math.abs(sd === 0 ? 0 : Math.round(((x - mean) / sd) * 1e6) / 1e6)));
}

describe('IoT gateway demo: MQTT readings scored in batches', function () {
  this.timeout(120000);
  let demo;
  let client;
  let userDir;
  const got = { scores: [], alerts: [], errors: [] };

  before(async function () {
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-iot-'));
    demo = await startDemoProcess({ port: 0, emulatorPort: 0, userDir, quiet: true });
    client = await mqtt.connectAsync(demo.mqttUrl, { clientId: 'iot-gateway-test' });
    client.on('message', (topic, payload) => {
      const kind = topic.split('/')[0];
      if (got[kind]) got[kind].push({ topic, value: JSON.parse(payload.toString()) });
    });
    await client.subscribeAsync(['scores/#', 'alerts/#', 'errors/#'], { qos: 1 });
  });

  after(async function () {
    if (client) await client.endAsync();
    if (demo) await demo.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  // The flow subscribes once its broker connection is up: a probe reading answered on
  // scores/probe-… shows the whole path works; it also serves as a barrier at the end.
  async function probe(name) {
    const has = () => got.scores.some((s) => s.topic === `scores/${name}`);
    let seq = 0;
    while (!has()) {
      await client.publishAsync(`sensors/${name}/reading`, JSON.stringify(reading(name, seq++, false)), { qos: 1 });
      await until(has, `a score for ${name}`, 500).catch(() => {});
    }
  }

  it('1,000 readings from 10 devices give exactly 1,000 scores on their own device topics, with their own results; the anomalies on alerts/, a bad reading on errors/', async function () {
    await probe('probe-start');
    const sent = [];
    for (let seq = 0; seq < PER_DEVICE; seq++) {
      for (let d = 0; d < DEVICES; d++) {
        const r = reading(deviceName(d), seq, isAnomaly(d, seq));
        sent.push(r);
        client.publish(`sensors/${r.device}/reading`, JSON.stringify(r), { qos: 1 });
      }
    }
    // A reading the model cannot take (no samples) goes to the Catch path, on its own device's errors/ topic.
    client.publish('sensors/dev-bad/reading', JSON.stringify({ device: 'dev-bad', seq: 0 }), { qos: 1 });
    const ours = () => got.scores.filter((s) => !s.topic.startsWith('scores/probe'));
    const anomalies = sent.filter((r) => isAnomaly(Number(r.device.slice(4)) - 1, r.seq));
    await until(
      () => ours().length >= sent.length && got.alerts.length >= anomalies.length && got.errors.length >= 1,
      '1,000 scores, every alert and the error',
      60000,
    );
    await probe('probe-end');

    const scores = ours();
    assert.strictEqual(scores.length, 1000);
    assert.deepStrictEqual(
      got.errors.map((e) => [e.topic, e.value.seq, e.value.error.name]),
      [['errors/dev-bad', 0, 'InputError']],
    );
    const byKey = new Map();
    for (const s of scores) {
      const key = `${s.value.device}#${s.value.seq}`;
      assert.ok(!byKey.has(key), `two scores for ${key}`);
      assert.strictEqual(s.topic, `scores/${s.value.device}`);
      byKey.set(key, s.value);
    }
    for (const r of sent) {
      const s = byKey.get(`${r.device}#${r.seq}`);
      assert.ok(s, `no score for ${r.device} #${r.seq}`);
      assert.strictEqual(s.ts, r.ts);
      assert.strictEqual(s.maxScore, expectedMaxScore(r.samples), `${r.device} #${r.seq}`);
      assert.strictEqual(s.anomaly, isAnomaly(Number(r.device.slice(4)) - 1, r.seq), `${r.device} #${r.seq}`);
    }
    assert.deepStrictEqual(
      got.alerts.map((a) => `${a.topic} ${a.value.seq}`).sort(),
      anomalies.map((r) => `alerts/${r.device} ${r.seq}`).sort(),
    );
    // The readings were scored in batches, not one request each.
    const sizes = scores.map((s) => s.value.batch.size);
    assert.ok(Math.max(...sizes) > 1, `largest batch ${Math.max(...sizes)}`);
    assert.ok(sizes.every((n) => n <= 50));
  });
});
