// @ts-check
// Live: the stream's events applied to the page.
import { loadChats, renderChats } from './chats.js';
import { ui } from './dom.js';
import { lowestShown, showPane, renderHead, markRead, renderTyping } from './history.js';
import { renderGroup } from './members.js';
import { applyReaction } from './menu.js';
import { showMessage } from './message-view.js';
import { applyPin, loadPins, pinnedMessageChanged } from './pins.js';
import { loadReceipts, readerMoved } from './receipts.js';
import { mentionCounts } from './mentions.js';
import { applyMute, loadModeration, moderates, toast } from './moderation.js';
import { applySettings } from './settings.js';
import { state, client, loadUsers, loadMembers } from './state.js';
import { reloadThread, threadMessageChanged, threadReplyArrived, threadSummaryChanged } from './thread.js';

/**
 * @typedef {import('./parley-client.js').MessageView} MessageView
 */

/** @param {string} text @param {boolean} live */
export function connection(text, live) {
  ui.connectionText.textContent = text;
  ui.connectionDot.classList.toggle('live', live);
}

export function connect() {
  // The stream continues each chat after the last message the list showed: nothing between them is missed.
  const cursors = Object.fromEntries(
    [...state.chats.values()].map((chat) => [chat.id, chat.lastMessage?.seq ?? 0]),
  );
  const stream = client().stream({ cursors });
  state.stream = stream;

  stream.on('resumed', () => {
    connection('live', true);
    // After a reconnect: counts and new chats from the server, in case the page missed a change to the list. The
    // resume replayed the missed messages and changes (edits, deletions, reactions, pins) of each chat, in order;
    // read cursors are not replayed, so the open chat's "Seen" is read again.
    if (stream.connections > 1) {
      void loadChats();
      if (state.open) {
        void loadReceipts(state.open);
      }
    }
  });
  stream.on('disconnect', ({ reconnectInMs }) => {
    connection(
      reconnectInMs === null ? 'offline' : `reconnecting in ${Math.ceil(reconnectInMs / 1000)} s…`,
      false,
    );
  });

  stream.on('message.created', async ({ chatId, message }) => {
    const chat = state.chats.get(chatId);
    if (!chat) {
      return;
    }
    if (chat.settings?.hidden) {
      // A new message brings a hidden chat back to the list (the server unhides it too).
      chat.settings = { ...chat.settings, hidden: false };
    }
    await loadUsers([message.authorId]);
    state.typing.get(chatId)?.delete(message.authorId);
    if (message.threadRoot !== null) {
      await threadReplyArrived(chatId, message);
      if (!message.alsoInChat) {
        // A thread-only reply: in its thread, not in the main history, the list's preview or its unread count.
        return;
      }
    }
    chat.lastMessage = message;
    chat.lastMessageAt = message.createdAt;
    chat.messageCount += 1;
    const mine = message.authorId === state.me?.id;
    if (!mine && message.seq > chat.lastReadSeq) {
      chat.unreadCount += 1;
    }
    if (state.open === chatId) {
      // Opened at a search hit, the page shows the newer history as it is scrolled down to.
      if (state.atEnd) {
        showMessage(message);
      }
      renderTyping();
      await markRead();
    }
    renderChats();
  });

  stream.on('thread.updated', ({ chatId, seq, thread }) => {
    threadSummaryChanged(chatId, seq, thread);
    const root = state.open === chatId ? state.messages.get(seq) : undefined;
    if (root && state.shown.has(seq)) {
      showMessage({ ...root, thread }, { scroll: false });
    }
  });
  stream.on('mention.created', ({ chatId, message }) => {
    if (message.authorId === state.me?.id || state.open === chatId) {
      return;
    }
    mentionCounts.set(chatId, (mentionCounts.get(chatId) ?? 0) + 1);
    renderChats();
  });
  stream.on('settings.updated', ({ chatId, settings }) => applySettings(chatId, settings));
  // An administrator acted on your report: you are told what they did.
  stream.on('report.resolved', ({ action }) => {
    toast(
      action === 'dismiss'
        ? 'An administrator looked at your report and took no action.'
        : `An administrator acted on your report: ${REPORT_ACTIONS[action]}.`,
    );
  });

  stream.on('reaction.added', ({ chatId, seq, emoji, userId, count }) => {
    applyReaction(chatId, seq, emoji, count, userId === state.me?.id ? true : null);
  });
  stream.on('reaction.removed', ({ chatId, seq, emoji, userId, count }) => {
    applyReaction(chatId, seq, emoji, count, userId === state.me?.id ? false : null);
  });
  stream.on('message.pinned', ({ chatId, seq, pinnedAt, pinnedBy }) => {
    void applyPin(chatId, seq, pinnedAt, pinnedBy);
  });
  stream.on('message.unpinned', ({ chatId, seq }) => {
    void applyPin(chatId, seq, null, null);
  });
  // The changes missed are no longer kept: the open chat's messages and pins again from the server.
  stream.on('chat.resync', ({ chatId }) => {
    if (state.open === chatId) {
      void refreshShown();
      void loadPins(chatId);
      void reloadThread(chatId);
    }
  });

  /** @param {{ chatId: string, message: MessageView }} event */
  const changed = ({ chatId, message }) => {
    const chat = state.chats.get(chatId);
    if (chat?.lastMessage?.seq === message.seq) {
      chat.lastMessage = message;
      renderChats();
    }
    if (state.open !== chatId) {
      return;
    }
    threadMessageChanged(chatId, message);
    if (state.shown.has(message.seq)) {
      showMessage(message, { scroll: false });
    }
    pinnedMessageChanged(message);
  };
  stream.on('message.updated', changed);
  stream.on('message.deleted', changed);

  stream.on('chat.created', async ({ chat }) => {
    state.chats.set(chat.id, chat);
    await loadMembers(chat.id);
    renderChats();
  });
  stream.on('chat.updated', ({ chat }) => {
    state.chats.set(chat.id, { ...state.chats.get(chat.id), ...chat });
    renderChats();
    renderHead();
  });
  stream.on('chat.deleted', ({ chat }) => forget(chat.id));
  stream.on('member.added', async ({ chatId, userId }) => {
    if (userId === state.me?.id && !state.chats.has(chatId)) {
      const chat = await client().getChat(chatId);
      state.chats.set(chat.id, chat);
      stream.follow(chat.id, chat.lastMessage?.seq ?? 0);
    }
    await membersChanged(chatId);
  });
  stream.on('member.removed', async ({ chatId, userId }) => {
    if (userId === state.me?.id) {
      forget(chatId);
      return;
    }
    await membersChanged(chatId);
  });
  // Moderation: a muted member is tagged in the panel (and told above their composer); a banned one loses the chat.
  stream.on('member.muted', ({ chatId, userId, until }) => {
    applyMute(chatId, userId, until);
    moderationChanged(chatId);
  });
  stream.on('member.unmuted', ({ chatId, userId }) => {
    applyMute(chatId, userId, undefined);
    moderationChanged(chatId);
  });
  stream.on('member.banned', async ({ chatId, userId }) => {
    if (userId === state.me?.id) {
      forget(chatId);
      return;
    }
    if (moderates(chatId)) {
      await loadModeration(chatId);
    }
    moderationChanged(chatId);
  });
  stream.on('member.unbanned', async ({ chatId }) => {
    if (moderates(chatId)) {
      await loadModeration(chatId);
    }
    moderationChanged(chatId);
  });
  stream.on('read.updated', async ({ chatId, userId, seq }) => {
    if (userId !== state.me?.id) {
      // Another member read up to seq: the "Seen" under your last message.
      await readerMoved(chatId, userId, seq);
      return;
    }
    // Read in another tab or device: the server's count is the truth.
    if (state.chats.has(chatId)) {
      state.chats.set(chatId, await client().getChat(chatId));
      renderChats();
    }
  });

  stream.on('typing', ({ chatId, userId }) => {
    let typists = state.typing.get(chatId);
    if (!typists) {
      typists = new Map();
      state.typing.set(chatId, typists);
    }
    typists.set(userId, Date.now() + 3000);
    renderTyping();
    renderChats();
    setTimeout(() => {
      renderTyping();
      renderChats();
    }, 3100);
  });

  stream.on('presence', async ({ userId, status }) => {
    const user = state.users.get(userId);
    if (user) {
      user.status = status;
    } else {
      await loadUsers([userId]);
    }
    renderChats();
    renderHead();
  });

  void stream.connect();
}

/** What an administrator's action on a report did, for its reporter. */
const REPORT_ACTIONS = {
  delete_message: 'the message was deleted',
  mute_author: 'its author was muted',
  ban_author: 'its author was banned from the chat',
  dismiss: 'none',
};

/** After `chat.resync`: the open chat's messages on screen, again from the server (their text, reactions, pins). */
export async function refreshShown() {
  const chatId = state.open;
  if (!chatId || state.shown.size === 0) {
    return;
  }
  const range = { after: lowestShown() - 1, before: Math.max(...state.shown.keys()) + 1 };
  let page = await client().listMessages(chatId, { ...range, limit: 200 });
  for (;;) {
    if (state.open !== chatId) {
      return;
    }
    for (const message of page.data) {
      if (state.shown.has(message.seq)) {
        showMessage(message, { scroll: false });
      }
    }
    if (page.nextCursor === null) {
      return;
    }
    page = await client().listMessages(chatId, { cursor: page.nextCursor, limit: 200 });
  }
}

/** @param {string} chatId */
export async function membersChanged(chatId) {
  const chat = state.chats.get(chatId);
  if (!chat) {
    return;
  }
  await loadMembers(chatId);
  chat.memberCount = state.members.get(chatId)?.length ?? chat.memberCount;
  renderChats();
  renderHead();
  if (ui.groupDialog.open && state.open === chatId) {
    renderGroup();
  }
}

/** Shows a mute or ban in the open Members panel. @param {string} chatId */
function moderationChanged(chatId) {
  if (ui.groupDialog.open && state.open === chatId) {
    renderGroup();
  }
}

/** @param {string} chatId */
export function forget(chatId) {
  if (ui.groupDialog.open && state.open === chatId) {
    ui.groupDialog.close();
  }
  state.chats.delete(chatId);
  if (state.open === chatId) {
    state.open = null;
    ui.messages.replaceChildren();
    showPane(false);
  }
  renderChats();
}
