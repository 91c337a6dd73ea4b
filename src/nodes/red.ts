/**
 * The small part of Node-RED's runtime API that this package uses, typed by hand so the
 * build does not depend on Node-RED's own (untyped) internals.
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

export type SendFn = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type DoneFn = (err?: Error) => void;

export interface Node {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials: Record<string, string | undefined>;
  on(event: 'input', handler: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', handler: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>): void;
  status(status: NodeStatus | Record<string, never>): void;
  error(err: unknown, msg?: NodeMessage): void;
  warn(message: unknown): void;
  log(message: unknown): void;
  debug(message: unknown): void;
  context(): ContextScope;
}

export interface ContextStore {
  get(key: string, store: string | undefined, cb: (err: Error | null, value: unknown) => void): void;
  set(key: string, value: unknown, store: string | undefined, cb: (err: Error | null) => void): void;
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  keys(store: string | undefined, cb: (err: Error | null, keys: string[]) => void): void;
}

export interface ContextScope extends ContextStore {
  flow: ContextStore;
  global: ContextStore;
}

export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
  [key: string]: unknown;
}

export interface RED {
  nodes: {
    createNode(node: object, def: NodeDef): void;
    registerType(
      type: string,
      ctor: (this: Node, def: NodeDef) => void,
      opts?: { credentials?: Record<string, { type: 'text' | 'password' }>; settings?: Record<string, unknown> },
    ): void;
    getNode(id: string): Node | null;
    /** Every node of the running flows, as defined (before `${ENV}` substitution). */
    eachNode?(cb: (def: NodeDef) => void): void;
  };
  util: {
    evaluateNodeProperty(
      value: string,
      type: string,
      node: Node,
      msg: NodeMessage,
      cb: (err: Error | null, result: unknown) => void,
    ): void;
    evaluateNodeProperty(value: string, type: string, node: Node, msg: NodeMessage): unknown;
    prepareJSONataExpression(expr: string, node: Node): unknown;
    evaluateJSONataExpression(
      expr: unknown,
      msg: NodeMessage,
      cb: (err: Error | null, result: unknown) => void,
    ): void;
    evaluateEnvProperty?(value: string, node: Node): string;
    generateId(): string;
    cloneMessage<T>(msg: T): T;
    getMessageProperty(msg: NodeMessage, prop: string): unknown;
  };
  httpAdmin: {
    post(path: string, ...handlers: Array<(req: any, res: any, next?: any) => void>): void;
    get(path: string, ...handlers: Array<(req: any, res: any, next?: any) => void>): void;
  };
  auth: { needsPermission(permission: string): (req: any, res: any, next: any) => void };
  settings: Record<string, unknown>;
  log: { info(m: unknown): void; warn(m: unknown): void; error(m: unknown): void; debug(m: unknown): void };
  _(key: string, substitutions?: Record<string, unknown>): string;
}
