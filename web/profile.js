// @ts-check
// Your profile: presence and status message.
import { ui } from './dom.js';
import { renderMe } from './signin.js';
import { state, client } from './state.js';

/**
 * @typedef {import('./parley-client.js').UserStatus} UserStatus
 */

ui.profileOpen.addEventListener('click', () => {
  ui.profileError.textContent = '';
  ui.profileStatus.value = state.me?.status ?? 'online';
  ui.profileStatusText.value = state.me?.statusText ?? '';
  ui.profileDialog.showModal();
});
ui.profileCancel.addEventListener('click', () => ui.profileDialog.close());

ui.profileForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = /** @type {UserStatus} */ (ui.profileStatus.value);
  const statusText = ui.profileStatusText.value.trim();
  try {
    const me = await client().updateMe({ status, statusText: statusText === '' ? null : statusText });
    state.me = me;
    state.users.set(me.id, me);
    renderMe();
    ui.profileDialog.close();
  } catch (error) {
    ui.profileError.textContent = error instanceof Error ? error.message : String(error);
  }
});
