import type Type from 'typebox';
import {
  ChatKindSchema,
  ChatView,
  CreateChatBody,
  RoleSchema,
  UpdateChatBody,
  VisibilitySchema,
} from '../chats/chat.schema.ts';
import { ErrorView } from '../errors/error.schema.ts';
import { HealthView } from '../health/health.routes.ts';
import {
  JsonApiDocumentView,
  JsonApiErrorsView,
  JsonApiIdentifierView,
  JsonApiResourceView,
} from '../jsonapi/jsonapi.openapi.ts';
import { IdentifierInput, IdentifiersDocument, ResourceDocument } from '../jsonapi/jsonapi.request.ts';
import { AddMemberBody, MemberView, UpdateMemberBody } from '../members/member.schema.ts';
import {
  EditMessageBody,
  MessageView,
  ReadBody,
  ReadView,
  SendMessageBody,
  UnreadView,
} from '../messages/message.schema.ts';
import { ReceiptView } from '../messages/receipt.schema.ts';
import { SearchHitView, SearchPage, SearchSort } from '../search/search.schema.ts';
import { CreateUserBody, UpdateMeBody, UserStatusSchema, UserView } from '../users/user.schema.ts';
import { PageOf } from './routes.ts';

/**
 * The schemas the OpenAPI document names (`components.schemas`), so that generated clients get one type per view
 * (`Chat`, `Message`, ...) instead of a copy per operation. The routes keep their own TypeBox schemas, which
 * validate and serialize as before: the document refers to a name wherever a route's schema has one of these,
 * compared by content, at any depth of a body or a response.
 */
const NAMED = {
  Error: ErrorView,
  User: UserView,
  UserStatus: UserStatusSchema,
  UserPage: PageOf(UserView),
  CreateUserInput: CreateUserBody,
  UpdateMeInput: UpdateMeBody,
  Chat: ChatView,
  ChatKind: ChatKindSchema,
  Visibility: VisibilitySchema,
  Role: RoleSchema,
  ChatPage: PageOf(ChatView),
  CreateChatInput: CreateChatBody,
  UpdateChatInput: UpdateChatBody,
  Member: MemberView,
  MemberPage: PageOf(MemberView),
  AddMemberInput: AddMemberBody,
  UpdateMemberInput: UpdateMemberBody,
  Message: MessageView,
  MessagePage: PageOf(MessageView),
  SendMessageInput: SendMessageBody,
  EditMessageInput: EditMessageBody,
  ReadInput: ReadBody,
  ReadState: ReadView,
  UnreadSummary: UnreadView,
  UnreadChat: UnreadView.properties.chats.items,
  Receipt: ReceiptView,
  ReceiptPage: PageOf(ReceiptView),
  SearchHit: SearchHitView,
  SearchPage,
  SearchSort,
  HealthStatus: HealthView,
  JsonApiDocument: JsonApiDocumentView,
  JsonApiResource: JsonApiResourceView,
  JsonApiIdentifier: JsonApiIdentifierView,
  JsonApiResourceInput: ResourceDocument,
  JsonApiIdentifiersInput: IdentifiersDocument,
  JsonApiIdentifierInput: IdentifierInput,
  JsonApiErrors: JsonApiErrorsView,
} satisfies Record<string, Type.TSchema>;

export type SchemaName = keyof typeof NAMED & string;

export const ref = (name: SchemaName) => ({ $ref: `#/components/schemas/${name}` });

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A schema's text with its keys sorted: two schemas are the same when their texts are. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonical).join(',')}]`;
  }
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const NAMES = new Map(
  (Object.entries(NAMED) as [SchemaName, Type.TSchema][]).map(([name, schema]) => [canonical(schema), name]),
);

/** Keywords whose value is a schema or a list of schemas; and those whose value is a map of name → schema. */
const SUBSCHEMA = new Set(['items', 'anyOf', 'allOf', 'oneOf', 'not', 'additionalProperties']);
const SUBSCHEMA_MAP = new Set(['properties', 'patternProperties']);

/**
 * `"a" | "b"` as TypeBox writes it (a union of one-value schemas) → one enum, which generators turn into one type
 * rather than a union of single-value wrappers. Only unions of nothing but constants of one type.
 */
function mergeConstants(schema: Json): Json {
  const members = schema.anyOf;
  if (!Array.isArray(members) || members.length < 2) {
    return schema;
  }
  const values: unknown[] = [];
  let type: unknown;
  for (const member of members) {
    if (!isObject(member) || !Object.keys(member).every((key) => key === 'type' || key === 'const')) {
      return schema;
    }
    if (!('const' in member) || (type !== undefined && member.type !== type)) {
      return schema;
    }
    type = member.type;
    values.push(member.const);
  }
  const { anyOf: _members, ...rest } = schema;
  return { ...rest, ...(type === undefined ? {} : { type }), enum: values };
}

function named(schema: unknown, isRoot: boolean): unknown {
  if (Array.isArray(schema)) {
    return schema.map((each) => named(each, false));
  }
  if (!isObject(schema)) {
    return schema;
  }
  const name = isRoot ? undefined : NAMES.get(canonical(schema));
  if (name !== undefined) {
    return ref(name);
  }
  const copy: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (SUBSCHEMA.has(key)) {
      copy[key] = named(value, false);
    } else if (SUBSCHEMA_MAP.has(key) && isObject(value)) {
      copy[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, named(v, false)]));
    } else {
      copy[key] = value;
    }
  }
  return mergeConstants(copy);
}

/** A route's body or response schema for the document: every named schema in it replaced by a reference. */
export function withNames(schema: unknown): unknown {
  return named(schema, false);
}

/** `components.schemas`: each named schema, the named schemas within it referred to by name. */
export function namedSchemas(): Record<string, unknown> {
  return Object.fromEntries(Object.entries(NAMED).map(([name, schema]) => [name, named(schema, true)]));
}
