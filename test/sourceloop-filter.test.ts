import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ATTACHMENT_MODEL,
  MESSAGE_MODEL,
  RECIPIENT_MODEL,
} from '../src/dialects/sourceloop/sourceloop.mapping.ts';
import {
  both,
  compileFilter,
  compileWhere,
  DEFAULT_LIMIT,
  filterParam,
  MAX_LIMIT,
  queryObject,
  whereParam,
} from '../src/dialects/sourceloop/sourceloop.filter.ts';
import { AppError } from '../src/errors/codes.ts';

/** The compiler refuses with `invalid_request` (SourceLoop answers it 400 INVALID_PARAMETER_VALUE) and a message starting with `path`. */
function refuses(compile: () => unknown, message: string | RegExp): void {
  assert.throws(compile, (error: unknown) => {
    assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
    assert.equal(error.code, 'invalid_request');
    if (typeof message === 'string') {
      assert.equal(error.message, message);
    } else {
      assert.match(error.message, message);
    }
    return true;
  });
}

const where = (value: unknown) => compileWhere(value, MESSAGE_MODEL);

/** A `where` nested `levels` deep in `and` lists, with one condition at the bottom. */
function nested(levels: number): unknown {
  let node: unknown = { body: 'x' };
  for (let i = 0; i < levels; i++) {
    node = { and: [node] };
  }
  return node;
}

describe('LoopBack filter compiler: where', () => {
  it('is null when there is no where', () => {
    assert.equal(where(undefined), null);
    assert.equal(where(null), null);
  });

  it('maps properties to Parley fields; a bare value is equality', () => {
    assert.deepEqual(where({ body: 'hi' }), { field: 'text', op: '=', value: 'hi' });
    assert.deepEqual(where({ channelId: 'c1' }), { field: 'chatId', op: '=', value: 'c1' });
    assert.deepEqual(where({ createdBy: 'u1' }), { field: 'authorId', op: '=', value: 'u1' });
    assert.deepEqual(where({ parentMessageId: null }), { field: 'parentId', op: '=', value: null });
    assert.deepEqual(where({ toUserId: 'u2' }), { field: 'recipientId', op: '=', value: 'u2' });
  });

  it('compiles every operator', () => {
    const ops: [string, string][] = [
      ['eq', '='],
      ['neq', '<>'],
      ['gt', '>'],
      ['gte', '>='],
      ['lt', '<'],
      ['lte', '<='],
      ['like', 'like'],
      ['nlike', 'not like'],
      ['ilike', 'ilike'],
      ['nilike', 'not ilike'],
    ];
    for (const [name, op] of ops) {
      assert.deepEqual(where({ body: { [name]: 'a%' } }), { field: 'text', op, value: 'a%' }, name);
    }
    assert.deepEqual(where({ id: { inq: ['a', 'b'] } }), { field: 'id', op: 'in', value: ['a', 'b'] });
    // Deep-object lists come as objects with index keys, in index order.
    assert.deepEqual(where({ id: { inq: { 1: 'b', 0: 'a', 10: 'k' } } }), {
      field: 'id',
      op: 'in',
      value: ['a', 'b', 'k'],
    });
  });

  it('compiles the rest of LoopBack’s operators: nin, between, regexp, exists, like with options', () => {
    assert.deepEqual(where({ id: { nin: ['a'] } }), { field: 'id', op: 'not in', value: ['a'] });
    assert.deepEqual(where({ createdOn: { between: [0, 1000] } }), {
      field: 'createdAt',
      op: 'between',
      value: ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:01.000Z'],
    });
    // A RegExp as LoopBack clients serialise it (`/source/flags`), or a bare pattern; `i` is case-insensitive.
    assert.deepEqual(where({ body: { regexp: '/^hi/i' } }), {
      field: 'text',
      op: 'regexp',
      value: '^hi',
      ignoreCase: true,
    });
    assert.deepEqual(where({ body: { regexp: '^hi' } }), {
      field: 'text',
      op: 'regexp',
      value: '^hi',
      ignoreCase: false,
    });
    assert.deepEqual(where({ subject: { exists: true } }), { field: 'subject', op: 'exists', value: true });
    assert.deepEqual(where({ subject: { exists: 'false' } }), {
      field: 'subject',
      op: 'exists',
      value: false,
    });
    assert.deepEqual(where({ body: { like: 'HI%', options: 'i' } }), {
      field: 'text',
      op: 'ilike',
      value: 'HI%',
    });
    // Integer properties take query-string digits.
    assert.deepEqual(where({ status: '2' }), { field: 'status', op: '=', value: 2 });
  });

  it('joins several properties, and several operators on one property, with and', () => {
    assert.deepEqual(where({ body: 'x', channelId: 'c' }), {
      and: [
        { field: 'text', op: '=', value: 'x' },
        { field: 'chatId', op: '=', value: 'c' },
      ],
    });
    assert.deepEqual(where({ createdOn: { gte: 0, lt: 1000 } }), {
      and: [
        { field: 'createdAt', op: '>=', value: '1970-01-01T00:00:00.000Z' },
        { field: 'createdAt', op: '<', value: '1970-01-01T00:00:01.000Z' },
      ],
    });
  });

  it('compiles and/or lists, as JSON arrays or deep-object lists', () => {
    const expected = {
      or: [{ field: 'text', op: '=', value: 'a' }, { and: [{ field: 'chatId', op: '=', value: 'c' }] }],
    };
    assert.deepEqual(where({ or: [{ body: 'a' }, { and: [{ channelId: 'c' }] }] }), expected);
    assert.deepEqual(where({ or: { 0: { body: 'a' }, 1: { and: { 0: { channelId: 'c' } } } } }), expected);
    assert.deepEqual(where({ and: [] }), { and: [] });
  });

  it('types values by property: times to the millisecond in ISO form, booleans from text', () => {
    assert.deepEqual(where({ modifiedOn: { gt: '2024-05-01T10:00:00.123456Z' } }), {
      field: 'modifiedAt',
      op: '>',
      value: '2024-05-01T10:00:00.123Z',
    });
    assert.deepEqual(compileWhere({ isRead: 'true' }, RECIPIENT_MODEL), {
      field: 'isRead',
      op: '=',
      value: true,
    });
    assert.deepEqual(compileWhere({ isFavorite: { neq: false } }, RECIPIENT_MODEL), {
      field: 'isFavorite',
      op: '<>',
      value: false,
    });
    refuses(() => compileWhere({ isRead: 'yes' }, RECIPIENT_MODEL), 'where.isRead: must be true or false');
    refuses(() => where({ createdOn: 'yesterday' }), 'where.createdOn: must be a date-time');
    refuses(() => where({ createdOn: { lt: true } }), 'where.createdOn.lt: must be a date-time');
    refuses(
      () => where({ createdOn: { inq: ['2024-01-01', 'x'] } }),
      'where.createdOn.inq[1]: must be a date-time',
    );
  });

  it('reads deleted as always false: true matches nothing, false everything', () => {
    assert.deepEqual(where({ deleted: false }), { and: [] });
    assert.deepEqual(where({ deleted: 'false' }), { and: [] });
    assert.deepEqual(where({ deleted: { eq: true } }), { or: [] });
    refuses(
      () => where({ deleted: { neq: true } }),
      'where.deleted: only equality with true or false is supported',
    );
  });

  it('refuses, naming the path, what is outside the supported subset', () => {
    refuses(
      () => compileWhere({ body: { near: '^a' } }, MESSAGE_MODEL, 'filter.where'),
      'filter.where.body.near: operator is not supported (use eq, neq, gt, gte, lt, lte, like, nlike, ilike, nilike, inq, nin, between, regexp, exists)',
    );
    refuses(() => where({ body: { regexp: '(' } }), 'where.body.regexp: is not a valid regular expression');
    refuses(() => where({ body: { between: ['a'] } }), 'where.body.between: must be a list of two bounds');
    refuses(() => where({ body: { exists: 1 } }), 'where.body.exists: must be true or false');
    refuses(() => where({ status: 'x' }), 'where.status: must be an integer');
    refuses(
      () => where({ body: { like: 'x'.repeat(513) } }),
      'where.body.like: must be a string pattern of at most 512 characters',
    );
    refuses(() => where({ password: 'u' }), 'where.password: is not a property that can be filtered on');
    refuses(
      () => where({ or: [{ body: 'a' }, { nope: 1 }] }),
      'where.or[1].nope: is not a property that can be filtered on',
    );
    refuses(() => where('body'), 'where: must be an object');
    refuses(() => where({ or: ['x'] }), 'where.or[0]: must be an object');
    refuses(() => where({ and: 'x' }), 'where.and: must be an array');
    refuses(() => where({ id: { inq: 'a' } }), 'where.id.inq: must be an array');
    refuses(
      () => where({ body: { like: 5 } }),
      'where.body.like: must be a string pattern of at most 512 characters',
    );
    refuses(
      () => where({ body: { eq: { nested: 1 } } }),
      'where.body.eq: must be a string, number, boolean or null',
    );
    refuses(
      () => where({ id: { inq: [['a']] } }),
      'where.id.inq[0]: must be a string, number, boolean or null',
    );
  });

  it('takes at most 8 levels of nesting', () => {
    assert.doesNotThrow(() => where(nested(8)));
    refuses(() => where(nested(9)), /: is nested too deeply \(at most 8 levels\)$/);
  });

  it('takes at most 100 conditions', () => {
    const hundred = { or: Array.from({ length: 99 }, (_, i) => ({ id: String(i) })) };
    assert.doesNotThrow(() => where(hundred));
    const more = { or: Array.from({ length: 100 }, (_, i) => ({ id: String(i) })) };
    refuses(
      () => compileWhere(more, MESSAGE_MODEL, 'filter.where'),
      'filter.where: has more than 100 conditions',
    );
  });

  it('compiles for each model with its own properties', () => {
    assert.deepEqual(compileWhere({ recipientId: 'u', messageId: 'm' }, RECIPIENT_MODEL), {
      and: [
        { field: 'recipientId', op: '=', value: 'u' },
        { field: 'messageId', op: '=', value: 'm' },
      ],
    });
    assert.deepEqual(compileWhere({ fileKey: { like: 'a/%' } }, ATTACHMENT_MODEL), {
      field: 'fileKey',
      op: 'like',
      value: 'a/%',
    });
    refuses(
      () => compileWhere({ fileKey: 'k' }, MESSAGE_MODEL),
      'where.fileKey: is not a property that can be filtered on',
    );
  });
});

describe('LoopBack filter compiler: filter', () => {
  const all = (raw: Record<string, unknown> | null) =>
    compileFilter(raw, MESSAGE_MODEL, { allowWhere: true });

  it('defaults to no condition, no order, the first 100', () => {
    const { filter, fields } = all(null);
    assert.deepEqual(filter, { where: null, order: [], offset: 0, limit: DEFAULT_LIMIT });
    assert.equal(DEFAULT_LIMIT, 100);
    assert.equal(fields, null);
  });

  it('compiles where under filter.where', () => {
    assert.deepEqual(all({ where: { body: 'x' } }).filter.where, { field: 'text', op: '=', value: 'x' });
    refuses(
      () => all({ where: { nope: 1 } }),
      'filter.where.nope: is not a property that can be filtered on',
    );
  });

  it('caps limit at 500 (a larger one gives 500); whole numbers from 1, as LoopBack’s schema', () => {
    assert.equal(MAX_LIMIT, 500);
    assert.equal(all({ limit: 5 }).filter.limit, 5);
    assert.equal(all({ limit: '7' }).filter.limit, 7);
    assert.equal(all({ limit: 501 }).filter.limit, 500);
    assert.equal(all({ limit: 1e9 }).filter.limit, 500);
    refuses(() => all({ limit: 0 }), 'filter.limit: must be a whole number from 1 to 1000000000');
    refuses(() => all({ limit: -1 }), 'filter.limit: must be a whole number from 1 to 1000000000');
    refuses(() => all({ limit: 1.5 }), 'filter.limit: must be a whole number from 1 to 1000000000');
    refuses(() => all({ limit: 'ten' }), 'filter.limit: must be a whole number from 1 to 1000000000');
  });

  it('takes skip or offset, up to a million', () => {
    assert.equal(all({ skip: 10 }).filter.offset, 10);
    assert.equal(all({ offset: '20' }).filter.offset, 20);
    assert.equal(all({ skip: 3, offset: 20 }).filter.offset, 3);
    refuses(() => all({ skip: 1_000_001 }), 'filter.skip: must be a whole number from 0 to 1000000');
    refuses(() => all({ offset: -5 }), 'filter.skip: must be a whole number from 0 to 1000000');
  });

  it('orders by properties: "name DESC", a comma list or an array', () => {
    assert.deepEqual(all({ order: 'createdOn DESC' }).filter.order, [
      { field: 'createdAt', direction: 'desc' },
    ]);
    assert.deepEqual(all({ order: 'body, id desc' }).filter.order, [
      { field: 'text', direction: 'asc' },
      { field: 'id', direction: 'desc' },
    ]);
    assert.deepEqual(all({ order: ['modifiedOn asc', 'id'] }).filter.order, [
      { field: 'modifiedAt', direction: 'asc' },
      { field: 'id', direction: 'asc' },
    ]);
    assert.deepEqual(all({ order: { 0: 'id DESC' } }).filter.order, [{ field: 'id', direction: 'desc' }]);
    refuses(
      () => all({ order: 'nope' }),
      'filter.order[0]: must be "<property> ASC|DESC" with a known property',
    );
    refuses(() => all({ order: ['id', 'body sideways'] }), /^filter\.order\[1\]: /);
    refuses(() => all({ order: 5 }), 'filter.order: must be an array');
  });

  it('selects fields: only those set true, all but those set false, or a list', () => {
    const message = { id: 'm', body: 'b', channelId: 'c', deleted: false };
    const pick = (fields: unknown) => {
      const selection = all({ fields }).fields;
      assert.ok(selection);
      return selection(message);
    };
    assert.deepEqual(pick({ body: true, id: 'true' }), { id: 'm', body: 'b' });
    assert.deepEqual(pick({ body: false }), { id: 'm', channelId: 'c', deleted: false });
    assert.deepEqual(pick(['id', 'channelId']), { id: 'm', channelId: 'c' });
    assert.deepEqual(pick('id,body'), { id: 'm', body: 'b' });
    assert.deepEqual(pick({ 0: 'deleted' }), { deleted: false });
    refuses(() => all({ fields: { fileKey: true } }), 'filter.fields.fileKey: is not a property of Message');
    refuses(() => all({ fields: 5 }), 'filter.fields: must be an array');
  });

  it('compiles include: the model’s relations, by name or with a scope of their own', () => {
    assert.deepEqual(
      all({ include: 'parentMessage' }).include.map((i) => i.relation),
      ['parentMessage'],
    );
    const [replies, recipients] = all({
      include: [
        { relation: 'messages', scope: { where: { body: { like: 'a%' } }, limit: 2, fields: ['id'] } },
        'messageRecipients',
      ],
    }).include;
    assert.equal(replies?.relation, 'messages');
    assert.deepEqual(replies?.scope.filter.where, { field: 'text', op: 'like', value: 'a%' });
    assert.equal(replies?.scope.filter.limit, 2);
    assert.deepEqual(replies?.scope.fields?.({ id: 'm', body: 'b' }), { id: 'm' });
    assert.equal(recipients?.relation, 'messageRecipients');
    // A scope is compiled for the related model: a recipient's properties, and its own relation.
    const nested = all({
      include: [
        { relation: 'messageRecipients', scope: { where: { isRead: 'true' }, include: ['message'] } },
      ],
    }).include[0];
    assert.deepEqual(nested?.scope.filter.where, { field: 'isRead', op: '=', value: true });
    assert.equal(nested?.scope.include[0]?.relation, 'message');
    assert.deepEqual(
      compileFilter({ include: ['message'] }, RECIPIENT_MODEL, { allowWhere: true }).include.map(
        (i) => i.relation,
      ),
      ['message'],
    );
    assert.deepEqual(
      compileFilter({ include: ['message'] }, ATTACHMENT_MODEL, { allowWhere: true }).include.map(
        (i) => i.relation,
      ),
      ['message'],
    );
  });

  it('refuses unknown relations, unknown keys, and where on the by-id routes', () => {
    refuses(
      () => all({ include: ['parent'] }),
      'filter.include[0]: "parent" is not a relation of Message (messages, parentMessage, messageRecipients, attachmentFiles)',
    );
    refuses(
      () => all({ include: [{ relation: 'messages', scope: { where: { isRead: true } } }] }),
      'filter.where.isRead: is not a property that can be filtered on',
    );
    refuses(
      () =>
        all({
          include: [
            {
              relation: 'messages',
              scope: {
                include: [
                  {
                    relation: 'messages',
                    scope: { include: [{ relation: 'messages', scope: { include: ['messages'] } }] },
                  },
                ],
              },
            },
          ],
        }),
      'filter.include[0]: is nested too deeply (at most 3 levels)',
    );
    refuses(() => all({ select: 'id' }), 'filter.select: is not a known filter property here');
    refuses(
      () => compileFilter({ where: { id: 'x' } }, MESSAGE_MODEL, { allowWhere: false }),
      'filter.where: is not a known filter property here',
    );
    const byId = compileFilter({ fields: ['id'] }, MESSAGE_MODEL, { allowWhere: false });
    assert.deepEqual(byId.fields?.({ id: 'm', body: 'b' }), { id: 'm' });
  });
});

describe('LoopBack filter compiler: query parameters', () => {
  it('reads a parameter sent as JSON', () => {
    assert.deepEqual(queryObject({ filter: '{"where":{"body":"hi"},"limit":5}' }, 'filter'), {
      where: { body: 'hi' },
      limit: 5,
    });
    assert.equal(queryObject({ filter: '  ' }, 'filter'), null);
    assert.equal(queryObject({}, 'filter'), null);
    assert.equal(queryObject(undefined, 'filter'), null);
    refuses(() => queryObject({ filter: '{"where":' }, 'filter'), 'filter: is not valid JSON');
    refuses(() => queryObject({ where: '[1]' }, 'where'), 'where: must be an object');
  });

  it('reads a parameter sent as a deep object; a repeated one counts once, the last', () => {
    const query = {
      'filter[where][body][like]': '%hi',
      'filter[limit]': ['5', '6'],
      'filter[order][0]': 'id DESC',
      'other[limit]': '1',
    };
    assert.deepEqual(queryObject(query, 'filter'), {
      where: { body: { like: '%hi' } },
      limit: '6',
      order: { 0: 'id DESC' },
    });
    assert.deepEqual(queryObject({ 'where[or][0][id]': 'a', 'where[or][1][id]': 'b' }, 'where'), {
      or: { 0: { id: 'a' }, 1: { id: 'b' } },
    });
  });

  it('refuses deep-object keys that could reach a prototype or nest without end', () => {
    refuses(
      () => queryObject({ 'filter[where][__proto__][x]': '1' }, 'filter'),
      'filter[where][__proto__][x]: is not a valid parameter',
    );
    refuses(
      () => queryObject({ 'where[constructor]': '1' }, 'where'),
      'where[constructor]: is not a valid parameter',
    );
    refuses(() => queryObject({ 'filter[': '1' }, 'filter'), 'filter[: is not a valid parameter');
    const deep = `where${'[and][0]'.repeat(8)}[id]`;
    refuses(() => queryObject({ [deep]: '1' }, 'where'), `${deep}: is not a valid parameter`);
  });

  it('compiles ?where= and ?filter= from the query in one step', () => {
    assert.deepEqual(whereParam({ 'where[channelId]': 'c' }, MESSAGE_MODEL), {
      field: 'chatId',
      op: '=',
      value: 'c',
    });
    assert.equal(whereParam({}, MESSAGE_MODEL), null);
    const { filter } = filterParam(
      { 'filter[where][createdOn][gt]': '2024-01-01T00:00:00Z', 'filter[limit]': '2', 'filter[skip]': '4' },
      MESSAGE_MODEL,
      { allowWhere: true },
    );
    assert.deepEqual(filter, {
      where: { field: 'createdAt', op: '>', value: '2024-01-01T00:00:00.000Z' },
      order: [],
      offset: 4,
      limit: 2,
    });
  });
});

describe('LoopBack filter compiler: both', () => {
  it('joins the conditions present with and', () => {
    const a = { field: 'id', op: '=', value: 'a' } as const;
    const b = { field: 'text', op: '=', value: 'b' } as const;
    assert.equal(both(), null);
    assert.equal(both(null, null), null);
    assert.deepEqual(both(a, null), a);
    assert.deepEqual(both(null, a, b), { and: [a, b] });
  });
});
