// @ts-check
// The page's elements, by id, and a small element builder.

/**
 * @template {HTMLElement} T
 * @param {string} id
 * @param {new () => T} type
 * @returns {T}
 */
function $(id, type) {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`#${id} is missing`);
  }
  return element;
}

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string | null)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'class') {
      element.className = value;
    } else {
      element.setAttribute(name, value);
    }
  }
  for (const child of children) {
    if (child !== null) {
      element.append(child);
    }
  }
  return element;
}

export const ui = {
  signin: $('signin', HTMLElement),
  signinForm: $('signin-form', HTMLFormElement),
  signinUser: $('signin-user', HTMLInputElement),
  signinTokenRow: $('signin-token-row', HTMLLabelElement),
  signinToken: $('signin-token', HTMLTextAreaElement),
  signinError: $('signin-error', HTMLParagraphElement),
  quickUsers: $('quick-users', HTMLDivElement),
  app: $('app', HTMLDivElement),
  profileOpen: $('profile-open', HTMLButtonElement),
  meAvatar: $('me-avatar', HTMLSpanElement),
  meName: $('me-name', HTMLElement),
  meId: $('me-id', HTMLElement),
  signout: $('signout', HTMLButtonElement),
  search: $('search', HTMLInputElement),
  newChat: $('new-chat', HTMLButtonElement),
  chatList: $('chat-list', HTMLUListElement),
  searchResults: $('search-results', HTMLUListElement),
  connectionDot: $('connection-dot', HTMLSpanElement),
  connectionText: $('connection-text', HTMLSpanElement),
  empty: $('empty', HTMLDivElement),
  chatHead: $('chat-head', HTMLElement),
  back: $('back', HTMLButtonElement),
  membersOpen: $('members-open', HTMLButtonElement),
  pinsOpen: $('pins-open', HTMLButtonElement),
  pinsCount: $('pins-count', HTMLSpanElement),
  pinsPanel: $('pins-panel', HTMLElement),
  pinsList: $('pins-list', HTMLUListElement),
  chatAvatar: $('chat-avatar', HTMLSpanElement),
  chatTitle: $('chat-title', HTMLHeadingElement),
  chatSubtitle: $('chat-subtitle', HTMLElement),
  messages: $('messages', HTMLOListElement),
  typing: $('typing', HTMLParagraphElement),
  composerNotice: $('composer-notice', HTMLParagraphElement),
  composerContext: $('composer-context', HTMLDivElement),
  composerContextTitle: $('composer-context-title', HTMLElement),
  composerContextText: $('composer-context-text', HTMLSpanElement),
  composerContextCancel: $('composer-context-cancel', HTMLButtonElement),
  composer: $('composer', HTMLFormElement),
  composerText: $('composer-text', HTMLTextAreaElement),
  composerFiles: $('composer-files', HTMLUListElement),
  attach: $('attach', HTMLButtonElement),
  fileInput: $('file-input', HTMLInputElement),
  composerMentions: $('composer-mentions', HTMLUListElement),
  chatOptions: $('chat-options', HTMLButtonElement),
  chatMenu: $('chat-menu', HTMLDivElement),
  signinAdmin: $('signin-admin', HTMLInputElement),
  reportsOpen: $('reports-open', HTMLButtonElement),
  reportsCount: $('reports-count', HTMLSpanElement),
  reportsDialog: $('reports-dialog', HTMLDialogElement),
  reportsList: $('reports-list', HTMLUListElement),
  reportsError: $('reports-error', HTMLParagraphElement),
  reportsClose: $('reports-close', HTMLButtonElement),
  chatMutedUntil: $('chat-muted-until', HTMLParagraphElement),
  chatMuteHour: $('chat-mute-hour', HTMLButtonElement),
  chatMuteDay: $('chat-mute-day', HTMLButtonElement),
  chatMute: $('chat-mute', HTMLButtonElement),
  chatHide: $('chat-hide', HTMLButtonElement),
  chatArchive: $('chat-archive', HTMLButtonElement),
  chatBlock: $('chat-block', HTMLButtonElement),
  threadPanel: $('thread-panel', HTMLElement),
  threadBack: $('thread-back', HTMLButtonElement),
  threadClose: $('thread-close', HTMLButtonElement),
  threadTitle: $('thread-title', HTMLHeadingElement),
  threadSubtitle: $('thread-subtitle', HTMLElement),
  threadMessages: $('thread-messages', HTMLOListElement),
  threadComposer: $('thread-composer', HTMLFormElement),
  threadText: $('thread-text', HTMLTextAreaElement),
  threadAlso: $('thread-also', HTMLInputElement),
  threadMentions: $('thread-mentions', HTMLUListElement),
  dialog: $('new-chat-dialog', HTMLDialogElement),
  dialogForm: $('new-chat-form', HTMLFormElement),
  userSearch: $('user-search', HTMLInputElement),
  userPicker: $('user-picker', HTMLUListElement),
  groupName: $('group-name', HTMLInputElement),
  dialogError: $('new-chat-error', HTMLParagraphElement),
  dialogCancel: $('new-chat-cancel', HTMLButtonElement),
  menu: $('message-menu', HTMLDivElement),
  menuEmoji: $('menu-emoji', HTMLDivElement),
  menuReply: $('menu-reply', HTMLButtonElement),
  menuThread: $('menu-thread', HTMLButtonElement),
  menuEdit: $('menu-edit', HTMLButtonElement),
  menuPin: $('menu-pin', HTMLButtonElement),
  menuDelete: $('menu-delete', HTMLButtonElement),
  menuReport: $('menu-report', HTMLButtonElement),
  groupDialog: $('group-dialog', HTMLDialogElement),
  groupTitle: $('group-title', HTMLHeadingElement),
  groupMembers: $('group-members', HTMLUListElement),
  groupAddSearch: $('group-add-search', HTMLInputElement),
  groupCandidates: $('group-candidates', HTMLUListElement),
  groupBansBox: $('group-bans-box', HTMLElement),
  groupBans: $('group-bans', HTMLUListElement),
  groupError: $('group-error', HTMLParagraphElement),
  groupLeave: $('group-leave', HTMLButtonElement),
  groupClose: $('group-close', HTMLButtonElement),
  profileDialog: $('profile-dialog', HTMLDialogElement),
  profileForm: $('profile-form', HTMLFormElement),
  profileStatus: $('profile-status', HTMLSelectElement),
  profileStatusText: $('profile-status-text', HTMLInputElement),
  profileError: $('profile-error', HTMLParagraphElement),
  profileCancel: $('profile-cancel', HTMLButtonElement),
  toast: $('toast', HTMLDivElement),
};
