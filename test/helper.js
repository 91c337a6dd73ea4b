'use strict';
// Shared test setup: node-red-node-test-helper on the Node-RED named by NODE_RED_PACKAGE
// (default `node-red`, 4.x; `node-red-5` for the second run in scripts/test.js).
const helper = require('node-red-node-test-helper');

const nodeRedPackage = process.env.NODE_RED_PACKAGE || 'node-red';
helper.init(require.resolve(nodeRedPackage));

module.exports = { helper, nodeRedPackage };
