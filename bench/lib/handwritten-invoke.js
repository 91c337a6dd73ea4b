'use strict';
// The fair peer of sagemaker-invoke: the Node-RED node a user would write by hand to call the same
// SDK client (the config node's), with no validation, queue, header mapping or status. The
// benchmarks compare the package's node with this one inside the same Node-RED runtime.
const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');

module.exports = function (RED) {
  function HandwrittenInvoke(n) {
    RED.nodes.createNode(this, n);
    const config = RED.nodes.getNode(n.config);
    this.on('input', async (msg, send, done) => {
      try {
        const out = await config
          .runtimeClient()
          .send(
            new InvokeEndpointCommand({ EndpointName: n.endpointName, ContentType: 'application/json', Body: JSON.stringify(msg.payload) }),
          );
        msg.payload = JSON.parse(Buffer.from(out.Body).toString('utf8'));
        send(msg);
        done();
      } catch (err) {
        done(err);
      }
    });
  }
  RED.nodes.registerType('handwritten-invoke', HandwrittenInvoke);
};
