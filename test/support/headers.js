'use strict';

/** The InvokeEndpoint request fields a node takes from msg.headers, by setting name: their header names. */
const HEADER_OF = {
  contentType: 'Content-Type',
  accept: 'Accept',
  customAttributes: 'X-Amzn-SageMaker-Custom-Attributes',
  targetModel: 'X-Amzn-SageMaker-Target-Model',
  targetVariant: 'X-Amzn-SageMaker-Target-Variant',
  targetContainerHostname: 'X-Amzn-SageMaker-Target-Container-Hostname',
  inferenceId: 'X-Amzn-SageMaker-Inference-Id',
  enableExplanations: 'X-Amzn-SageMaker-Enable-Explanations',
  inferenceComponentName: 'X-Amzn-SageMaker-Inference-Component',
  sessionId: 'X-Amzn-SageMaker-Session-Id',
  prefixAwareId: 'X-Amzn-SageMaker-Prefix-Aware-Id',
};

module.exports = { HEADER_OF };
