'use strict';
// What the secrets and admin-route tests give the Node-RED they start as a child process: users
// for adminAuth, and the nodes of the flows they deploy through the admin API.
const path = require('node:path');
const { nodeRedPackage } = require('../helper');

// Node-RED's own bcryptjs, so the hash format is the one its adminAuth checks.
const editorApi = require.resolve('@node-red/editor-api', { paths: [path.dirname(require.resolve(nodeRedPackage))] });
const bcrypt = require(require.resolve('bcryptjs', { paths: [path.dirname(editorApi)] }));

/** adminAuth with two users who log in with `password`: `admin` (every permission) and `reader` (permission `read`). */
function adminAuth(password, reader) {
  const hash = bcrypt.hashSync(password, 8);
  return {
    type: 'credentials',
    users: [
      { username: 'admin', password: hash, permissions: '*' },
      { username: reader, password: hash, permissions: 'read' },
    ],
  };
}

/** Inject node `id` on tab `sec` that sends `payload` (as JSON) to `target` once, `delay` s after the deploy. */
function injectOnce(id, target, { y, payload, delay }) {
  return {
    id,
    type: 'inject',
    z: 'sec',
    x: 100,
    y,
    once: true,
    onceDelay: delay,
    repeat: '',
    topic: '',
    payload: JSON.stringify(payload),
    payloadType: 'json',
    props: [{ p: 'payload' }],
    wires: [[target]],
  };
}

/**
 * Status and Catch nodes for the whole of tab `sec`, wired to debug node `dbg`, which writes what
 * it gets (and the outputs wired to it) to the log: every status, output and error ends up there.
 */
function logEverything({ statusY, catchY, debugX, debugY }) {
  return [
    { id: 'status', type: 'status', z: 'sec', x: 100, y: statusY, scope: null, wires: [['dbg']] },
    { id: 'catch', type: 'catch', z: 'sec', x: 100, y: catchY, scope: null, uncaught: false, wires: [['dbg']] },
    {
      id: 'dbg',
      type: 'debug',
      z: 'sec',
      x: debugX,
      y: debugY,
      active: true,
      tosidebar: true,
      console: true,
      tostatus: true,
      complete: 'true',
      targetType: 'full',
    },
  ];
}

module.exports = { adminAuth, injectOnce, logEverything };
