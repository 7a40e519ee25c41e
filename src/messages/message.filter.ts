/**
 * Structured filters over what a caller can see: what dialects compile their query languages to (SourceLoop's
 * LoopBack `where`). Repositories turn them into parameterised SQL over a fixed map of fields; nothing here is SQL.
 */
export type FilterScalar = string | number | boolean | null;

export type FilterCondition<F extends string> =
  | { and: FilterCondition<F>[] }
  | { or: FilterCondition<F>[] }
  | {
      field: F;
      op: '=' | '<>' | '>' | '>=' | '<' | '<=' | 'like' | 'not like' | 'ilike' | 'not ilike';
      value: FilterScalar;
    }
  | { field: F; op: 'in' | 'not in'; value: FilterScalar[] }
  | { field: F; op: 'between'; value: [FilterScalar, FilterScalar] }
  /** A POSIX regular expression (PostgreSQL's `~`), case-insensitive with `ignoreCase`. */
  | { field: F; op: 'regexp'; value: string; ignoreCase: boolean }
  /** Whether the field has a value (`exists: true`: is not null). */
  | { field: F; op: 'exists'; value: boolean };

export interface FilterOrder<F extends string> {
  field: F;
  direction: 'asc' | 'desc';
}

export interface Filter<F extends string> {
  where: FilterCondition<F> | null;
  order: FilterOrder<F>[];
  offset: number;
  limit: number;
}

export const MESSAGE_FILTER_FIELDS = [
  'id',
  'text',
  'chatId',
  'chatKind',
  'authorId',
  'createdAt',
  'modifiedAt',
  /** The id of the message this one replies to. */
  'parentId',
  /** In a direct chat, the member who is not the author; null in groups. */
  'recipientId',
  /** What a SourceLoop client sent beside the text (status 0 when none); channelType defaults to chatKind. */
  'subject',
  'status',
  'channelType',
] as const;
export type MessageFilterField = (typeof MESSAGE_FILTER_FIELDS)[number];
export type MessageCondition = FilterCondition<MessageFilterField>;
export type MessageOrder = FilterOrder<MessageFilterField>;
export type MessageFilter = Filter<MessageFilterField>;
