import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ErrorCode } from '../../src/errors/codes.ts';
import { JSONAPI, type Client, type Headers, type Response, type TestApp } from './app.ts';

/** JSON:API helpers for tests: the official 1.0 schemas (test/fixtures/jsonapi, see SOURCE.md) and assertions. */

export { JSONAPI };
/** Ask for JSON:API. */
export const ACCEPT = { accept: JSONAPI } as const;
/** Send and ask for JSON:API. */
export const SEND = { accept: JSONAPI, 'content-type': JSONAPI } as const;

/** A resource identifier: `{type, id}`. */
export interface Identifier {
  type: string;
  id: string;
  meta?: Record<string, unknown>;
}

export interface Links {
  self?: string;
  related?: string;
  first?: string | null;
  prev?: string | null;
  next?: string | null;
}

export interface Relationship {
  data?: Identifier | Identifier[] | null;
  links?: Links;
  meta?: Record<string, unknown>;
}

/** A resource object as a JSON:API answer carries it. */
export interface Resource extends Identifier {
  attributes?: Record<string, unknown>;
  relationships?: Record<string, Relationship>;
  links?: Links;
}

/** One error object of a JSON:API error document. */
export interface ErrorObject {
  status: string;
  code: string;
  title: string;
  detail: string;
  source?: { pointer?: string; parameter?: string };
  meta?: Record<string, unknown>;
}

/** A JSON:API top-level document (data or errors); `data` of what kind is for the test to say (`one`, `many`). */
export interface Document {
  data?: Resource | Resource[] | Identifier | Identifier[] | null;
  included?: Resource[];
  errors?: ErrorObject[];
  links?: Links;
  meta?: Record<string, unknown>;
  jsonapi?: { version: string };
}

interface JsonSchemaFile {
  $id: string;
}

function fixture(name: string): JsonSchemaFile {
  return JSON.parse(
    readFileSync(new URL(`../fixtures/jsonapi/${name}`, import.meta.url), 'utf8'),
  ) as JsonSchemaFile;
}

const ajv = new Ajv2020.default({ strict: false, allErrors: true });
addFormats.default(ajv);
// The response schema first: the request schemas refer to it by its $id.
const responseSchema = fixture('v1.0-schema.json');
ajv.addSchema(responseSchema);
const validateResponse = ajv.getSchema(responseSchema.$id)!;
const validateCreate = ajv.compile(fixture('v1.0-schema_create_resource.json'));
const validateUpdate = ajv.compile(fixture('v1.0-schema_update_resource.json'));
const validateRelationship = ajv.compile(fixture('v1.0-schema_update_relationship.json'));

const REQUEST_SCHEMAS = {
  create: validateCreate,
  update: validateUpdate,
  relationship: validateRelationship,
};
export type RequestKind = keyof typeof REQUEST_SCHEMAS;

/** Asserts a document is a valid JSON:API 1.0 response (the official schema), naming every violation. */
export function assertValidResponse(body: unknown): void {
  const ok = validateResponse(body);
  assert.ok(
    ok,
    `not a valid JSON:API response: ${ajv.errorsText(validateResponse.errors)}\n${JSON.stringify(body)}`,
  );
}

/** Asserts a request document is valid against the official request schema for its kind. */
export function assertValidRequest(kind: RequestKind, body: unknown): void {
  const validate = REQUEST_SCHEMAS[kind];
  assert.ok(validate(body), `not a valid JSON:API ${kind} request: ${ajv.errorsText(validate.errors)}`);
}

export function isValidRequest(kind: RequestKind, body: unknown): boolean {
  return REQUEST_SCHEMAS[kind](body) as boolean;
}

/** A JSON:API answer: the status, exactly `application/vnd.api+json`, and a schema-valid document. */
export function assertDocument(res: Response<unknown>, status: number): Document {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.headers['content-type'], JSONAPI);
  assertValidResponse(res.body);
  // The official schema has just said what it is.
  return res.body as Document;
}

/** A JSON:API answer whose primary data is one resource object. */
export function assertOne(res: Response<unknown>, status: number): Document & { data: Resource } {
  const doc = assertDocument(res, status);
  assert.ok(isResource(doc.data), `primary data is not one resource: ${JSON.stringify(doc.data)}`);
  return { ...doc, data: doc.data };
}

/** A JSON:API answer whose primary data is a list of resource objects. */
export function assertMany(res: Response<unknown>, status: number): Document & { data: Resource[] } {
  const doc = assertDocument(res, status);
  const { data } = doc;
  assert.ok(Array.isArray(data), `primary data is not a list: ${JSON.stringify(data)}`);
  return { ...doc, data: data.map((item) => resource(item)) };
}

/** Whether `value` is a resource object (an identifier with attributes, relationships or links). */
export function isResource(value: unknown): value is Resource {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as Identifier).type === 'string' &&
    typeof (value as Identifier).id === 'string'
  );
}

/** `value` as a resource object, failing the test when it is not one. */
export function resource(value: unknown): Resource {
  assert.ok(isResource(value), `not a resource object: ${JSON.stringify(value)}`);
  return value;
}

/** A to-many relationship's linkage, failing the test when it is not a list. */
export function linkages(relationship: Relationship | undefined): Identifier[] {
  const data = relationship?.data;
  assert.ok(Array.isArray(data), `not a to-many linkage: ${JSON.stringify(relationship)}`);
  return data;
}

/** A relationship's linkage as one identifier, failing the test when it is not (a list, null, absent). */
export function linkage(relationship: Relationship | undefined): Identifier {
  const data = relationship?.data;
  assert.ok(data && !Array.isArray(data), `not a to-one linkage: ${JSON.stringify(relationship)}`);
  return data;
}

/** A JSON:API error answer: status, code, and where it points (a `/data/...` pointer or a query parameter). */
export function assertErrors(
  res: Response<unknown>,
  status: number,
  code: ErrorCode,
  where?: { pointer?: string; parameter?: string; detail?: RegExp; stack?: boolean },
): ErrorObject {
  const body = assertDocument(res, status);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, JSON.stringify(body));
  assert.equal(body.data, undefined);
  const [error] = body.errors;
  assert.ok(error);
  assert.equal(error.status, String(status));
  assert.equal(error.code, code, JSON.stringify(body));
  assert.equal(typeof error.title, 'string');
  assert.equal(typeof error.detail, 'string');
  if (!where?.stack) {
    assert.ok(!JSON.stringify(body).includes('    at '), 'no stack trace outside development');
  }
  if (where?.pointer !== undefined) {
    assert.equal(error.source?.pointer, where.pointer, JSON.stringify(body));
  }
  if (where?.parameter !== undefined) {
    assert.equal(error.source?.parameter, where.parameter, JSON.stringify(body));
  }
  if (where?.detail !== undefined) {
    assert.match(error.detail, where.detail);
  }
  return error;
}

/** Sends a request document as `client`, after checking it against the official request schema. */
export function send(
  t: TestApp,
  client: Client,
  method: 'POST' | 'PATCH' | 'DELETE',
  url: string,
  kind: RequestKind,
  document: unknown,
  headers: Headers = SEND,
): Promise<Response<unknown>> {
  assertValidRequest(kind, document);
  return t.request(method, url, document, { authorization: `Bearer ${client.token}`, ...headers });
}

/** A resource object reduced to `{type, id}`. */
export const ref = (resource: { type: string; id: string }) => ({ type: resource.type, id: resource.id });

/** The ids of a list of resources (or identifiers). */
export const ids = (list: { id: string }[]) => list.map((item) => item.id);
