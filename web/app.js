// @ts-check
// The demo chat page: plain ES modules over the typed client, which the server bundles as ./parley-client.js.
// Each module is one concern; importing them wires their controls.
import './composer.js';
import './members.js';
import './menu.js';
import './new-chat.js';
import './profile.js';
import './search.js';
import './settings.js';
import './thread.js';
import { showSignin, enter } from './signin.js';
import { SESSION_KEY } from './state.js';

// ---- start ---------------------------------------------------------------------------------------------------

const saved = sessionStorage.getItem(SESSION_KEY);
if (saved) {
  enter(saved).catch(() => {
    sessionStorage.removeItem(SESSION_KEY);
    showSignin();
  });
} else {
  showSignin();
}
