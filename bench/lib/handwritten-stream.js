'use strict';
// The fair peer of sagemaker-stream: the Node-RED node a user would write by hand around the same
// SDK client (the config node's): one message per PayloadPart on output 1 (the part as a
// string), one completion message with the whole text on output 2. No validation, splitting
// across parts, status, idle timeout or abort on close.
const { InvokeEndpointWithResponseStreamCommand } = require('@aws-sdk/client-sagemaker-runtime');

module.exports = function (RED) {
  function HandwrittenStream(n) {
    RED.nodes.createNode(this, n);
    const config = RED.nodes.getNode(n.config);
    this.on('input', async (msg, send, done) => {
      try {
        const out = await config.runtimeClient().send(
          new InvokeEndpointWithResponseStreamCommand({
            EndpointName: n.endpointName,
            Body: String(msg.payload),
            CustomAttributes: msg.headers && msg.headers['x-amzn-sagemaker-custom-attributes'],
          }),
        );
        const text = [];
        for await (const event of out.Body) {
          if (!event.PayloadPart) continue;
          const piece = Buffer.from(event.PayloadPart.Bytes).toString('utf8');
          text.push(piece);
          send([{ ...msg, payload: piece }, null]);
        }
        msg.payload = text.join('');
        send([null, msg]);
        done();
      } catch (err) {
        done(err);
      }
    });
  }
  RED.nodes.registerType('handwritten-stream', HandwrittenStream);
};
