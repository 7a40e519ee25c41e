// @ts-check
// Moderation (docs/moderation.md): a group's owners and admins mute and ban members from the Members panel, anyone
// reports a message, and you block the other member of a direct chat. The composer says why a send was refused.
import { ParleyError } from './parley-client.js';
import { el, ui } from './dom.js';
import { clockOf, nameOf, paintAvatar } from './names.js';
import { state, client, myRole } from './state.js';

/**
 * @typedef {import('./parley-client.js').Role} Role
 */

const HOUR_MS = 3600 * 1000;

/**
 * Whether the caller moderates the chat: a group's owners and admins (tenant administrators too, whom the demo's
 * sign-in does not make).
 * @param {string} chatId
 */
export function moderates(chatId) {
  const role = myRole(chatId);
  return state.chats.get(chatId)?.kind === 'group' && (role === 'owner' || role === 'admin');
}

/**
 * The mute in force of a member, if any: `undefined` when not muted, else when it ends (null: until unmuted).
 * @param {string} chatId
 * @param {string} userId
 * @returns {string | null | undefined}
 */
export function muteOf(chatId, userId) {
  const mutes = state.mutes.get(chatId);
  if (!mutes?.has(userId)) {
    return undefined;
  }
  const until = mutes.get(userId) ?? null;
  if (until !== null && Date.parse(until) <= Date.now()) {
    mutes.delete(userId);
    return undefined;
  }
  return until;
}

/**
 * Records a mute (from the API's answer, the stream or a refusal), or its end with `undefined`.
 * @param {string} chatId
 * @param {string} userId
 * @param {string | null | undefined} until
 */
export function applyMute(chatId, userId, until) {
  let mutes = state.mutes.get(chatId);
  if (!mutes) {
    mutes = new Map();
    state.mutes.set(chatId, mutes);
  }
  if (until === undefined) {
    mutes.delete(userId);
  } else {
    mutes.set(userId, until);
  }
  if (userId === state.me?.id && refusal?.chatId === chatId) {
    // The mute (or its end) says more than the last refusal did.
    refusal = null;
  }
  if (userId === state.me?.id && state.open === chatId) {
    renderNotice();
  }
}

/**
 * The chat's mutes and bans, for its moderators: the mutes in force from its moderation log (newest first, the
 * latest mute or unmute of each member decides), the bans from their list.
 * @param {string} chatId
 */
export async function loadModeration(chatId) {
  if (!moderates(chatId)) {
    state.bans.delete(chatId);
    return;
  }
  const answers = await Promise.all([
    client().chatModerationLog(chatId, { limit: 200 }),
    client().listBans(chatId, { limit: 200 }),
  ]).catch(() => null);
  if (!answers) {
    // No longer a moderator (a role changed meanwhile): the panel shows what the stream told.
    return;
  }
  const [log, bans] = answers;
  /** @type {Map<string, string | null>} */
  const mutes = new Map();
  const decided = new Set();
  for (const entry of log.data) {
    const userId = entry.targetUserId;
    if (!userId || decided.has(userId) || (entry.action !== 'mute' && entry.action !== 'unmute')) {
      continue;
    }
    decided.add(userId);
    if (entry.action === 'mute' && (entry.until === null || Date.parse(entry.until) > Date.now())) {
      mutes.set(userId, entry.until);
    }
  }
  state.mutes.set(chatId, mutes);
  state.bans.set(chatId, bans.data);
}

/** A member's "muted" tag in the Members panel. @param {string} chatId @param {string} userId */
export function mutedTag(chatId, userId) {
  const until = muteOf(chatId, userId);
  if (until === undefined) {
    return null;
  }
  return el('span', { class: 'tag muted-tag', title: until ? `Muted until ${clockOf(until)}` : 'Muted' }, [
    until ? `muted until ${clockOf(until)}` : 'muted',
  ]);
}

/**
 * Mute, unmute and ban for a row of the Members panel, as the API allows: an owner acts on anyone but themselves,
 * an admin on plain members.
 * @param {string} chatId
 * @param {string} userId
 * @param {Role} role
 * @param {(change: () => Promise<unknown>) => Promise<void>} run the panel's change, which shows a refusal
 */
export function moderationControls(chatId, userId, role, run) {
  const mine = myRole(chatId);
  const may = moderates(chatId) && userId !== state.me?.id && (mine === 'owner' || role === 'member');
  if (!may) {
    return null;
  }
  const name = nameOf(userId);
  const box = el('span', { class: 'member-actions' });
  /** @param {string} label @param {string} text @param {() => void} action @param {string} [kind] */
  const button = (label, text, action, kind = 'ghost') => {
    const item = el('button', { type: 'button', class: `${kind} small`, 'aria-label': label }, [text]);
    item.addEventListener('click', action);
    return item;
  };
  /** @param {string | undefined} until */
  const mute = (until) =>
    void run(async () => {
      const view = await client().muteMember(chatId, userId, until ? { until } : {});
      applyMute(chatId, userId, view.until);
    });
  const ban = button(
    `Ban ${name}`,
    'Ban',
    () => {
      if (
        !confirm(`Ban ${name} from this group? They are removed and cannot be added again until unbanned.`)
      ) {
        return;
      }
      void run(async () => {
        await client().banMember(chatId, userId);
        await loadModeration(chatId);
      });
    },
    'ghost danger',
  );
  const plain = () => {
    const muted = muteOf(chatId, userId) !== undefined;
    box.replaceChildren(
      muted
        ? button(`Unmute ${name}`, 'Unmute', () =>
            run(async () => {
              await client().unmuteMember(chatId, userId);
              applyMute(chatId, userId, undefined);
            }),
          )
        : button(`Mute ${name}…`, 'Mute…', choose),
      ban,
    );
  };
  const choose = () => {
    box.replaceChildren(
      button(`Mute ${name} for 1 hour`, '1 hour', () => mute(new Date(Date.now() + HOUR_MS).toISOString())),
      button(`Mute ${name} until unmuted`, 'Until unmuted', () => mute(undefined)),
      button('Cancel muting', '×', plain),
    );
    box.querySelector('button')?.focus();
  };
  plain();
  return box;
}

/**
 * The panel's list of banned users, each with "Unban", for moderators.
 * @param {(change: () => Promise<unknown>) => Promise<void>} run
 */
export function renderBans(run) {
  const chatId = state.open;
  const bans = chatId && moderates(chatId) ? (state.bans.get(chatId) ?? []) : [];
  ui.groupBansBox.hidden = bans.length === 0;
  ui.groupBans.replaceChildren(
    ...bans.map((ban) => {
      const name = nameOf(ban.userId);
      const unban = el('button', { type: 'button', class: 'ghost small', 'aria-label': `Unban ${name}` }, [
        'Unban',
      ]);
      unban.addEventListener('click', () => {
        if (!chatId) {
          return;
        }
        void run(async () => {
          await client().unbanMember(chatId, ban.userId);
          await loadModeration(chatId);
        });
      });
      return el('li', { 'data-user-id': ban.userId }, [
        paintAvatar(el('span', { class: 'avatar' }), name, ban.userId),
        el('span', { class: 'who' }, [
          el('span', {}, [name]),
          el('small', { class: 'muted' }, [`banned by ${nameOf(ban.bannedBy)}`]),
        ]),
        unban,
      ]);
    }),
  );
}

// ---- the composer's notice --------------------------------------------------------------------------------------

/** @type {{ chatId: string, text: string } | null} the last refusal of a send, shown until the next send or chat */
let refusal = null;

/**
 * What a refused send says: a muted member's refusal until when (from its `details`), else the API's message.
 * @param {unknown} error
 * @param {string} chatId
 */
export function refusalText(error, chatId) {
  if (!(error instanceof ParleyError)) {
    return 'Could not send.';
  }
  /** @type {{ reason?: unknown, until?: unknown } | undefined} */
  const muted = (error.details ?? [])
    .map((detail) => (typeof detail === 'object' && detail !== null ? detail : {}))
    .find((detail) => 'reason' in detail && detail.reason === 'muted');
  if (error.status === 403 && muted) {
    const until = typeof muted.until === 'string' ? muted.until : null;
    applyMute(chatId, state.me?.id ?? '', until);
    return mutedText(until);
  }
  return error.message.charAt(0).toUpperCase() + error.message.slice(1);
}

/** @param {string | null} until */
function mutedText(until) {
  return until ? `You are muted in this chat until ${clockOf(until)}` : 'You are muted in this chat';
}

/**
 * Shows why the composer's send was refused (null: the send went through).
 * @param {string} chatId
 * @param {string | null} text
 */
export function showRefusal(chatId, text) {
  refusal = text === null ? null : { chatId, text };
  renderNotice();
}

/** The line above the composer: you are muted here, you block the other member, or why the last send failed. */
export function renderNotice() {
  const chatId = state.open;
  const chat = chatId ? state.chats.get(chatId) : null;
  if (!chatId || !chat) {
    ui.composerNotice.hidden = true;
    return;
  }
  const until = muteOf(chatId, state.me?.id ?? '');
  const other = chat.kind === 'direct' ? otherOf(chatId) : null;
  let text = '';
  const blocking = until === undefined && other !== null && state.blocks.has(other);
  if (until !== undefined) {
    text = mutedText(until);
  } else if (other && blocking) {
    text = `You block ${nameOf(other)}: they cannot write to you here.`;
  } else if (refusal?.chatId === chatId) {
    text = refusal.text;
  }
  ui.composerNotice.textContent = text;
  ui.composerNotice.classList.toggle('info', blocking);
  ui.composerNotice.hidden = text === '';
}

/** The other member of a direct chat. @param {string} chatId */
export function otherOf(chatId) {
  return (state.members.get(chatId) ?? []).find((id) => id !== state.me?.id) ?? null;
}

// ---- blocks ------------------------------------------------------------------------------------------------------

/** The users you block (blocks are private: no event tells your other devices, so they are read at sign-in). */
export async function loadBlocks() {
  const page = await client().listBlocks({ limit: 200 });
  state.blocks = new Set(page.data.map((block) => block.userId));
}

/** Blocks the other member of the open direct chat, or unblocks them. */
export async function toggleBlock() {
  const chatId = state.open;
  const other = chatId ? otherOf(chatId) : null;
  if (!chatId || !other) {
    return;
  }
  const name = nameOf(other);
  try {
    if (state.blocks.has(other)) {
      await client().unblockUser(other);
      state.blocks.delete(other);
      toast(`You unblocked ${name}.`);
    } else {
      if (!confirm(`Block ${name}? They cannot write to you here or open a new direct chat with you.`)) {
        return;
      }
      await client().blockUser(other);
      state.blocks.add(other);
      toast(`You blocked ${name}. They are not told.`);
    }
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error));
  }
  renderNotice();
}

// ---- reports -----------------------------------------------------------------------------------------------------

/**
 * Reports someone else's message to the tenant's administrators, with a reason.
 * @param {string} chatId
 * @param {number} seq
 */
export async function reportMessage(chatId, seq) {
  const reason = prompt('Report this message to the administrators. What is wrong with it?')?.trim();
  if (!reason) {
    return;
  }
  try {
    await client().reportMessage(chatId, seq, reason.slice(0, 1000));
    toast('Thanks: the message was reported to the administrators.');
  } catch (error) {
    if (error instanceof ParleyError && error.status === 409) {
      toast('You have reported this message already.');
      return;
    }
    toast(error instanceof Error ? error.message : String(error));
  }
}

let toastTimer = 0;
/** A short message at the bottom of the page. @param {string} text */
export function toast(text) {
  clearTimeout(toastTimer);
  ui.toast.textContent = text;
  ui.toast.hidden = false;
  toastTimer = window.setTimeout(() => {
    ui.toast.hidden = true;
  }, 5000);
}
