import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { WEBHOOK_MAPPING_NAMES } from './mapping-names.js';
import { type MappingRule, type WebhookMapping } from './webhook-mapping.js';

/** Bounds of a custom mapping: it is read for every webhook of its source, and stored with it. */
const MAX_RULES = 50;
const MAX_SPECS = 500;
const MAX_DEPTH = 6;
const MAX_PATH = 500;
const HEADER = /^[A-Za-z0-9-]{1,100}$/;
/** Stored in MongoDB (FerretDB): no `.` and no leading `$` in a key. */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,99}$/;
const AS = ['number', 'string', 'timestamp'];

type Problems = string[];

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function unknownKeys(
  value: Record<string, unknown>,
  allowed: string[],
  at: string,
  problems: Problems,
): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key)) problems.push(`${at}.${key} is not a known field (${allowed.join(', ')})`);
}

function checkPath(path: unknown, at: string, problems: Problems): void {
  if (typeof path !== 'string' || !path.startsWith('$') || path.length > MAX_PATH) {
    problems.push(`${at} must be a JSONPath starting with $ (at most ${MAX_PATH} characters)`);
    return;
  }
  // Paths are evaluated with eval off: filter and script expressions would fail on every webhook.
  if (/[?(]/.test(path)) problems.push(`${at} must not use filter or script expressions (?(…), (…))`);
}

class SpecCounter {
  count = 0;
}

function checkSpec(spec: unknown, at: string, depth: number, counter: SpecCounter, problems: Problems): void {
  if (++counter.count > MAX_SPECS) {
    if (counter.count === MAX_SPECS + 1) problems.push(`${at}: a mapping has at most ${MAX_SPECS} fields`);
    return;
  }
  if (typeof spec === 'string') return checkPath(spec, at, problems);
  if (!isRecord(spec)) {
    problems.push(`${at} must be a JSONPath string or an object with path+as, path+each, fields or value`);
    return;
  }
  if (depth > MAX_DEPTH) {
    problems.push(`${at} is nested deeper than ${MAX_DEPTH} levels`);
    return;
  }
  if ('value' in spec) {
    unknownKeys(spec, ['value'], at, problems);
    if (!['string', 'number', 'boolean'].includes(typeof spec.value))
      problems.push(`${at}.value must be a string, number or boolean`);
    return;
  }
  if ('fields' in spec) {
    unknownKeys(spec, ['fields'], at, problems);
    return checkFields(spec.fields, `${at}.fields`, depth + 1, counter, problems);
  }
  if ('each' in spec) {
    unknownKeys(spec, ['path', 'each'], at, problems);
    checkPath(spec.path, `${at}.path`, problems);
    return checkFields(spec.each, `${at}.each`, depth + 1, counter, problems);
  }
  if ('as' in spec) {
    unknownKeys(spec, ['path', 'as'], at, problems);
    checkPath(spec.path, `${at}.path`, problems);
    if (!AS.includes(spec.as as string)) problems.push(`${at}.as must be one of ${AS.join(', ')}`);
    return;
  }
  problems.push(`${at} must be a JSONPath string or an object with path+as, path+each, fields or value`);
}

function checkFields(
  fields: unknown,
  at: string,
  depth: number,
  counter: SpecCounter,
  problems: Problems,
): void {
  if (!isRecord(fields)) {
    problems.push(`${at} must be an object of field name → field spec`);
    return;
  }
  for (const [name, spec] of Object.entries(fields)) {
    if (!FIELD_NAME.test(name))
      problems.push(
        `${at}.${name}: a field name is 1-100 letters, digits, _ or -, starting with a letter or _`,
      );
    else checkSpec(spec, `${at}.${name}`, depth, counter, problems);
  }
}

function checkRule(rule: unknown, at: string, counter: SpecCounter, problems: Problems): void {
  if (!isRecord(rule)) {
    problems.push(`${at} must be an object`);
    return;
  }
  unknownKeys(
    rule,
    ['topic', 'type', 'event', 'userId', 'anonymousId', 'timestamp', 'properties', 'traits', 'contextTraits'],
    at,
    problems,
  );
  if (typeof rule.topic !== 'string' || rule.topic.length < 1 || rule.topic.length > 200)
    problems.push(`${at}.topic must be a string of 1-200 characters`);
  if (rule.type !== 'track' && rule.type !== 'identify')
    problems.push(`${at}.type must be track or identify`);
  if (
    rule.type === 'track' &&
    (typeof rule.event !== 'string' || rule.event.length < 1 || rule.event.length > 256)
  )
    problems.push(`${at}.event must be the track call's event name (1-256 characters)`);
  if (rule.type === 'identify' && rule.event !== undefined)
    problems.push(`${at}.event is only for track rules`);
  if (rule.userId === undefined && rule.anonymousId === undefined)
    problems.push(`${at}.userId or ${at}.anonymousId is required`);
  for (const key of ['userId', 'anonymousId', 'timestamp'] as const)
    if (rule[key] !== undefined) checkSpec(rule[key], `${at}.${key}`, 1, counter, problems);
  for (const key of ['properties', 'traits', 'contextTraits'] as const)
    if (rule[key] !== undefined) checkFields(rule[key], `${at}.${key}`, 1, counter, problems);
  if (rule.type === 'track' && rule.traits !== undefined)
    problems.push(`${at}.traits is only for identify rules (use contextTraits)`);
  if (rule.type === 'identify' && rule.properties !== undefined)
    problems.push(`${at}.properties is only for track rules`);
}

/** Every problem of a custom mapping, each naming its place (`webhookMapping.rules.0.type …`); none when valid. */
export function webhookMappingProblems(value: unknown, at = 'webhookMapping'): string[] {
  const problems: Problems = [];
  if (!isRecord(value)) return [`${at} must be an object`];
  unknownKeys(value, ['name', 'topicHeader', 'deliveryIdHeader', 'rules'], at, problems);
  if (value.name !== undefined && (typeof value.name !== 'string' || !FIELD_NAME.test(value.name)))
    problems.push(`${at}.name must be 1-100 letters, digits, _ or -`);
  for (const key of ['topicHeader', 'deliveryIdHeader'] as const)
    if (value[key] !== undefined && (typeof value[key] !== 'string' || !HEADER.test(value[key])))
      problems.push(`${at}.${key} must be an HTTP header name (letters, digits and -)`);
  if (!Array.isArray(value.rules) || value.rules.length < 1 || value.rules.length > MAX_RULES) {
    problems.push(`${at}.rules must be a list of 1-${MAX_RULES} rules`);
    return problems;
  }
  const counter = new SpecCounter();
  value.rules.forEach((rule, index) => checkRule(rule, `${at}.rules.${index}`, counter, problems));
  return problems;
}

/** A checked custom mapping with its defaults: headers lower-cased as Node gives them, Mesh headers when absent. */
export function normalizeWebhookMapping(value: Record<string, unknown>): WebhookMapping {
  return {
    name: typeof value.name === 'string' ? value.name : 'custom',
    topicHeader: typeof value.topicHeader === 'string' ? value.topicHeader.toLowerCase() : 'x-mesh-topic',
    deliveryIdHeader:
      typeof value.deliveryIdHeader === 'string'
        ? value.deliveryIdHeader.toLowerCase()
        : 'x-mesh-delivery-id',
    rules: value.rules as MappingRule[],
  };
}

/** `webhookMapping`: a built-in mapping's name, or a declarative WebhookMapping object (see webhook-mapping.ts). */
export function IsWebhookMapping(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isWebhookMapping',
      target: target.constructor,
      propertyName: propertyName as string,
      options: options ?? {},
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string'
            ? (WEBHOOK_MAPPING_NAMES as readonly string[]).includes(value)
            : webhookMappingProblems(value).length === 0,
        defaultMessage: ({ value }: ValidationArguments) =>
          typeof value === 'string' || !isRecord(value)
            ? `webhookMapping must be one of ${WEBHOOK_MAPPING_NAMES.join(', ')}, or a mapping object {topicHeader?, deliveryIdHeader?, rules: [...]}`
            : webhookMappingProblems(value).slice(0, 20).join('; '),
      },
    });
}
