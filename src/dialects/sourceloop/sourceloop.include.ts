import type { Actor } from '../../auth/actor.ts';
import type { Context } from '../../context.ts';
import type { FilterCondition } from '../../messages/message.filter.ts';
import { attachments } from './sourceloop.attachment.operations.ts';
import { both, type CompiledFilter, type Inclusion } from './sourceloop.filter.ts';
import { messages } from './sourceloop.message.operations.ts';
import type { ResourceOperations } from './sourceloop.operations.ts';
import { recipients } from './sourceloop.recipient.operations.ts';

/** At most this many related rows are read per relation and request (each parent then keeps its scope's limit). */
const INCLUDE_LIMIT = 1000;

type Operations = ResourceOperations<string, unknown, object, object>;
type Shown = Record<string, unknown>;

/**
 * A relation of the package's models: the related resource, whether a row has many of them, the property of the
 * row holding the key, and the related resource's filter field and shown property matched against it.
 */
interface Relation {
  target: Operations;
  many: boolean;
  sourceKey: string;
  targetField: string;
  targetKey: string;
}

const toMessage = (sourceKey: string): Relation => ({
  target: messages as unknown as Operations,
  many: false,
  sourceKey,
  targetField: 'id',
  targetKey: 'id',
});

/** The relations by model name, as message.model.ts, message-recipient.model.ts and attachment-file.model.ts. */
const RELATIONS: Record<string, Record<string, Relation>> = {
  Message: {
    messages: {
      target: messages as unknown as Operations,
      many: true,
      sourceKey: 'id',
      targetField: 'parentId',
      targetKey: 'parentMessageId',
    },
    parentMessage: toMessage('parentMessageId'),
    messageRecipients: {
      target: recipients as unknown as Operations,
      many: true,
      sourceKey: 'id',
      targetField: 'messageId',
      targetKey: 'messageId',
    },
    attachmentFiles: {
      target: attachments as unknown as Operations,
      many: true,
      sourceKey: 'id',
      targetField: 'messageId',
      targetKey: 'messageId',
    },
  },
  MessageRecipient: { message: toMessage('messageId') },
  AttachmentFile: { message: toMessage('messageId') },
};

/** Each row shown with its `fields`, and the relations its `include` names (only what the caller may see). */
async function present(
  ctx: Context,
  actor: Actor,
  resource: Operations,
  views: Shown[],
  { fields, include }: CompiledFilter<string>,
): Promise<Shown[]> {
  const shown = views.map((view) => (fields ? fields(view) : { ...view }));
  for (const inclusion of include) {
    await attach(ctx, actor, resource, views, shown, inclusion);
  }
  return shown;
}

/**
 * Reads one relation of every row at once (one query, its keys a bound list) and adds it to each: a list for
 * has-many (each parent keeps its scope's skip and limit), the row for belongs-to; a row without any is left
 * without the property, as LoopBack leaves it.
 */
async function attach(
  ctx: Context,
  actor: Actor,
  resource: Operations,
  views: Shown[],
  shown: Shown[],
  { relation, scope }: Inclusion,
): Promise<void> {
  const spec = RELATIONS[resource.model.name]?.[relation];
  const keys = [...new Set(views.map((view) => view[spec?.sourceKey ?? '']))].filter(
    (key): key is string => typeof key === 'string',
  );
  if (!spec || keys.length === 0) {
    return;
  }
  const byKey: FilterCondition<string> = { field: spec.targetField, op: 'in', value: keys };
  const rows = await spec.target.find(ctx, actor, {
    where: both(byKey, scope.filter.where),
    order: scope.filter.order,
    offset: 0,
    limit: INCLUDE_LIMIT,
  });
  const related = rows.map((row) => spec.target.show(row) as Shown);
  const relatedShown = await present(ctx, actor, spec.target, related, scope);
  const groups = new Map<unknown, Shown[]>();
  related.forEach((row, i) => {
    const group = groups.get(row[spec.targetKey]) ?? [];
    group.push(relatedShown[i] as Shown);
    groups.set(row[spec.targetKey], group);
  });
  views.forEach((view, i) => {
    const group = groups.get(view[spec.sourceKey]);
    const target = shown[i] as Shown;
    if (!group) {
      return;
    }
    target[relation] = spec.many
      ? group.slice(scope.filter.offset, scope.filter.offset + scope.filter.limit)
      : group[0];
  });
}

/**
 * The views of a list the services share (a cached one is frozen, and handed out again while its chat is
 * unchanged), shown whole: made once per list and kept as long as the list is, then shared in turn.
 */
const shownLists = new WeakMap<readonly unknown[], readonly Shown[]>();

/** The rows matching a compiled filter within `scope` (null: all the caller's), with its fields and relations. */
export async function listIncluding<F extends string, Row, View extends object, Body extends object>(
  ctx: Context,
  resource: ResourceOperations<F, Row, View, Body>,
  actor: Actor,
  compiled: CompiledFilter<F>,
  scope: FilterCondition<F> | null,
): Promise<readonly Shown[]> {
  const rows = await resource.find(ctx, actor, {
    ...compiled.filter,
    where: both(scope, compiled.filter.where),
  });
  const whole = !compiled.fields && compiled.include.length === 0;
  if (whole && Object.isFrozen(rows)) {
    const known = shownLists.get(rows);
    if (known) {
      return known;
    }
    const shown = Object.freeze(rows.map((row) => Object.freeze(resource.show(row) as Shown)));
    shownLists.set(rows, shown);
    return shown;
  }
  const operations = resource as unknown as Operations;
  return present(
    ctx,
    actor,
    operations,
    rows.map((row) => resource.show(row) as Shown),
    compiled as CompiledFilter<string>,
  );
}

/** One row by id, with its fields and relations. */
export async function showIncluding<F extends string, Row, View extends object, Body extends object>(
  ctx: Context,
  resource: ResourceOperations<F, Row, View, Body>,
  actor: Actor,
  id: string,
  compiled: CompiledFilter<F>,
): Promise<Shown> {
  const view = resource.show(await resource.get(ctx, actor, id)) as Shown;
  const operations = resource as unknown as Operations;
  const [shown] = await present(ctx, actor, operations, [view], compiled as CompiledFilter<string>);
  return shown ?? view;
}
