// harness.js: the engine tests' page. It exposes the engine as
// window.vhdxview, opens picked or dropped files and prints the open
// result (without the File objects) as JSON in #summary and engine
// messages in #status, always as textContent.
import * as vhdxview from '../vhdxview.js';

window.vhdxview = vhdxview;

// window.__engine records the engine's traffic, for tests of what the
// engine itself answered (a cancelled request's own reply, which
// vhdxview.js drops): requests as {id, op, target}, replies as {ok,
// error: name}, never their payloads. reply(id) resolves to the reply to
// request id once it comes. vhdxview.js makes its worker after this runs.
const replies = new Map();
const awaited = new Map();
window.__engine = {
  sent: [],
  reply(id) {
    if (replies.has(id)) return Promise.resolve(replies.get(id));
    return new Promise((resolve) => awaited.set(id, resolve));
  },
};
const PageWorker = window.Worker;
window.Worker = class extends PageWorker {
  constructor(...args) {
    super(...args);
    const post = this.postMessage.bind(this);
    this.postMessage = (msg, ...rest) => {
      if (msg && msg.op) window.__engine.sent.push({ id: msg.id, op: msg.op, target: msg.args && msg.args.target });
      return post(msg, ...rest);
    };
    this.addEventListener('message', (e) => {
      const d = e.data;
      if (!d || d.id === undefined || d.progress) return;
      const r = { ok: !!d.ok, error: d.ok ? null : d.error && d.error.name };
      replies.set(d.id, r);
      if (awaited.has(d.id)) awaited.get(d.id)(r);
      awaited.delete(d.id);
    });
  }
};

const summary = document.getElementById('summary');
const status = document.getElementById('status');
const drop = document.getElementById('drop');
const input = document.getElementById('files');

function say(line) {
  status.textContent += line + '\n';
}

// Files of an open that failed for a missing parent: the next pick or drop
// is added to them, so only the parent has to be supplied.
let waiting = [];

async function openFiles(list) {
  const files = waiting.concat(Array.from(list));
  waiting = [];
  if (files.length === 0) return;
  summary.textContent = '';
  try {
    const { files: _, ...r } = await vhdxview.open(files);
    summary.textContent = JSON.stringify(r, null, 2);
    if (r.store_error) say('not remembered: ' + r.store_error.message);
  } catch (e) {
    summary.textContent = JSON.stringify({ error: { ...e, name: e.name, message: e.message } }, null, 2);
    if (e.name === 'MissingParentError') {
      waiting = files;
      say('parent needed: ' + (e.paths || []).map((p) => p.value).join(' or '));
    } else {
      say(e.name + ': ' + e.message);
    }
  }
}

vhdxview.on('store', (d) => {
  if (d.state === 'failed') say('not saved: ' + d.name + ': ' + d.error.name + ': ' + d.error.message);
  else if (d.state === 'stored') say('saved: ' + d.name);
});
vhdxview.on('fatal', (d) => say('engine stopped: ' + d.error.message));

input.addEventListener('change', () => {
  openFiles(input.files);
  input.value = '';
});
drop.addEventListener('dragover', (e) => e.preventDefault());
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  openFiles(e.dataTransfer.files);
});

vhdxview.ready().then(
  () => {
    document.body.dataset.ready = 'true';
    say('engine ready');
  },
  (e) => say('engine failed: ' + e.message),
);
