/**
 * Settings every worker node reads the same way: its own settings (coerced by the rules of
 * `lib/fields.ts`, with texts naming the field), the request fields of its operation and the
 * Endpoint name TypedInput.
 */
import { InputError } from '../lib/errors';
import {
  ENDPOINT_NAME_TYPES,
  FIELDS_BY_OPERATION,
  SETTINGS,
  validateEndpointName,
  type Operation,
  type RequestSettings,
  type SettingKey,
  type SettingRule,
} from '../lib/fields';
import type { Translate } from './i18n';
import type { JsonataExpression, Node, NodeDef, NodeMessage, RED } from './red';

export { ENDPOINT_NAME_TYPES } from '../lib/fields';

type ValueOf<R> = R extends { kind: 'bool' } ? boolean : R extends { kind: 'choice'; values: readonly (infer V)[] } ? V : number;
export type SettingValue<K extends SettingKey> = ValueOf<(typeof SETTINGS)[K]>;

function blank(v: unknown): boolean {
  return v === undefined || v === null || String(v).trim() === '';
}

/**
 * Reads a node's own settings. A value the node cannot use gives the rule's default and is
 * remembered: `problem` is the first one, in a text that names the field (`Concurrency must be a
 * whole number from 1 to 1000, got "0"`). Texts: `sagemaker-config.settings.*`, the package's
 * shared catalog (every worker node has a config node, so its catalog is always loaded).
 */
export class SettingsReader {
  problem: string | undefined;
  private readonly def: NodeDef;
  private readonly text: Translate;

  constructor(def: NodeDef, text: Translate) {
    this.def = def;
    this.text = text;
  }

  /** Records a problem found elsewhere (the first one wins). */
  check(problem: string | undefined): void {
    this.problem ??= problem;
  }

  /** A trimmed string property ('' when blank). */
  string(key: string): string {
    const v = this.def[key];
    return blank(v) ? '' : String(v).trim();
  }

  /** A string property as typed, untrimmed ('' when absent). */
  raw(key: string): string {
    const v = this.def[key];
    return v === undefined || v === null ? '' : String(v);
  }

  get<K extends SettingKey>(key: K): SettingValue<K> {
    return this.coerce(key, SETTINGS[key]) as SettingValue<K>;
  }

  private coerce(key: SettingKey, rule: SettingRule): number | string | boolean {
    const raw = this.def[key];
    if (blank(raw)) return rule.dflt;
    const subs = { field: this.text(`settings.field.${key}`), value: JSON.stringify(raw) };
    switch (rule.kind) {
      case 'bool':
        return raw === true || raw === 'true';
      case 'choice': {
        const v = String(raw);
        if (rule.values.includes(v)) return v;
        this.check(this.text('settings.choice', { ...subs, choices: this.choices(rule.values) }));
        return rule.dflt;
      }
      case 'seconds': {
        const n = Number(raw);
        if (Number.isFinite(n) && n >= rule.min) return n;
        this.check(this.text('settings.seconds', { ...subs, min: rule.min }));
        return rule.dflt;
      }
      case 'int': {
        const n = Number(raw);
        if (Number.isInteger(n) && n >= rule.min && n <= rule.max) return n;
        const unit = rule.unit;
        this.check(
          this.text(unit === 'ms' ? 'settings.intMs' : unit === 'bytes' ? 'settings.bytes' : 'settings.int', {
            ...subs,
            min: rule.min,
            max: rule.max,
          }),
        );
        return rule.dflt;
      }
    }
  }

  /** `part or line`, `string, buffer or json`, `one of auto, json, text, buffer, csv`. */
  private choices(values: readonly string[]): string {
    if (values.length > 3) return this.text('settings.oneOf', { list: values.join(', ') });
    return this.text('settings.or', { list: values.slice(0, -1).join(', '), last: values[values.length - 1] });
  }
}

/** The node's request fields of `op` (strings, '' = not set) and its request format. */
export function requestSettings(op: Operation, n: NodeDef): RequestSettings {
  const settings: Record<string, string> = { requestFormat: n.requestFormat ? String(n.requestFormat) : 'auto' };
  for (const key of FIELDS_BY_OPERATION[op]) {
    const v = n[key];
    settings[key] = v === undefined || v === null ? '' : String(v);
  }
  return settings;
}

export interface EndpointNameSource {
  /** Why the configured value cannot work (bad type, bad literal name, bad JSONata); checked once at start. */
  problem: string | undefined;
  /** The name when it is a literal (type `str`): no per-message evaluation. */
  literal: string | undefined;
  /** The endpoint name for one message; rejects with an InputError naming the field. */
  resolve(msg: NodeMessage): Promise<unknown>;
}

function unusable(problem: string): EndpointNameSource {
  return { problem, literal: undefined, resolve: () => Promise.reject(new InputError('Endpoint name', problem)) };
}

/** Reads `endpointName` + `endpointNameType`; a literal name is validated at start, the others per message. */
export function endpointNameSource(red: RED, node: Node, n: NodeDef): EndpointNameSource {
  const value = n.endpointName === undefined || n.endpointName === null ? '' : String(n.endpointName);
  const type = n.endpointNameType ? String(n.endpointNameType) : 'str';
  if (!(ENDPOINT_NAME_TYPES as readonly string[]).includes(type)) {
    return unusable(`Endpoint name type must be one of ${ENDPOINT_NAME_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
  }
  if (type === 'str') {
    const name = value.trim();
    return { problem: validateEndpointName(name), literal: name, resolve: () => Promise.resolve(name) };
  }
  let expression: JsonataExpression | undefined;
  if (type === 'jsonata') {
    try {
      expression = red.util.prepareJSONataExpression(value, node);
    } catch (err) {
      return unusable(`Endpoint name: invalid JSONata expression: ${(err as Error).message}`);
    }
  }
  return {
    problem: undefined,
    literal: undefined,
    resolve: (msg) =>
      new Promise((resolve, reject) => {
        const cb = (err: Error | null, result: unknown): void => {
          if (err)
            reject(new InputError('Endpoint name', `Endpoint name: cannot evaluate ${type} ${JSON.stringify(value)}: ${err.message}`));
          else resolve(result);
        };
        if (expression) red.util.evaluateJSONataExpression(expression, msg, cb);
        else red.util.evaluateNodeProperty(value, type, node, msg, cb);
      }),
  };
}
