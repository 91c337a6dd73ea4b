/**
 * The lifecycle every worker node shares, so that a node file holds only its operation:
 *
 *     defineWorker(RED, {
 *       type: 'sagemaker-x',
 *       operation: 'invoke',              // request fields + Endpoint name (omit for a source node)
 *       settings: (read) => ({ … }),      // the node's own settings, coerced by one set of rules
 *       start: (worker, settings) => ({   // runs when config and settings are usable
 *         input(msg, send, done, endpointName) { … },   // one message (see WorkerHandlers)
 *         busyText: () => …,              // status while busy
 *         close: (removed) => …,          // wait for in-flight work (already aborted)
 *       }),
 *     });
 *
 * The runtime creates the node, attaches the config node, coerces settings, resolves the
 * endpoint name, owns the status (throttled, with errors held) and the one abort signal of the
 * node, fails messages one way (`msg.sagemaker.error` + `done(err)`, so Catch nodes see them)
 * and closes with exactly `(removed, done)`.
 */
import { setMaxListeners } from 'node:events';
import { describeError, errorAttempts, errorText, InputError, toError } from '../lib/errors';
import { requestMapper, validateSettings, type RequestMapper } from '../lib/request';
import type { Operation } from '../lib/fields';
import { Status } from '../lib/status';
import { configText, getConfigNode, type SageMakerConfigNode } from './config-api';
import { translator, type Translate } from './i18n';
import { endpointNameSource, requestSettings, SettingsReader } from './node-settings';
import type { DoneFn, Node, NodeDef, NodeMessage, RED, SendFn } from './red';

/** Node-RED gives a close handler 15 s; in-flight work is aborted first, so this is a backstop. */
const CLOSE_CAP_MS = 10_000;

export interface Worker {
  readonly RED: RED;
  readonly node: Node;
  readonly t: Translate;
  readonly config: SageMakerConfigNode;
  /** Maps a message to the operation's request, with the node's fields checked once (README "Request fields"). */
  readonly mapping: RequestMapper;
  /** Aborted when the node closes: pass it to every SDK call. */
  readonly signal: AbortSignal;
  readonly status: Status;
  /** True from close on: results that arrive now are dropped, the message just ends. */
  readonly closing: boolean;
  /**
   * Ends `msg` as failed: `msg.sagemaker` = `meta` + `attempts` + `error` (`describeError(err)`
   * + `extra`), a red status, and `done(err)` with the error's name and text.
   */
  fail(msg: NodeMessage, done: DoneFn, err: unknown, meta?: Record<string, unknown>, extra?: Record<string, unknown>): void;
  /**
   * `fail` for a message whose handler already ended (a job resumed after a restart): the error
   * goes out with `node.error(err, msg)`, so Catch nodes still see it.
   */
  failDetached(msg: NodeMessage, err: unknown, meta?: Record<string, unknown>, extra?: Record<string, unknown>): void;
}

export interface WorkerHandlers {
  /**
   * One message, with its endpoint name resolved but not yet validated (the request mapping
   * does that). May throw before it has ended the message: the runtime then fails it.
   */
  input?(msg: NodeMessage, send: SendFn, done: DoneFn, endpointName: unknown): void;
  /** The status text while work is under way; undefined when idle. */
  busyText?(): string | undefined;
  /** Runs after the node's signal was aborted; resolve once in-flight work has ended. */
  close?(removed: boolean): Promise<void> | void;
}

export interface WorkerSpec<S> {
  type: string;
  /** The request operation: the node gets its request fields and an Endpoint name. */
  operation?: Operation;
  /** Reads the node's own settings; `read.check()` collects what is unusable (texts through `t`). */
  settings(read: SettingsReader, ctx: { node: Node; t: Translate }): S;
  start(worker: Worker, settings: S): WorkerHandlers;
}

/** `o` without undefined or '' values (built anew: `delete` would slow every later access). */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** Registers `spec.type` as a worker node. */
export function defineWorker<S>(RED: RED, spec: WorkerSpec<S>): void {
  function WorkerNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    createWorker(RED, this, def, spec);
  }
  RED.nodes.registerType(spec.type, WorkerNode);
}

function createWorker<S>(RED: RED, node: Node, def: NodeDef, spec: WorkerSpec<S>): void {
  const t = translator(RED, spec.type);
  const abort = new AbortController();
  // Every SDK call of the node listens on this one signal (hundreds may be in flight).
  setMaxListeners(0, abort.signal);
  let closing = false;
  let handlers: WorkerHandlers = {};
  const status = new Status({ show: (s) => node.status(s), busyText: () => handlers.busyText?.() });

  // Setup problems, first one wins: the config node, request fields, endpoint name, own settings.
  const read = new SettingsReader(def, translator(RED, 'sagemaker-config'));
  const request = spec.operation ? requestSettings(spec.operation, def) : {};
  const mapping = requestMapper(spec.operation ?? 'invoke', request);
  const endpoint = spec.operation ? endpointNameSource(RED, node, def) : undefined;
  const config = getConfigNode(RED, def.config);
  let configProblem: string | undefined;
  if (!config) configProblem = configText(RED, 'missing');
  else if (config.configError !== undefined) configProblem = configText(RED, 'unusable', { reason: config.configError });
  if (spec.operation) read.check(validateSettings(spec.operation, request));
  read.check(endpoint?.problem);
  const settings = spec.settings(read, { node, t });
  const setupError = configProblem ?? read.problem;

  function fail(msg: NodeMessage, done: DoneFn, err: unknown, meta: Record<string, unknown> = {}, extra?: Record<string, unknown>): void {
    const info = describeError(err);
    msg.sagemaker = compact({ ...meta, attempts: meta.attempts ?? errorAttempts(err), error: extra ? { ...info, ...extra } : info });
    if (!closing) status.error(info.name === 'InputError' ? errorText(info) : info.name);
    done(toError(info));
  }

  if (setupError !== undefined || !config) {
    // The node still starts: red ring, and each message fails with the reason.
    status.setupProblem(config?.configError ?? setupError ?? '');
    if (!spec.operation && configProblem === undefined && setupError) node.error(setupError);
  } else {
    const worker: Worker = {
      RED,
      node,
      t,
      config,
      mapping,
      signal: abort.signal,
      status,
      get closing() {
        return closing;
      },
      fail,
      failDetached: (msg, err, meta, extra) => fail(msg, (e) => node.error(e, msg), err, meta, extra),
    };
    handlers = spec.start(worker, settings);
  }

  const input = handlers.input;
  if (spec.operation) {
    const run = (msg: NodeMessage, send: SendFn, done: DoneFn, name: unknown): void => {
      try {
        if (!input) throw new Error(`${spec.type} takes no input`);
        input(msg, send, done, name);
      } catch (err) {
        fail(msg, done, err, { endpointName: typeof name === 'string' ? name : undefined });
      }
    };
    node.on('input', (msg, send, done) => {
      if (setupError !== undefined) return fail(msg, done, new InputError('config', setupError));
      if (closing) return done();
      // A literal name (the usual case) needs no evaluation: no promise per message.
      if (endpoint?.literal !== undefined) return run(msg, send, done, endpoint.literal);
      endpoint?.resolve(msg).then(
        (name) => (closing ? done() : run(msg, send, done, name)),
        (err: unknown) => fail(msg, done, err),
      );
    });
  }

  node.on('close', (removed: boolean, done: () => void) => {
    closing = true;
    status.stop();
    abort.abort();
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(cap);
      node.status({});
      done();
    };
    const cap = setTimeout(finish, CLOSE_CAP_MS);
    Promise.resolve()
      .then(() => handlers.close?.(removed))
      .then(finish, finish);
  });
}
