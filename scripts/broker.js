'use strict';
// The demo's MQTT broker: aedes on 127.0.0.1, any free port by default. Used by `npm start`
// (scripts/start.js) and the end-to-end tests.
const net = require('node:net');

/**
 * Starts an MQTT broker; resolves to `{ url, host, port, close() }` (`url` like
 * `mqtt://127.0.0.1:41883`).
 */
async function startBroker({ host = '127.0.0.1', port = 0 } = {}) {
  const { Aedes } = await import('aedes'); // aedes 1.x is an ES module
  const aedes = await Aedes.createBroker();
  const server = net.createServer(aedes.handle);
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actual = server.address().port;
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  let closing;
  const close = () => {
    closing ??= (async () => {
      const closed = new Promise((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
      await new Promise((resolve) => aedes.close(() => resolve()));
    })();
    return closing;
  };
  return { url: `mqtt://${host}:${actual}`, host, port: actual, close };
}

/** The environment variables the IoT example's mqtt-broker config node reads. */
function brokerEnv(broker) {
  return { MQTT_BROKER_URL: broker.url, MQTT_BROKER_HOST: broker.host, MQTT_BROKER_PORT: String(broker.port) };
}

module.exports = { startBroker, brokerEnv };
