/**
 * The part of Node-RED's runtime API this package uses, typed by hand: Node-RED ships no types,
 * and @types/node-red pulls in Express and its own (older) message types for a handful of calls.
 * Shapes follow Node-RED's documentation "Creating Nodes" (JavaScript file, Node context,
 * Status, Handling errors) and the `RED` object handed to a node module.
 */
export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  headers?: unknown;
  [key: string]: unknown;
}

export type NodeStatus = {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
};

/** What `send` takes: one message, or one entry per output (null = nothing on that output). */
export type Outgoing = NodeMessage | Array<NodeMessage | NodeMessage[] | null>;
export type SendFn = (msg: Outgoing) => void;
export type DoneFn = (err?: Error) => void;
export type InputHandler = (msg: NodeMessage, send: SendFn, done: DoneFn) => void;
/** Node-RED reads the parameter count: exactly `(removed, done)` gives the node up to 15 s to finish. */
export type CloseHandler = (removed: boolean, done: () => void) => void;

type Callback<T> = (err: Error | null, value: T) => void;

export interface ContextStore {
  get(key: string, store: string | undefined, cb: Callback<unknown>): void;
  set(key: string, value: unknown, store: string | undefined, cb: (err: Error | null) => void): void;
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  keys(store: string | undefined, cb: Callback<string[]>): void;
}

export interface ContextScope extends ContextStore {
  flow: ContextStore;
  global: ContextStore;
}

export interface Node {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials: Record<string, string | undefined>;
  on(event: 'input', handler: InputHandler): void;
  on(event: 'close', handler: CloseHandler): void;
  send(msg: Outgoing): void;
  status(status: NodeStatus): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(message: unknown): void;
  log(message: unknown): void;
  debug(message: unknown): void;
  context(): ContextScope;
}

/** A node's properties as saved by the editor (every value as the form stored it). */
export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

/** An Express request and response, as far as the admin routes read them (`P`: the route's parameters). */
export interface AdminRequest<P = Record<string, string>> {
  params: P;
  body: unknown;
  query?: Record<string, unknown>;
  headers?: Record<string, string | string[] | undefined>;
  /** Express: whether the body's Content-Type matches `type`. */
  is(type: string): string | false | null;
  /** Express: a request header. */
  get(name: string): string | undefined;
}
export interface AdminResponse {
  json(value: unknown): void;
  status(code: number): AdminResponse;
  send(body?: unknown): void;
}
export type AdminHandler<P = Record<string, string>> = (req: AdminRequest<P>, res: AdminResponse, next: () => void) => void;

/** A prepared JSONata expression (opaque: only handed back to Node-RED). */
export type JsonataExpression = { readonly __jsonata?: never };

export interface RED {
  nodes: {
    createNode(node: Node, def: NodeDef): void;
    /** `N` is the node with what its constructor adds (a config node's shared clients). */
    registerType<N extends Node>(
      type: string,
      ctor: (this: N, def: NodeDef) => void,
      opts?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, unknown> },
    ): void;
    getNode(id: string): Node | null;
    /** Every node of the running flows, as defined (before `${ENV}` substitution). */
    eachNode?(cb: (def: NodeDef) => void): void;
  };
  util: {
    evaluateNodeProperty(value: string, type: string, node: Node, msg: NodeMessage, cb: Callback<unknown>): void;
    prepareJSONataExpression(expr: string, node: Node): JsonataExpression;
    evaluateJSONataExpression(expr: JsonataExpression, msg: NodeMessage, cb: Callback<unknown>): void;
    generateId(): string;
    cloneMessage<T>(msg: T): T;
  };
  httpAdmin: {
    post<P>(path: string, ...handlers: Array<AdminHandler<P>>): void;
    get<P>(path: string, ...handlers: Array<AdminHandler<P>>): void;
  };
  auth: { needsPermission<P>(permission: string): AdminHandler<P> };
  settings: Record<string, unknown>;
  log: { info(m: unknown): void; warn(m: unknown): void; error(m: unknown): void; debug(m: unknown): void };
  _(key: string, substitutions?: Record<string, unknown>): string;
}
