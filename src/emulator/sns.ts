/**
 * The emulator's SNS (awsQuery protocol, XML answers): CreateTopic, Subscribe (protocol `sqs`
 * to an emulated queue's ARN, with `FilterPolicy`, `FilterPolicyScope` and `RawMessageDelivery`),
 * Publish, Unsubscribe, SetSubscriptionAttributes, ListSubscriptionsByTopic. A publish is
 * delivered at once to every matching subscribed queue, in the SNS envelope or raw.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { ApiError, xmlEscape } from './errors';
import type { SqsService } from './sqs';

const NS = 'http://sns.amazonaws.com/doc/2010-03-31/';
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;

interface Subscription {
  arn: string;
  topicArn: string;
  protocol: string;
  endpoint: string;
  attributes: Record<string, string>;
}

interface Topic {
  arn: string;
  name: string;
  attributes: Record<string, string>;
}

const invalid = (message: string): ApiError => new ApiError(400, 'InvalidParameter', message);
const notFound = (message: string): ApiError => new ApiError(404, 'NotFound', message);

type Condition = unknown;

/** One filter-policy condition against one value (a string, number, or absent). */
function matchCondition(cond: Condition, present: boolean, value: unknown): boolean {
  if (typeof cond === 'string') return present && value === cond;
  if (typeof cond === 'number') return present && typeof value === 'number' && value === cond;
  if (typeof cond === 'boolean') return present && value === cond;
  if (cond === null) return present && value === null;
  if (cond && typeof cond === 'object' && !Array.isArray(cond)) {
    const c = cond as Record<string, unknown>;
    if ('exists' in c) return c.exists === present;
    if (!present) return false;
    if ('prefix' in c) return typeof value === 'string' && typeof c.prefix === 'string' && value.startsWith(c.prefix);
    if ('suffix' in c) return typeof value === 'string' && typeof c.suffix === 'string' && value.endsWith(c.suffix);
    if ('equals-ignore-case' in c)
      return typeof value === 'string' && String(c['equals-ignore-case']).toLowerCase() === value.toLowerCase();
    if ('anything-but' in c) {
      const ab = c['anything-but'];
      if (Array.isArray(ab)) return !ab.some((v) => v === value);
      if (ab && typeof ab === 'object') {
        const p = (ab as Record<string, unknown>).prefix;
        return typeof p === 'string' && !(typeof value === 'string' && value.startsWith(p));
      }
      return value !== ab;
    }
    if ('numeric' in c && Array.isArray(c.numeric) && typeof value === 'number') {
      const ops = c.numeric as Array<string | number>;
      for (let i = 0; i + 1 < ops.length; i += 2) {
        const [op, n] = [ops[i], Number(ops[i + 1])];
        const ok =
          op === '='
            ? value === n
            : op === '<'
              ? value < n
              : op === '<='
                ? value <= n
                : op === '>'
                  ? value > n
                  : op === '>='
                    ? value >= n
                    : false;
        if (!ok) return false;
      }
      return true;
    }
  }
  return false;
}

/**
 * Whether `doc` (a message body, or message attributes as name → value) matches `policy`:
 * every key must match one of its conditions; nested objects in the policy match nested
 * objects of the body; an array value in the body matches when any element does.
 */
export function matchesFilterPolicy(policy: Record<string, unknown>, doc: Record<string, unknown>): boolean {
  for (const [key, rule] of Object.entries(policy)) {
    const present = Object.prototype.hasOwnProperty.call(doc, key);
    const value = present ? doc[key] : undefined;
    if (rule && typeof rule === 'object' && !Array.isArray(rule)) {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
      if (!matchesFilterPolicy(rule as Record<string, unknown>, value as Record<string, unknown>)) return false;
      continue;
    }
    const conditions = Array.isArray(rule) ? rule : [rule];
    const values = Array.isArray(value) ? value : [value];
    if (!conditions.some((c) => values.some((v) => matchCondition(c, present, v)))) return false;
  }
  return true;
}

/** Reads `Attributes.entry.N.key/value` (and `MessageAttributes.entry.N.Name/Value.*`) maps of awsQuery. */
function entries(params: URLSearchParams, prefix: string, keyName: string, valueName: string): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 1; params.has(`${prefix}.entry.${i}.${keyName}`); i++) {
    out.set(params.get(`${prefix}.entry.${i}.${keyName}`) ?? '', params.get(`${prefix}.entry.${i}.${valueName}`) ?? '');
  }
  return out;
}

export class SnsService {
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Map<string, Subscription>();
  /** Deliveries that found no queue or did not match (for tests). */
  readonly counts = { published: 0, delivered: 0, filtered: 0 };

  constructor(
    private readonly sqs: SqsService,
    private readonly region: string,
    private readonly accountId: string,
    private readonly baseUrl: () => string,
  ) {}

  createTopic(name: string): Topic {
    if (!TOPIC_NAME.test(name)) throw invalid('Invalid parameter: Topic Name');
    const arn = `arn:aws:sns:${this.region}:${this.accountId}:${name}`;
    let t = this.topics.get(arn);
    if (!t) {
      t = { arn, name, attributes: {} };
      this.topics.set(arn, t);
    }
    return t;
  }

  subscribe(topicArn: string, protocol: string, endpoint: string, attributes: Map<string, string>): Subscription {
    if (!this.topics.has(topicArn)) throw notFound('Topic does not exist');
    if (protocol !== 'sqs') throw invalid(`Invalid parameter: The emulator delivers to protocol sqs only, not ${protocol}`);
    if (!this.sqs.queueByArn(endpoint)) throw invalid(`Invalid parameter: SQS endpoint ARN ${endpoint} is not a queue of this emulator`);
    for (const s of this.subscriptions.values()) if (s.topicArn === topicArn && s.endpoint === endpoint) return s;
    const s: Subscription = { arn: `${topicArn}:${randomUUID()}`, topicArn, protocol, endpoint, attributes: {} };
    for (const [k, v] of attributes) this.setSubscriptionAttribute(s, k, v);
    this.subscriptions.set(s.arn, s);
    return s;
  }

  private setSubscriptionAttribute(s: Subscription, name: string, value: string): void {
    if (name === 'FilterPolicy') {
      if (value !== '') {
        let p: unknown;
        try {
          p = JSON.parse(value);
        } catch {
          throw invalid('Invalid parameter: FilterPolicy: failed to parse JSON.');
        }
        if (!p || typeof p !== 'object' || Array.isArray(p))
          throw invalid('Invalid parameter: FilterPolicy: Filter policy must be a JSON object');
      }
    } else if (name === 'FilterPolicyScope') {
      if (value !== 'MessageAttributes' && value !== 'MessageBody')
        throw invalid('Invalid parameter: FilterPolicyScope: Invalid value [' + value + ']');
    } else if (name === 'RawMessageDelivery') {
      if (value !== 'true' && value !== 'false')
        throw invalid('Invalid parameter: RawMessageDelivery: Invalid value [' + value + ']. Must be true or false.');
    } else if (name !== 'RedrivePolicy' && name !== 'DeliveryPolicy') {
      throw invalid(`Invalid parameter: AttributeName ${name}`);
    }
    s.attributes[name] = value;
  }

  /** Publishes `message` to `topicArn`; resolves to the SNS MessageId. */
  publish(
    topicArn: string,
    message: string,
    subject?: string,
    messageAttributes: Record<string, { Type: string; Value: string }> = {},
  ): string {
    const topic = this.topics.get(topicArn);
    if (!topic) throw notFound('Topic does not exist');
    if (typeof message !== 'string' || message === '') throw invalid('Invalid parameter: Empty message');
    const id = randomUUID();
    this.counts.published += 1;
    let parsedBody: unknown;
    let bodyParsed = false;
    for (const s of this.subscriptions.values()) {
      if (s.topicArn !== topicArn) continue;
      const queue = this.sqs.queueByArn(s.endpoint);
      if (!queue) continue;
      const policy = s.attributes.FilterPolicy ? (JSON.parse(s.attributes.FilterPolicy) as Record<string, unknown>) : undefined;
      if (policy) {
        let doc: Record<string, unknown> | undefined;
        if (s.attributes.FilterPolicyScope === 'MessageBody') {
          if (!bodyParsed) {
            bodyParsed = true;
            try {
              parsedBody = JSON.parse(message);
            } catch {
              parsedBody = undefined;
            }
          }
          doc =
            parsedBody && typeof parsedBody === 'object' && !Array.isArray(parsedBody)
              ? (parsedBody as Record<string, unknown>)
              : undefined;
        } else {
          doc = {};
          for (const [k, a] of Object.entries(messageAttributes)) doc[k] = a.Type === 'Number' ? Number(a.Value) : a.Value;
        }
        if (!doc || !matchesFilterPolicy(policy, doc)) {
          this.counts.filtered += 1;
          continue;
        }
      }
      const raw = s.attributes.RawMessageDelivery === 'true';
      const body = raw ? message : JSON.stringify(this.envelope(id, topicArn, message, subject, s.arn, messageAttributes));
      this.sqs.enqueue(queue, body);
      this.counts.delivered += 1;
    }
    return id;
  }

  private envelope(
    id: string,
    topicArn: string,
    message: string,
    subject: string | undefined,
    subscriptionArn: string,
    attrs: Record<string, { Type: string; Value: string }>,
  ): Record<string, unknown> {
    const timestamp = new Date().toISOString();
    const host = `sns.${this.region}.amazonaws.com`;
    return {
      Type: 'Notification',
      MessageId: id,
      TopicArn: topicArn,
      ...(subject ? { Subject: subject } : {}),
      Message: message,
      Timestamp: timestamp,
      SignatureVersion: '1',
      // Not verifiable against AWS's certificate: the emulator signs with a key of its own.
      Signature: createHmac('sha1', 'sagemaker-emulator').update(`${id}\n${message}\n${timestamp}`).digest('base64'),
      SigningCertURL: `https://${host}/SimpleNotificationService-emulator.pem`,
      UnsubscribeURL: `${this.baseUrl()}/?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`,
      ...(Object.keys(attrs).length > 0 ? { MessageAttributes: attrs } : {}),
    };
  }

  /** One awsQuery action; resolves to the XML answer. */
  handle(action: string, params: URLSearchParams, requestId: string): string {
    const reply = (inner: string): string =>
      `<${action}Response xmlns="${NS}">\n  <${action}Result>${inner}</${action}Result>\n  <ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>\n</${action}Response>\n`;
    const need = (name: string): string => {
      const v = params.get(name);
      if (v === null || v === '') throw invalid(`Invalid parameter: ${name}`);
      return v;
    };
    switch (action) {
      case 'CreateTopic':
        return reply(`<TopicArn>${xmlEscape(this.createTopic(need('Name')).arn)}</TopicArn>`);
      case 'Subscribe': {
        const s = this.subscribe(need('TopicArn'), need('Protocol'), need('Endpoint'), entries(params, 'Attributes', 'key', 'value'));
        return reply(`<SubscriptionArn>${xmlEscape(s.arn)}</SubscriptionArn>`);
      }
      case 'Unsubscribe':
        this.subscriptions.delete(need('SubscriptionArn'));
        return reply('');
      case 'SetSubscriptionAttributes': {
        const s = this.subscriptions.get(need('SubscriptionArn'));
        if (!s) throw notFound('Subscription does not exist');
        this.setSubscriptionAttribute(s, need('AttributeName'), params.get('AttributeValue') ?? '');
        return reply('');
      }
      case 'ListSubscriptionsByTopic': {
        const arn = need('TopicArn');
        const members = [...this.subscriptions.values()]
          .filter((s) => s.topicArn === arn)
          .map(
            (s) =>
              `<member><TopicArn>${xmlEscape(s.topicArn)}</TopicArn><Protocol>${s.protocol}</Protocol><SubscriptionArn>${xmlEscape(s.arn)}</SubscriptionArn><Owner>${this.accountId}</Owner><Endpoint>${xmlEscape(s.endpoint)}</Endpoint></member>`,
          );
        return reply(`<Subscriptions>${members.join('')}</Subscriptions>`);
      }
      case 'Publish': {
        const attrs: Record<string, { Type: string; Value: string }> = {};
        for (let i = 1; params.has(`MessageAttributes.entry.${i}.Name`); i++) {
          const name = params.get(`MessageAttributes.entry.${i}.Name`) ?? '';
          attrs[name] = {
            Type: params.get(`MessageAttributes.entry.${i}.Value.DataType`) ?? 'String',
            Value: params.get(`MessageAttributes.entry.${i}.Value.StringValue`) ?? '',
          };
        }
        const id = this.publish(need('TopicArn'), need('Message'), params.get('Subject') ?? undefined, attrs);
        return reply(`<MessageId>${id}</MessageId>`);
      }
      default:
        throw new ApiError(400, 'InvalidAction', `The action ${action || '(none)'} is not valid for this web service.`);
    }
  }
}
