import Type from 'typebox';

/** The `rev` every change event carries: its place in the chat's change log (docs/stream.md, "Changes"). */
export const ChangeRev = Type.Integer({
  minimum: 1,
  description:
    'The change’s place in the chat’s change log: within a chat, change events arrive in `rev` order with no gap, ' +
    'each once; a resume replays those after the `changes` cursor.',
});
