// jobs.js: the page's one list of downloads: the whole disk, a range, the
// hex selection, a partition or a file. Each job shows its progress and a
// Cancel button while it runs, then what happened, in words that say only
// what the page knows:
//
//   - "Saved": the bytes were written into a file the person picked and
//     the file was closed (the page saw every write end).
//   - "Download started": a Blob was handed to the browser's downloads;
//     the page cannot know when (or whether) the browser finishes writing
//     it, so it never says "saved" for one.
//
// Finished jobs shrink to one line and stay until removed (✕) or cleared
// together (Clear finished), so they do not pile up over the page.

import { el, human, grouped, errorText } from './dom.js';
import { rangeText } from './download.js';

function isCancel(e, signal) {
  return (signal && signal.aborted) || (e && (e.name === 'AbortError' || e.name === 'CancelledError'));
}

// OUTCOMES says what a finished job's {how} means.
const OUTCOMES = {
  picker: (r) => `Saved where you chose, ${human(r.bytes)}${r.written !== undefined && r.written < r.bytes ? ` (${human(r.written)} of data; zero runs skipped)` : ''}`,
  'temporary file': (r) => `Download started, ${human(r.bytes)} (streamed through a temporary file)`,
  blob: (r) => `Download started, ${human(r.bytes)}: your browser saves it`,
};

export class DownloadList {
  // root is an empty element the list lives in.
  constructor(root) {
    this.root = root;
    this.jobs = new Set(); // AbortControllers of running jobs
    this.list = el('ul', { class: 'dl-jobs', id: 'downloads-list', 'aria-live': 'polite' });
    this.clearButton = el('button', { type: 'button', class: 'small', id: 'downloads-clear', text: 'Clear finished', hidden: true, on: { click: () => this.clearFinished() } });
    root.append(el('div', { class: 'dl-list-head' }, el('h2', { id: 'downloads-title', text: 'Downloads' }), this.clearButton), this.list);
    root.setAttribute('aria-labelledby', 'downloads-title');
    this.sync();
  }

  // sync shows the list only when it has jobs, and Clear only when some
  // have finished.
  sync() {
    const items = [...this.list.children];
    this.root.hidden = items.length === 0;
    this.clearButton.hidden = !items.some((li) => li.dataset.state !== 'running');
  }

  clearFinished() {
    for (const li of [...this.list.children]) if (li.dataset.state !== 'running') li.remove();
    this.sync();
  }

  // cancelAll stops every running job (the image they read was closed).
  cancelAll() {
    for (const ac of this.jobs) ac.abort();
  }

  // job adds a row and runs fn(signal, onProgress) -> {bytes, how,
  // written?, filled?}, how being "picker", "temporary file" or "blob"
  // (see OUTCOMES); filled lists the ranges written as zeros because
  // they could not be read ({offset, length, blocks, message}), shown
  // under the outcome. onFail(error) may give an element to show under a
  // failure (what to do next). Resolves when the job has finished,
  // whatever its outcome.
  async job(name, total, fn, { onFail } = {}) {
    const ac = new AbortController();
    this.jobs.add(ac);
    const bar = el('progress', { max: String(Math.max(1, total)), value: '0' });
    const bytes = el('span', { class: 'dl-job-bytes', text: `0 of ${human(total)}` });
    const state = el('span', { class: 'dl-job-state', text: 'Starting…' });
    const cancel = el('button', { type: 'button', class: 'small', text: 'Cancel', 'aria-label': `Cancel the download of ${name}` });
    const li = el('li', { class: 'dl-job', data: { name, state: 'running', total, done: 0 }, title: `${grouped(total)} bytes` },
      el('div', { class: 'dl-job-head' }, el('span', { class: 'dl-job-name', text: name }), state),
      bar, el('div', { class: 'dl-job-foot' }, bytes, cancel));
    cancel.addEventListener('click', () => {
      if (li.dataset.state === 'running') ac.abort();
      else {
        li.remove();
        this.sync();
      }
    });
    this.list.prepend(li);
    this.sync();
    const progress = (p) => {
      if (!p || !Number.isFinite(p.done) || li.dataset.state !== 'running') return;
      const t = p.total || total;
      bar.max = Math.max(1, t);
      bar.value = p.done;
      li.dataset.done = p.done;
      li.dataset.total = t;
      bytes.textContent = `${human(p.done)} of ${human(t)}`;
      state.textContent = p.what || 'Downloading…';
    };
    const finish = (st, text) => {
      this.jobs.delete(ac);
      li.dataset.state = st;
      state.textContent = text;
      cancel.textContent = '✕';
      cancel.className = 'small icon-button';
      cancel.setAttribute('aria-label', `Remove ${name} from the list`);
      cancel.title = 'Remove from the list';
      this.sync();
    };
    try {
      const r = await fn(ac.signal, progress);
      progress({ done: r.bytes, total: r.bytes, what: state.textContent });
      li.dataset.outcome = r.how === 'picker' ? 'saved' : 'started';
      const filled = r.filled || [];
      const nf = filled.reduce((n, f) => n + f.blocks, 0);
      finish('done', (OUTCOMES[r.how] || OUTCOMES.blob)(r) + (nf ? `; ${nf === 1 ? '1 unreadable block' : `${grouped(nf)} unreadable blocks`} written as zeros` : ''));
      if (filled.length) {
        li.dataset.filled = String(nf);
        li.append(el('details', { class: 'dl-filled' },
          el('summary', { text: `Filled ranges (${filled.length})` }),
          el('ul', {}, filled.map((f) => el('li', { class: 'mono', data: { offset: f.offset, length: f.length }, text: `${rangeText(f)}: ${f.message}` })))));
      }
    } catch (e) {
      if (isCancel(e, ac.signal)) {
        finish('cancelled', 'Cancelled; nothing was saved');
      } else {
        finish('failed', `Failed: ${errorText(e)}`);
        li.setAttribute('role', 'alert');
        if (onFail) {
          const more = await onFail(e);
          if (more) li.append(more);
        }
      }
    }
  }
}
