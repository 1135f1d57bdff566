// service-worker.js: registers sw.js (offline use) and tells about a new
// version; shows the engine build.

import { $ } from './dom.js';
import { notify } from './notices.js';
import { S } from './state.js';

export async function registerServiceWorker() {
  let version = 'dev';
  try {
    const r = await fetch('web/manifest.json', { cache: 'no-store' });
    if (r.ok) {
      const m = await r.json();
      version = String(m.version || m.hash || m.wasm_sha256 || version);
    }
  } catch { /* offline and not cached yet */ }
  $('#version').textContent = version === 'dev' ? '' : `Engine ${version.slice(0, 12)}.`;
  if (version !== 'dev') S.pageBuild = version;
  if (!('serviceWorker' in navigator)) return;
  try {
    const hadController = !!navigator.serviceWorker.controller;
    await navigator.serviceWorker.register(`sw.js?v=${encodeURIComponent(version)}`, { scope: './' });
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (!hadController) return; // first install: nothing to update
      notify({ kind: 'info', id: 'update', title: 'A new version of vhdxview is ready', next: 'Reload to use it (open images will be closed).', actions: [{ label: 'Reload', primary: true, fn: () => location.reload() }] });
    });
  } catch (e) {
    notify({ kind: 'warn', id: 'sw', title: 'Offline use is not available', next: 'The page works, but will not open without a network connection.', error: e });
  }
}
