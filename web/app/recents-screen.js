// recents-screen.js: the start screen's list of recent images (recents.js
// renders it) with reopen, forget and clear all.

import { $ } from './dom.js';
import { handles, renderRecents } from './recents.js';
import { keepChoice, setKeepChoice } from './keeping.js';
import { notify } from './notices.js';
import { reopenRecent } from './opening.js';
import * as api from '../vhdxview.js';

export async function refreshRecents() {
  const root = $('#recents');
  let data;
  try {
    data = await api.recent();
  } catch (e) {
    data = { error: e };
  }
  const keys = await handles.all();
  renderRecents(root, data, keys, {
    keepCopies: keepChoice() === 'yes',
    setKeepCopies: (on) => { setKeepChoice(on ? 'yes' : 'no'); refreshRecents(); },
    reopen: (rec, how) => reopenRecent(rec, how),
    forget: async (rec) => {
      try {
        await api.forget(rec.key);
        await handles.delete(rec.key);
      } catch (e) {
        notify({ title: `Cannot forget ${rec.name}`, next: 'Try again; if it keeps failing, clear the site\'s data in the browser settings.', error: e });
      }
      refreshRecents();
    },
    clear: async () => {
      if (!window.confirm('Forget every remembered image and delete the stored copies?')) return;
      try {
        await api.forgetAll();
        await handles.clear();
      } catch (e) {
        notify({ title: 'Cannot clear the recent images', next: 'Try again, or clear the site\'s data in the browser settings.', error: e });
      }
      refreshRecents();
    },
  });
}
