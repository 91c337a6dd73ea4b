/**
 * Editor helpers of every node of the package, built into `resources/sagemaker-editor.js`, which
 * Node-RED serves at `resources/node-red-contrib-sagemaker-runtime/sagemaker-editor.js`; each
 * node's .html loads it with one `<script src>` before its own code runs, so no form depends on
 * another node's html. The field rules are the runtime's own (lib/fields.ts), bundled in.
 *
 * Validators follow Node-RED's `defaults[…].validate`: `this` is the node, a blank value is fine
 * (the runtime default applies), and so is a whole `${ENV}` (substituted at deploy).
 */
import { batchFormatFor } from '../lib/batch';
import {
  CONFIG_CREDENTIALS,
  CONFIG_FIELDS,
  CONFIG_NUMBERS,
  ENDPOINT_NAME_TYPES,
  EXTERNAL_ID_PATTERN,
  FIELDS,
  inferenceIdPrefixProblem,
  IOT_ROLE_ALIAS_PATTERN,
  IOT_THING_NAME_PATTERN,
  normaliseEndpointUrl,
  QUEUE_URL,
  REGION_PATTERN,
  ROLE_ARN_PATTERN,
  SESSION_NAME_PATTERN,
  SETTINGS,
  validateEndpointName,
  type FieldKey,
  type Operation,
  type SettingKey,
  type SettingRule,
} from '../lib/fields';
import { REQUEST_FORMATS } from '../lib/payload';
import { bucketNameProblem, keyProblem } from '../lib/s3-location';

// --- the little of jQuery and the editor's RED this file uses ------------------------------
interface JQuery {
  length: number;
  val(): unknown;
  val(value: string): JQuery;
  on(events: string, handler: (event: { preventDefault(): void }) => void): JQuery;
  find(selector: string): JQuery;
  nextAll(selector: string): JQuery;
  first(): JQuery;
  toggle(show: boolean): JQuery;
  toggleClass(name: string, on: boolean): JQuery;
  typedInput(options: { default: string; types: unknown[]; typeField: string }): JQuery;
  typedInput(method: 'type'): string;
}
interface AjaxOptions {
  url: string;
  type: 'POST';
  contentType: string;
  data: string;
  success(answer: unknown): void;
  error(xhr: { status: number; statusText?: string }): void;
}
type Validator = (this: Record<string, unknown> | undefined, value: unknown) => boolean;
interface EditorRED {
  nodes: { node(id: string): Record<string, unknown> | null };
}
declare const $: ((selector: string) => JQuery) & { ajax(options: AjaxOptions): void };
declare const RED: EditorRED;
declare global {
  interface Window {
    SageMakerEditor: typeof editor;
  }
}

const ENV = /^\$\{[^}]+\}$/;
const CACHE_MS = 30_000;
const FAILURE_CACHE_MS = 5_000;

function blank(v: unknown): boolean {
  return v === undefined || v === null || String(v).trim() === '';
}

/** A validator: blank and `${ENV}` pass, anything else must pass `test` (trimmed). */
function check(test: (v: string) => boolean): Validator {
  return (v) => blank(v) || ENV.test(String(v).trim()) || test(String(v).trim());
}

/** A validator on the value as typed (a missing value is ''). */
function untrimmed(test: (v: string) => boolean): Validator {
  return (v) => test(v === undefined || v === null ? '' : String(v));
}

function settingOk(rule: SettingRule, v: string): boolean {
  switch (rule.kind) {
    case 'int': {
      const n = Number(v);
      return Number.isInteger(n) && n >= rule.min && n <= rule.max;
    }
    case 'seconds': {
      const n = Number(v);
      return Number.isFinite(n) && n >= rule.min;
    }
    case 'choice':
      return rule.values.includes(v);
    case 'bool':
      return true;
  }
}

/** Reads a form value, or the node's saved one when the form is not open. */
function formValue(node: Record<string, unknown> | undefined, key: string): unknown {
  const field = $(`#node-input-${key}`);
  return field.length ? field.val() : node?.[key];
}

// --- endpoint names from the account (the config node's admin route) ------------------------
interface CacheEntry {
  at: number;
  names?: string[];
  failed?: boolean;
  waiting: Array<(names: string[]) => void> | null;
}
const cache: Record<string, CacheEntry> = {};

function configRequest(id: string): { settings: Record<string, unknown>; credentials: Record<string, string> } | null {
  const cfg = RED.nodes.node(id);
  if (!cfg || cfg.type !== 'sagemaker-config') return null;
  const settings: Record<string, unknown> = {};
  for (const f of CONFIG_FIELDS) if (cfg[f] !== undefined) settings[f] = cfg[f];
  // Credentials typed in this session and not yet deployed; otherwise the runtime uses the
  // deployed node's stored ones (absent or __PWRD__) if the form keeps its endpoint, region
  // and credential type. Always JSON: the routes refuse other bodies (README, Security).
  const credentials: Record<string, string> = {};
  const typed = cfg.credentials as Record<string, unknown> | undefined;
  if (typed) {
    for (const f of CONFIG_CREDENTIALS) {
      const v = typed[f];
      if (typeof v === 'string' && v !== '') credentials[f] = v;
    }
  }
  return { settings, credentials };
}

/** Calls back with the InService endpoint names of the selected config (or [] on failure). */
function listEndpoints(configId: unknown, callback: (names: string[]) => void): void {
  const body = typeof configId === 'string' && configId !== '' ? configRequest(configId) : null;
  if (!body) return callback([]);
  const key = `${configId}|${JSON.stringify(body.settings)}|${Object.keys(body.credentials).join(',')}`;
  let entry = cache[key];
  if (entry?.names && Date.now() - entry.at < (entry.failed ? FAILURE_CACHE_MS : CACHE_MS)) return callback(entry.names);
  if (entry?.waiting) {
    entry.waiting.push(callback);
    return;
  }
  entry = cache[key] = { at: 0, waiting: [callback] };
  const finish = (names: string[], failed: boolean): void => {
    const waiting = entry.waiting ?? [];
    Object.assign(entry, { names, failed, at: Date.now(), waiting: null });
    for (const cb of waiting) cb(names);
  };
  $.ajax({
    url: `sagemaker-config/${encodeURIComponent(String(configId))}/endpoints`,
    type: 'POST',
    contentType: 'application/json',
    data: JSON.stringify(body),
    success: (r) => {
      const answer = r as { ok?: boolean; endpoints?: unknown; error?: string } | null;
      if (answer?.ok && Array.isArray(answer.endpoints)) return finish(answer.endpoints.map(String), false);
      console.warn('SageMaker: could not list endpoints:', answer?.error ?? 'no answer');
      finish([], true);
    },
    error: (xhr) => {
      console.warn('SageMaker: could not list endpoints:', xhr.status, xhr.statusText ?? '');
      finish([], true);
    },
  });
}

// --- rows several forms share --------------------------------------------------------------
/** What a shared row's placeholder says besides its name: an icon, choices to leave out. */
interface RowOptions {
  icon: string;
  omit: string[];
}

/** A row's label: `for` its field, a Font Awesome icon (if any), the text of locale key `text`. */
function label(field: string, icon: string, text: string): string {
  return `<label for="node-input-${field}">${icon ? `<i class="fa ${icon}"></i> ` : ''}<span data-i18n="${text}"></span></label>`;
}

/** A select of the values the runtime takes, less `omit`; each option's text at `<type>.<field>.<value>`. */
function select(type: string, field: string, values: readonly string[], omit: string[]): string[] {
  const unknown = omit.filter((v) => !values.includes(v));
  if (unknown.length) throw new Error(`SageMaker: ${type}'s form leaves out ${field} ${unknown.join(', ')}, which it does not have`);
  return [
    `<select id="node-input-${field}" style="width: 70%">`,
    ...values.filter((v) => !omit.includes(v)).map((v) => `  <option value="${v}" data-i18n="${type}.${field}.${v}"></option>`),
    '</select>',
  ];
}

/**
 * The rows several forms share, as lines of markup for node `type` (texts from its own locale,
 * `<type>.label.…`). `endpointName` is the field `endpointInput` turns into a TypedInput;
 * `advanced` the link of the collapsible section (`section`, `advanced`).
 */
const ROWS: Record<string, (type: string, o: RowOptions) => string[]> = {
  config: (type) => [label('config', 'fa-cog', `${type}.label.config`), '<input type="text" id="node-input-config">'],
  endpointName: (type) => [
    label('endpointName', 'fa-server', `${type}.label.endpointName`),
    `<input type="text" id="node-input-endpointName" style="width: 70%" data-i18n="[placeholder]${type}.placeholder.endpointName">`,
    '<input type="hidden" id="node-input-endpointNameType">',
  ],
  advanced: (type) => [
    `<a href="#" id="${type}-advanced-toggle"><i class="fa fa-caret-right"></i> <span data-i18n="${type}.label.advanced"></span></a>`,
  ],
  requestFormat: (type, o) => [
    label('requestFormat', o.icon, `${type}.label.requestFormat`),
    ...select(type, 'requestFormat', REQUEST_FORMATS, o.omit),
  ],
  responseFormat: (type, o) => [
    label('responseFormat', 'fa-sign-out', `${type}.label.responseFormat`),
    ...select(type, 'responseFormat', SETTINGS.responseFormat.values, o.omit),
  ],
};

/**
 * A shared row in a form's template: `<div class="form-row …" data-sagemaker-row="NAME"></div>`,
 * optionally with `data-icon="fa-…"` (the request format's label) and `data-omit="a b"`
 * (choices its select leaves out), in that order.
 */
const SHARED_ROW = /<div class="([^"]*)" data-sagemaker-row="([^"]*)"(?: data-icon="([^"]*)")?(?: data-omit="([^"]*)")?><\/div>/g;

const editor = {
  blank,

  /**
   * Fills in the shared rows of `type`'s edit form. Node-RED builds the edit dialog from the
   * template's text and sets up the config-node select and TypedInputs before `oneditprepare`
   * runs, so the rows must be in the template by then: each .html calls this from a script
   * placed after its template, which runs once the template is in the page.
   */
  formRows(type: string): void {
    const template = document.querySelector(`script[data-template-name="${type}"]`);
    if (!template) throw new Error(`SageMaker: no edit form template for ${type}`);
    const filled = String(template.textContent).replace(SHARED_ROW, (_, cls: string, name: string, icon?: string, omit?: string) => {
      const row = ROWS[name];
      if (!row) throw new Error(`SageMaker: ${type}'s form asks for an unknown row "${name}"`);
      const lines = row(type, { icon: icon ?? '', omit: omit ? omit.split(' ') : [] });
      return [`<div class="${cls}">`, ...lines.map((line) => `  ${line}`), '</div>'].join('\n  ');
    });
    if (filled.includes('data-sagemaker-row')) throw new Error(`SageMaker: ${type}'s form has a shared row this script cannot read`);
    template.textContent = filled;
  },

  /** A request field of `op`, by the runtime's rule for it. */
  field(op: Operation, key: FieldKey): Validator {
    const spec = FIELDS.find((f) => f.key === key);
    return check((v) => !spec || spec.check(v, op) === undefined);
  },

  /** A worker node's own setting (concurrency, batch size, idle timeout, …). */
  setting(key: SettingKey): Validator {
    const rule: SettingRule = SETTINGS[key];
    return check((v) => settingOk(rule, v));
  },

  /** The Endpoint name TypedInput: a literal name must be valid; other types are read at run time. */
  endpointName(): Validator {
    return function (v) {
      const type = String(formValue(this, 'endpointNameType') || 'str');
      const name = String(v ?? '').trim();
      return type !== 'str' || name.includes('${') || validateEndpointName(name) === undefined;
    };
  },

  /** True when the request format has row boundaries, so messages can be batched. */
  batchable(requestFormat: unknown): boolean {
    return batchFormatFor(String(requestFormat ?? '')) !== undefined;
  },

  queueUrl: check((v) => QUEUE_URL.test(v)),

  /** sagemaker-invoke-async's input bucket and prefix, and the prefix of its generated InferenceIds. */
  async: {
    inputBucket: check((v) => bucketNameProblem(v) === undefined),
    inputPrefix: check((v) => keyProblem(v) === undefined && !v.startsWith('/')),
    // Not trimmed: the runtime uses the prefix as typed.
    inferenceIdPrefix: untrimmed((v) => inferenceIdPrefixProblem(v) === undefined),
  },

  /** The config node's fields. */
  config: {
    region: check((v) => REGION_PATTERN.test(v)),
    roleArn: check((v) => ROLE_ARN_PATTERN.test(v)),
    externalId: check((v) => EXTERNAL_ID_PATTERN.test(v)),
    roleSessionName: check((v) => SESSION_NAME_PATTERN.test(v)),
    url: check((v) => normaliseEndpointUrl(v) !== undefined),
    timeout: check((v) => {
      const n = Number(v);
      return Number.isFinite(n) && n >= CONFIG_NUMBERS.timeout.min && n <= CONFIG_NUMBERS.timeout.max;
    }),
    maxAttempts: check((v) => {
      const n = Number(v);
      return Number.isInteger(n) && n >= CONFIG_NUMBERS.maxAttempts.min && n <= CONFIG_NUMBERS.maxAttempts.max;
    }),
    iotRoleAlias: check((v) => IOT_ROLE_ALIAS_PATTERN.test(v)),
    iotThingName: check((v) => IOT_THING_NAME_PATTERN.test(v)),
    /** The settings the Test connection button posts (form values). */
    fields: CONFIG_FIELDS,
    credentials: CONFIG_CREDENTIALS,
  },

  /** A collapsible section: `toggle` is the link, `onChange(open)` shows or hides its rows. */
  section(toggle: string, open: boolean, onChange: (open: boolean) => void): void {
    const link = $(toggle);
    const set = (o: boolean): void => {
      open = o;
      link.find('i').toggleClass('fa-caret-down', o).toggleClass('fa-caret-right', !o);
      onChange(o);
    };
    link.on('click', (e) => {
      e.preventDefault();
      set(!open);
    });
    set(!!open);
  },

  /**
   * A worker form's Advanced section: open when any of `fields` is set, the request format is
   * not auto, or `open` (other non-default values) says so.
   */
  advanced(
    node: Record<string, unknown>,
    fields: readonly string[],
    toggle: string,
    open: boolean,
    onChange: (open: boolean) => void,
  ): void {
    const format = node.requestFormat;
    const set = fields.some((k) => !blank(node[k])) || (!blank(format) && format !== 'auto');
    editor.section(toggle, open || set, onChange);
  },

  listEndpoints,

  /**
   * Makes `#node-input-endpointName` a TypedInput whose string type completes from the account's
   * InService endpoints of the config selected in `configField` (by prefix; free text stays),
   * and fetches the list when the field gets focus so it is there by the first keystroke.
   */
  endpointInput(configField: string): void {
    const str = {
      value: 'str',
      label: 'string',
      icon: 'red/images/typedInput/az.svg',
      autoComplete: (value: unknown, done: (names: string[]) => void) => {
        const prefix = String(value ?? '').toLowerCase();
        listEndpoints($(configField).val(), (names) => done(names.filter((n) => n.toLowerCase().startsWith(prefix) && n !== value)));
      },
    };
    const field = $('#node-input-endpointName');
    field.typedInput({
      default: 'str',
      types: [str, ...ENDPOINT_NAME_TYPES.filter((t) => t !== 'str')],
      typeField: '#node-input-endpointNameType',
    });
    field
      .nextAll('.red-ui-typedInput-container')
      .first()
      .find('input.red-ui-typedInput-input')
      .on('focus', () => {
        if (field.typedInput('type') === 'str') listEndpoints($(configField).val(), () => undefined);
      });
  },
};

window.SageMakerEditor = editor;
