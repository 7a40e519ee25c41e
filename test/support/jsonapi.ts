import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Client, Response, TestApp } from './app.ts';

/** JSON:API helpers for tests: the official 1.0 schemas (test/fixtures/jsonapi, see SOURCE.md) and assertions. */

export const JSONAPI = 'application/vnd.api+json';
/** Ask for JSON:API. */
export const ACCEPT = { accept: JSONAPI };
/** Send and ask for JSON:API. */
export const SEND = { accept: JSONAPI, 'content-type': JSONAPI };

function fixture(name: string): any {
  return JSON.parse(readFileSync(new URL(`../fixtures/jsonapi/${name}`, import.meta.url), 'utf8'));
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
export function assertDocument(res: Response, status: number): any {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.headers['content-type'], JSONAPI);
  assertValidResponse(res.body);
  return res.body;
}

/** A JSON:API error answer: status, code, and where it points (a `/data/...` pointer or a query parameter). */
export function assertErrors(
  res: Response,
  status: number,
  code: string,
  where?: { pointer?: string; parameter?: string; detail?: RegExp; stack?: boolean },
): any {
  const body = assertDocument(res, status);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, JSON.stringify(body));
  assert.equal(body.data, undefined);
  const [error] = body.errors;
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
  headers: Record<string, string> = SEND,
): Promise<Response> {
  assertValidRequest(kind, document);
  return t.request(method, url, document, { authorization: `Bearer ${client.token}`, ...headers });
}

/** A resource object reduced to `{type, id}`. */
export const ref = (resource: { type: string; id: string }) => ({ type: resource.type, id: resource.id });

/** The ids of a list of resources (or identifiers). */
export const ids = (list: { id: string }[]) => list.map((item) => item.id);
