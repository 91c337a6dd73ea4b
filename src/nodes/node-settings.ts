/**
 * Settings every worker node reads the same way: the request fields of its operation and the
 * Endpoint name TypedInput.
 */
import { InputError } from '../lib/errors';
import { FIELDS_BY_OPERATION, validateEndpointName, type Operation, type RequestSettings } from '../lib/request';
import type { Node, NodeDef, NodeMessage, RED } from './red';

export const ENDPOINT_NAME_TYPES = ['str', 'msg', 'flow', 'global', 'env', 'jsonata'] as const;

/** The node's request fields of `op` (strings, '' = not set) and its request format. */
export function requestSettings(op: Operation, n: NodeDef): RequestSettings {
  const settings: RequestSettings = { requestFormat: n.requestFormat ? String(n.requestFormat) : 'auto' };
  for (const key of FIELDS_BY_OPERATION[op]) {
    const v = n[key];
    (settings as Record<string, string>)[key] = v === undefined || v === null ? '' : String(v);
  }
  return settings;
}

export interface EndpointNameSource {
  /** Why the configured value cannot work (bad type, bad literal name, bad JSONata); checked once at start. */
  problem: string | undefined;
  /** The endpoint name for one message; rejects with an InputError naming the field. */
  resolve(msg: NodeMessage): Promise<unknown>;
}

/** Reads `endpointName` + `endpointNameType`; a literal name is validated at start, the others per message. */
export function endpointNameSource(red: RED, node: Node, n: NodeDef): EndpointNameSource {
  const value = n.endpointName === undefined || n.endpointName === null ? '' : String(n.endpointName);
  const type = n.endpointNameType ? String(n.endpointNameType) : 'str';
  if (!(ENDPOINT_NAME_TYPES as readonly string[]).includes(type)) {
    const problem = `Endpoint name type must be one of ${ENDPOINT_NAME_TYPES.join(', ')}, got ${JSON.stringify(type)}`;
    return { problem, resolve: () => Promise.reject(new InputError('Endpoint name', problem)) };
  }
  if (type === 'str') {
    const name = value.trim();
    return { problem: validateEndpointName(name), resolve: () => Promise.resolve(name) };
  }
  let expression: unknown;
  if (type === 'jsonata') {
    try {
      expression = red.util.prepareJSONataExpression(value, node);
    } catch (err) {
      const problem = `Endpoint name: invalid JSONata expression: ${(err as Error).message}`;
      return { problem, resolve: () => Promise.reject(new InputError('Endpoint name', problem)) };
    }
  }
  return {
    problem: undefined,
    resolve: (msg) =>
      new Promise((resolve, reject) => {
        const cb = (err: Error | null, result: unknown): void => {
          if (err) reject(new InputError('Endpoint name', `Endpoint name: cannot evaluate ${type} ${JSON.stringify(value)}: ${err.message}`));
          else resolve(result);
        };
        if (type === 'jsonata') red.util.evaluateJSONataExpression(expression, msg, cb);
        else red.util.evaluateNodeProperty(value, type, node, msg, cb);
      }),
  };
}
