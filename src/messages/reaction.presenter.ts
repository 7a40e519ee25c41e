import type { ReactionView } from './reaction.schema.ts';

/** Reaction counts grouped by message, in the order read (first reacted first), `me` from the viewer's own rows. */
export function groupReactions(
  counts: { seq: number; emoji: string; count: number }[],
  mine: { seq: number; emoji: string }[] = [],
): Map<number, ReactionView[]> {
  const own = new Set(mine.map((r) => `${r.seq}|${r.emoji}`));
  const bySeq = new Map<number, ReactionView[]>();
  for (const { seq, emoji, count } of counts) {
    const list = bySeq.get(seq) ?? [];
    list.push({ emoji, count, me: own.has(`${seq}|${emoji}`) });
    bySeq.set(seq, list);
  }
  return bySeq;
}
