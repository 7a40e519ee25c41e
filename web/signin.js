// @ts-check
// Signing in (a development token, or a pasted one) and out.
import { ParleyClient } from './parley-client.js';
import { loadChats } from './chats.js';
import { el, ui } from './dom.js';
import { connect } from './live.js';
import { loadBlocks } from './moderation.js';
import { loadReports } from './reports.js';
import { paintAvatar } from './names.js';
import { BASE, DEFAULT_USERS, SESSION_KEY, RECENT_KEY, state } from './state.js';

export function recentUsers() {
  try {
    const stored = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(stored) ? stored.filter((id) => typeof id === 'string') : [];
  } catch {
    return [];
  }
}

export function showSignin() {
  ui.app.hidden = true;
  ui.signin.hidden = false;
  ui.quickUsers.replaceChildren(
    ...[...new Set([...recentUsers(), ...DEFAULT_USERS])].slice(0, 8).map((id) => {
      const button = el('button', { type: 'button' }, [paintAvatar(el('span', { class: 'avatar' }), id), id]);
      button.addEventListener('click', () => {
        ui.signinUser.value = id;
        ui.signinForm.requestSubmit();
      });
      return button;
    }),
  );
  ui.signinUser.focus();
}

/**
 * @param {string} userId
 * @param {boolean} [admin] a tenant administrator's token
 */
export async function devToken(userId, admin = false) {
  const response = await fetch(`${BASE}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin ? { userId, admin } : { userId }),
  });
  if (response.status === 404) {
    return null;
  }
  const body = await response.json();
  if (!response.ok) {
    throw new Error(body?.error?.message ?? `HTTP ${response.status}`);
  }
  return /** @type {string} */ (body.token);
}

ui.signinForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  ui.signinError.textContent = '';
  const userId = ui.signinUser.value.trim();
  try {
    const token = ui.signinTokenRow.hidden
      ? await devToken(userId, ui.signinAdmin.checked)
      : ui.signinToken.value.trim();
    if (token === null) {
      ui.signinTokenRow.hidden = false;
      ui.signinError.textContent = 'Paste a token for this server.';
      return;
    }
    await enter(token);
    localStorage.setItem(
      RECENT_KEY,
      JSON.stringify([userId, ...recentUsers().filter((id) => id !== userId)]),
    );
  } catch (error) {
    ui.signinError.textContent = error instanceof Error ? error.message : String(error);
  }
});

ui.signout.addEventListener('click', () => {
  sessionStorage.removeItem(SESSION_KEY);
  state.stream?.close();
  location.reload();
});

/** @param {string} token */
export async function enter(token) {
  const parley = new ParleyClient({ baseUrl: BASE, token });
  const me = await parley.me();
  sessionStorage.setItem(SESSION_KEY, token);
  state.client = parley;
  state.me = me;
  state.admin = rolesOf(token).includes('admin');
  state.users.set(me.id, me);
  ui.signin.hidden = true;
  ui.app.hidden = false;
  renderMe();
  await Promise.all([loadChats(), loadBlocks(), state.admin ? loadReports() : undefined]);
  connect();
}

/**
 * The token's `roles` claim (a tenant administrator's has "admin"): the page only shows or hides the Reports
 * button by it; the server checks the signature and refuses anyone else.
 * @param {string} token
 * @returns {string[]}
 */
function rolesOf(token) {
  try {
    const part = token.split('.')[1] ?? '';
    const payload = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
    return Array.isArray(payload.roles)
      ? payload.roles.filter((/** @type {unknown} */ role) => typeof role === 'string')
      : [];
  } catch {
    return [];
  }
}

export function renderMe() {
  const me = state.me;
  if (!me) {
    return;
  }
  ui.meName.textContent = me.displayName ?? me.username;
  ui.meId.textContent = me.statusText ? `@${me.username} · ${me.statusText}` : `@${me.username}`;
  paintAvatar(ui.meAvatar, me.displayName ?? me.username);
  ui.meAvatar.classList.toggle('busy', me.status === 'busy');
}
