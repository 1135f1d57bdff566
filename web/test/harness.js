// harness.js: the engine tests' page. It exposes the engine as
// window.vhdxview, opens picked or dropped files and prints the open
// result (without the File objects) as JSON in #summary and engine
// messages in #status, always as textContent.
import * as vhdxview from '../vhdxview.js';

window.vhdxview = vhdxview;

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
