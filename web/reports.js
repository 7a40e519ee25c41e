// @ts-check
// A tenant administrator's reports: members' reports of messages, oldest first, each resolved with an action
// (delete the message, mute its author for an hour, ban its author, or dismiss). Only an administrator's token
// shows the button; the server refuses anyone else.
import { ParleyError } from './parley-client.js';
import { el, ui } from './dom.js';
import { toast } from './moderation.js';
import { nameOf, paintAvatar, timeOf, titleOf } from './names.js';
import { state, client, loadUsers } from './state.js';

/**
 * @typedef {import('./parley-client.js').ReportView} ReportView
 * @typedef {import('./parley-client.js').ReportAction} ReportAction
 */

/** @type {ReportView[]} the open reports, oldest first */
let open = [];

/** The open reports again from the server: the button's count, and the list when the dialog is open. */
export async function loadReports() {
  ui.reportsOpen.hidden = !state.admin;
  if (!state.admin) {
    return;
  }
  const page = await client().listReports({ status: 'open', limit: 100 });
  await loadUsers(page.data.flatMap((report) => [report.reporterId, report.authorId]));
  open = page.data;
  ui.reportsCount.hidden = open.length === 0;
  ui.reportsCount.textContent = String(open.length);
  renderReports();
}

function renderReports() {
  if (open.length === 0) {
    ui.reportsList.replaceChildren(el('li', { class: 'none muted' }, ['No open reports.']));
    return;
  }
  ui.reportsList.replaceChildren(...open.map(itemOf));
}

/** One report: who reported whose message where, the message, the reason, the actions. @param {ReportView} report */
function itemOf(report) {
  const chat = state.chats.get(report.chatId);
  const where = chat ? titleOf(chat) : 'a chat you are not in';
  const author = nameOf(report.authorId);
  /** @type {[string, ReportAction, string][]} label, action, what the toast says */
  const actions = [
    ['Delete message', 'delete_message', 'The message was deleted.'],
    [`Mute ${author} for 1 hour`, 'mute_author', `${author} is muted in that chat for an hour.`],
    [`Ban ${author}`, 'ban_author', `${author} is banned from that chat.`],
    ['Dismiss', 'dismiss', 'The report was dismissed.'],
  ];
  return el('li', { class: 'report', 'data-report-id': report.id }, [
    el('div', { class: 'report-head' }, [
      paintAvatar(el('span', { class: 'avatar small' }), author),
      el('span', {}, [
        el('strong', {}, [author]),
        el('small', { class: 'muted' }, [
          ` in ${where} · reported by ${nameOf(report.reporterId)} at ${timeOf(report.createdAt)}`,
        ]),
      ]),
    ]),
    el('blockquote', { class: `report-text${report.text === null ? ' deleted' : ''}` }, [
      report.text ?? 'This message was deleted.',
    ]),
    el('p', { class: 'report-reason' }, [`Reason: ${report.reason}`]),
    el(
      'div',
      { class: 'report-actions' },
      actions.map(([label, action, done]) => {
        const button = el(
          'button',
          { type: 'button', class: `ghost small${action === 'dismiss' ? '' : ' danger'}` },
          [label],
        );
        button.addEventListener('click', () => void resolve(report, action, done));
        return button;
      }),
    ),
  ]);
}

/**
 * @param {ReportView} report
 * @param {ReportAction} action
 * @param {string} done
 */
async function resolve(report, action, done) {
  ui.reportsError.textContent = '';
  try {
    await client().resolveReport(report.id, {
      action,
      ...(action === 'mute_author' ? { until: new Date(Date.now() + 3600_000).toISOString() } : {}),
    });
    toast(done);
  } catch (error) {
    // Another administrator resolved it first (409), or the action does not fit the chat (a ban in a direct chat).
    ui.reportsError.textContent =
      error instanceof ParleyError
        ? error.message.charAt(0).toUpperCase() + error.message.slice(1)
        : String(error);
  }
  await loadReports();
}

ui.reportsOpen.addEventListener('click', () => {
  ui.reportsError.textContent = '';
  renderReports();
  ui.reportsDialog.showModal();
  void loadReports();
});
ui.reportsClose.addEventListener('click', () => ui.reportsDialog.close());
