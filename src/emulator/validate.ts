/**
 * Input constraints the service enforces (SageMaker Runtime API Reference, each operation's
 * "Request Syntax" constraints): the SDK checks nothing client-side,
 * so the emulator answers ValidationError in the service's words.
 */
import { validation } from './errors';
import type { InvocationContext } from './types';

type Operation = InvocationContext['operation'];

export const NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
const COMPONENT_PATTERN = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
const PRINTABLE_FIRST_NOT_SPACE = /^\S[\x20-\x7e\x80-\xff]*$/;
const ASCII = /^[\x00-\x7f]*$/;

export const MAX_BODY_BYTES = 6 * 1024 * 1024;
export const MAX_ASYNC_BODY_BYTES = 128_000;

function fail(value: string, member: string, constraint: string): never {
  const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  throw validation(`1 validation error detected: Value '${shown}' at '${member}' failed to satisfy constraint: ${constraint}`);
}

function maxLen(value: string, member: string, max: number, min = 0): void {
  if (value.length > max) fail(value, member, `Member must have length less than or equal to ${max}`);
  if (value.length < min) fail(value, member, `Member must have length greater than or equal to ${min}`);
}

function pattern(value: string, member: string, re: RegExp): void {
  if (!re.test(value)) fail(value, member, `Member must satisfy regular expression pattern: ${re.source}`);
}

export function validateEndpointName(name: string): void {
  maxLen(name, 'endpointName', 63);
  pattern(name, 'endpointName', NAME_PATTERN);
}

interface Rule {
  header: string;
  member: string;
  min?: number;
  max: number;
  re?: RegExp;
  ops?: Operation[];
}

const SYNC: Operation[] = ['InvokeEndpoint', 'InvokeEndpointWithResponseStream'];
const RULES: Rule[] = [
  { header: 'content-type', member: 'contentType', max: 1024, re: ASCII, ops: SYNC },
  { header: 'accept', member: 'accept', max: 1024, re: ASCII, ops: ['InvokeEndpoint'] },
  {
    header: 'x-amzn-sagemaker-accept',
    member: 'accept',
    max: 1024,
    re: ASCII,
    ops: ['InvokeEndpointWithResponseStream', 'InvokeEndpointAsync'],
  },
  { header: 'x-amzn-sagemaker-content-type', member: 'contentType', max: 1024, re: ASCII, ops: ['InvokeEndpointAsync'] },
  { header: 'x-amzn-sagemaker-custom-attributes', member: 'customAttributes', max: 1024, re: ASCII },
  {
    header: 'x-amzn-sagemaker-target-model',
    member: 'targetModel',
    min: 1,
    max: 1024,
    re: PRINTABLE_FIRST_NOT_SPACE,
    ops: ['InvokeEndpoint'],
  },
  { header: 'x-amzn-sagemaker-target-variant', member: 'targetVariant', max: 63, re: NAME_PATTERN, ops: SYNC },
  { header: 'x-amzn-sagemaker-target-container-hostname', member: 'targetContainerHostname', max: 63, re: NAME_PATTERN, ops: SYNC },
  { header: 'x-amzn-sagemaker-inference-id', member: 'inferenceId', min: 1, max: 64, re: PRINTABLE_FIRST_NOT_SPACE },
  { header: 'x-amzn-sagemaker-enable-explanations', member: 'enableExplanations', min: 1, max: 64, ops: ['InvokeEndpoint'] },
  { header: 'x-amzn-sagemaker-inference-component', member: 'inferenceComponentName', max: 63, re: COMPONENT_PATTERN, ops: SYNC },
  {
    header: 'x-amzn-sagemaker-session-id',
    member: 'sessionId',
    max: 256,
    re: /^(NEW_SESSION)$|^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/,
    ops: ['InvokeEndpoint'],
  },
  { header: 'x-amzn-sagemaker-session-id', member: 'sessionId', max: 256, re: NAME_PATTERN, ops: ['InvokeEndpointWithResponseStream'] },
  { header: 'x-amzn-sagemaker-prefix-aware-id', member: 'prefixAwareId', min: 1, max: 64, re: PRINTABLE_FIRST_NOT_SPACE, ops: SYNC },
  {
    header: 'x-amzn-sagemaker-inputlocation',
    member: 'inputLocation',
    min: 1,
    max: 1024,
    re: /^(https|s3):\/\/([^/]+)\/?(.*)$/,
    ops: ['InvokeEndpointAsync'],
  },
  {
    header: 'x-amzn-sagemaker-s3outputpathextension',
    member: 's3OutputPathExtension',
    min: 1,
    max: 512,
    re: /^(?!s3:|https:)[a-zA-Z0-9!_.*'()/-]+$/,
    ops: ['InvokeEndpointAsync'],
  },
  {
    header: 'x-amzn-sagemaker-filename',
    member: 'filename',
    min: 1,
    max: 32,
    re: /^(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9-_.]*$/,
    ops: ['InvokeEndpointAsync'],
  },
];

function intRange(headers: Record<string, string>, header: string, member: string, min: number, max: number): void {
  const v = headers[header];
  if (v === undefined) return;
  const n = Number(v);
  if (!/^-?\d+$/.test(v.trim())) fail(v, member, 'Member must be an integer');
  if (n < min) fail(v, member, `Member must have value greater than or equal to ${min}`);
  if (n > max) fail(v, member, `Member must have value less than or equal to ${max}`);
}

/** Throws ValidationError for the first header that breaks its constraint. */
export function validateHeaders(operation: Operation, headers: Record<string, string>): void {
  for (const rule of RULES) {
    if (rule.ops && !rule.ops.includes(operation)) continue;
    const v = headers[rule.header];
    if (v === undefined) continue;
    maxLen(v, rule.member, rule.max, rule.min);
    if (rule.re) pattern(v, rule.member, rule.re);
  }
  if (operation === 'InvokeEndpointAsync') {
    intRange(headers, 'x-amzn-sagemaker-requestttlseconds', 'requestTTLSeconds', 60, 21600);
    intRange(headers, 'x-amzn-sagemaker-invocationtimeoutseconds', 'invocationTimeoutSeconds', 1, 3600);
  }
}
