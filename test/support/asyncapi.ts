import assert from 'node:assert/strict';
import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/**
 * Reading the stream's AsyncAPI document in tests: the official parser's diagnostics, and the message payload schemas
 * compiled with ajv to check real frames against.
 */

/** The parts of the AsyncAPI document these tests read. */
export interface Channel {
  address: string;
  description: string;
  messages: Record<string, { $ref: string }>;
  bindings?: { ws?: { query: { properties: Record<string, unknown> } } };
}

export interface AsyncApiDocument {
  asyncapi: string;
  servers: Record<string, { host: string; protocol: string }>;
  channels: Record<string, Channel>;
  operations: Record<string, { action: string; channel: { $ref: string }; messages: { $ref: string }[] }>;
  components: {
    messages: Record<string, { name: string; description?: string; payload: unknown }>;
    schemas: Record<string, unknown>;
    securitySchemes: Record<string, Record<string, string>>;
  };
}

const parser = new Parser();

/** The official parser's findings, by severity name. */
export async function diagnose(doc: AsyncApiDocument) {
  const { document, diagnostics } = await parser.parse(JSON.stringify(doc));
  const of = (severity: DiagnosticSeverity) =>
    diagnostics
      .filter((d) => d.severity === severity)
      .map((d) => `${d.code} at ${d.path.join('.')}: ${d.message}`);
  return { document, errors: of(DiagnosticSeverity.Error), warnings: of(DiagnosticSeverity.Warning) };
}

/**
 * The document with every object schema closed (`additionalProperties: false`): a frame that validates against it
 * has no field the document does not name, as well as every field it requires.
 */
function closed<T>(value: T): T {
  if (Array.isArray(value)) {
    return value.map(closed) as T;
  }
  if (typeof value !== 'object' || value === null) {
    return value;
  }
  const copy = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, closed(v)])) as Record<
    string,
    unknown
  >;
  if (copy.type === 'object' && copy.properties && !('additionalProperties' in copy)) {
    copy.additionalProperties = false;
  }
  return copy as T;
}

/** A validator of each message's payload, by its key under `components.messages`. */
export function payloadValidators(doc: AsyncApiDocument): (key: string) => ValidateFunction {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(closed(doc) as object, 'asyncapi.json');
  return (key) => {
    const validate = ajv.getSchema(`asyncapi.json#/components/messages/${key}/payload`);
    assert.ok(validate, `the document has a message ${key}`);
    return validate;
  };
}

/** The frame types a channel carries from the server (its messages but the client's). */
export const serverMessages = (channel: Channel) =>
  Object.keys(channel.messages)
    .filter((key) => !key.startsWith('client.'))
    .sort();

export async function fetchDocument(url: string): Promise<AsyncApiDocument> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  assert.match(String(response.headers.get('content-type')), /application\/json/);
  return (await response.json()) as AsyncApiDocument;
}
