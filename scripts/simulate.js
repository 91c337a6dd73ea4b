#!/usr/bin/env node
'use strict';
// Device simulator for the IoT gateway demo: N devices publish vibration readings to
// `sensors/<device>/reading` over MQTT at a chosen total rate, now and then with an anomaly.
// `npm run simulate -- --devices 10 --rate 20` (broker from --url or ${MQTT_BROKER_URL}); also
// started by `npm start -- --simulate`.
//
// A reading is JSON: { device, seq, ts, samples } where `samples` are the device's last 16
// vibration samples (mm/s); an anomalous reading ends with a spike.

const SAMPLES = 16;

/** The reading of `device` number `seq`; deterministic for a given (device, seq, anomaly). */
function reading(device, seq, anomaly) {
  const samples = [];
  for (let k = 0; k < SAMPLES; k++) {
    // a calm, device-specific wobble around 2 mm/s
    const phase = (seq + k) * 0.7 + device.length * 0.3 + device.charCodeAt(device.length - 1);
    samples.push(Math.round((2 + 0.05 * Math.sin(phase)) * 1000) / 1000);
  }
  if (anomaly) samples[SAMPLES - 1] = 9.5;
  return { device, seq, ts: new Date().toISOString(), samples };
}

function deviceName(i) {
  return `dev-${String(i + 1).padStart(2, '0')}`;
}

/**
 * Publishes readings: `devices` devices, `rate` readings per second in total, each an anomaly
 * with probability `anomalyRate`; `count` readings then stop (0 = until stop()).
 * Resolves to `{ stop(), published() }` once connected.
 */
async function simulate({ url, devices = 10, rate = 10, anomalyRate = 0.02, count = 0, log = () => {} }) {
  const mqtt = require('mqtt');
  const client = await mqtt.connectAsync(url, { clientId: `sagemaker-demo-simulator-${process.pid}` });
  let sent = 0;
  let timer;
  const seq = new Array(devices).fill(0);
  const tick = () => {
    const d = sent % devices;
    const device = deviceName(d);
    const anomaly = Math.random() < anomalyRate;
    const r = reading(device, seq[d]++, anomaly);
    client.publish(`sensors/${device}/reading`, JSON.stringify(r), { qos: 1 });
    if (anomaly) log(`anomaly injected: ${device} #${r.seq}`);
    sent++;
    if (count && sent >= count) stop();
  };
  const stop = async () => {
    clearInterval(timer);
    await client.endAsync();
  };
  timer = setInterval(tick, Math.max(1, 1000 / rate));
  return { stop, published: () => sent };
}

function parseArgs(argv, env) {
  const o = { url: env.MQTT_BROKER_URL || 'mqtt://127.0.0.1:1883', devices: 10, rate: 10, anomalyRate: 0.02, count: 0 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
    const value = () => inline ?? argv[++i];
    const num = (name, min) => {
      const n = Number(value());
      if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number ≥ ${min}`);
      return n;
    };
    if (flag === '--url') o.url = value();
    else if (flag === '--devices') o.devices = Math.floor(num('--devices', 1));
    else if (flag === '--rate') o.rate = num('--rate', 0.1);
    else if (flag === '--anomalies') o.anomalyRate = num('--anomalies', 0);
    else if (flag === '--count') o.count = Math.floor(num('--count', 0));
    else if (flag === '--help' || flag === '-h') o.help = true;
    else throw new Error(`Unknown option ${argv[i]}`);
  }
  return o;
}

const USAGE = `Usage: npm run simulate -- [--url mqtt://127.0.0.1:1883] [--devices 10] [--rate 10] [--anomalies 0.02] [--count 0]

Publishes vibration readings from N devices to sensors/<device>/reading (JSON), --rate readings
per second in total, each an anomaly with probability --anomalies; --count N stops after N.
The broker defaults to \${MQTT_BROKER_URL} (printed by npm start).`;

if (require.main === module) {
  let o;
  try {
    o = parseArgs(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`simulate: ${err.message}\n\n${USAGE}`);
    process.exit(1);
  }
  if (o.help) {
    console.log(USAGE);
    process.exit(0);
  }
  simulate({ ...o, log: (m) => console.log(m) }).then(
    (sim) => {
      console.log(`Publishing ${o.rate}/s from ${o.devices} devices to ${o.url} (sensors/<device>/reading). Ctrl-C to stop.`);
      process.on('SIGINT', () => sim.stop().then(() => process.exit(0)));
    },
    (err) => {
      console.error(`simulate: cannot connect to ${o.url}: ${err.message}`);
      process.exit(1);
    },
  );
}

module.exports = { simulate, reading, deviceName, SAMPLES };
