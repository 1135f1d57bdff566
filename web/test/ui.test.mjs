// ui.test.mjs: the viewer page's tests, run by ui.mjs in headless
// Chromium. Each test gets t = {page, context, origin, fx, cli, sh, root}:
// fx makes test images (internal/cmd/mkvhdx) and serves them under
// /__fixtures/, cli runs bin/vhdx, sh runs any command. Expected values
// always come from bin/vhdx or qemu-img, never from the page's engine.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// ---- helpers ----------------------------------------------------------------

async function home(page) {
  if (!page.url().startsWith('http')) await page.goto('/');
  await page.evaluate(() => document.querySelector('#close-button:not([hidden])')?.click());
  await page.waitForSelector('#start:not([hidden])');
}

// drop dispatches a real drop of fixture files (fetched by the page) on
// the page body, as a person dragging files from the desktop would.
async function drop(page, names) {
  await page.evaluate(async (list) => {
    const dt = new DataTransfer();
    for (const n of list) {
      const b = await (await fetch(`/__fixtures/${n}`)).blob();
      dt.items.add(new File([b], n, { lastModified: 1700000000000 }));
    }
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  }, names);
}

// opened waits for the viewer and for verify to finish.
async function opened(page) {
  await page.waitForSelector('#viewer:not([hidden])');
  await page.waitForSelector('#verdict[data-verdict="clean"], #verdict[data-verdict="problems"]', { timeout: 60000 });
}

async function summaryValue(page, key) {
  return page.getAttribute(`#panel-summary dd[data-key="${key}"]`, 'data-value');
}

// gotoHex types an offset into the go-to box, as a person would.
async function gotoHex(page, offset, unit = 'offset') {
  await page.selectOption('#goto-unit', unit);
  await page.fill('#goto-input', typeof offset === 'number' ? `0x${offset.toString(16)}` : offset);
  await page.press('#goto-input', 'Enter');
}

// hexBytes reads length bytes at offset from the hex view's rows on screen.
async function hexBytes(page, offset, length) {
  await page.waitForFunction(({ offset, length }) => {
    const rows = [...document.querySelectorAll('#hex .hex-row:not([hidden])')];
    const first = rows.find((r) => Number(r.dataset.offset) <= offset && offset < Number(r.dataset.offset) + 16);
    const last = rows.find((r) => Number(r.dataset.offset) <= offset + length - 1 && offset + length - 1 < Number(r.dataset.offset) + 16);
    return first && last && !rows.some((r) => r.textContent.includes('··'));
  }, { offset, length }, { timeout: 20000 });
  return page.evaluate(({ offset, length }) => {
    let out = '';
    for (const r of document.querySelectorAll('#hex .hex-row:not([hidden])')) {
      const base = Number(r.dataset.offset);
      r.querySelectorAll('.hexes .b').forEach((b, i) => {
        const o = base + i;
        if (o >= offset && o < offset + length) out += b.textContent;
      });
    }
    return out;
  }, { offset, length });
}

function cliInfo(t, file, ...extra) {
  return JSON.parse(t.cli('info', '--json', ...extra, file).toString());
}

function cliMap(t, file) {
  return JSON.parse(t.cli('map', '--json', file).toString());
}

// sampleFile writes the sample image (the page's "Try a sample") out.
function sampleFile(t) {
  const p = t.fx.path('sample.vhdx');
  writeFileSync(p, gunzipSync(readFileSync(join(t.root, 'web/samples/sample.vhdx.gz'))));
  return p;
}

function qemuRaw(t, file) {
  const out = join(t.work, `${file.split('/').pop()}.raw`);
  t.sh('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', file, out]);
  return readFileSync(out);
}

async function download(t, setup) {
  const { page } = t;
  await page.click('#download-button');
  await page.waitForSelector('#download-dialog[open]');
  await setup();
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('#dl-go')]);
  const p = join(t.work, `dl-${Date.now()}-${dl.suggestedFilename()}`);
  await dl.saveAs(p);
  return { name: dl.suggestedFilename(), data: readFileSync(p) };
}

const STATE_CAT = {
  FULLY_PRESENT: 'present', PARTIALLY_PRESENT: 'partial', ZERO: 'zero', UNMAPPED: 'unmapped',
  UNDEFINED: 'undefined', NOT_PRESENT: 'absent',
};

// batCells reads the colour drawn at the centre of every block's cell and
// the legend's colour of each category.
async function batCells(page) {
  await page.waitForSelector('#batmap[data-loaded="true"]');
  return page.evaluate(() => {
    const c = document.querySelector('#batmap canvas');
    const d = c.dataset;
    const cols = Number(d.cols);
    const size = Number(d.cell);
    const gap = Number(d.gap);
    const scale = c.width / c.getBoundingClientRect().width;
    const ctx = c.getContext('2d');
    const cells = [];
    for (let i = 0; i < Number(d.cells); i++) {
      const x = (i % cols) * (size + gap) + size / 2;
      const y = Math.floor(i / cols) * (size + gap) + size / 2;
      const px = ctx.getImageData(Math.floor(x * scale), Math.floor(y * scale), 1, 1).data;
      cells.push(`rgb(${px[0]}, ${px[1]}, ${px[2]})`);
    }
    const legend = {};
    for (const li of document.querySelectorAll('#batmap .legend li')) {
      legend[li.dataset.cat] = { color: getComputedStyle(li.querySelector('.swatch')).backgroundColor, count: Number(li.dataset.count) };
    }
    return { cells, legend, blocks: Number(d.blocks), perCell: Number(d.perCell) };
  });
}

// ---- tests --------------------------------------------------------------------

export const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('page loads with its CSP, the same as the server sends', async (t) => {
  const { page } = t;
  await page.goto('/');
  await page.waitForSelector('#start:not([hidden])');
  const meta = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  const src = readFileSync(join(t.root, 'internal/cmd/serve/main.go'), 'utf8');
  const m = /const CSP = ((?:"[^"]*"\s*\+?\s*)+)/.exec(src);
  const server = [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('');
  assert.equal(meta, server);
  assert.ok(await page.isVisible('#sample-button'));
  assert.ok(await page.isVisible('#pick-button'));
});

test('pick a file: summary equals vhdx info --json', async (t) => {
  const { page } = t;
  const file = sampleFile(t);
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  const info = cliInfo(t, file);
  for (const k of ['type', 'virtual_size', 'block_size', 'logical_sector_size', 'physical_sector_size', 'virtual_disk_id', 'creator', 'file_size']) {
    assert.equal(await summaryValue(page, k), String(info[k]), k);
  }
  assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'clean');
  const text = await page.textContent('#panel-summary');
  assert.match(text, /16,777,216 bytes \(16 MiB\)/);
});

test('drop a file: it opens, and the block map shows every block state', async (t) => {
  const { page } = t;
  const file = t.fx.make('states.vhdx', {
    virtualSize: 12 << 20, blockSize: 1 << 20, creator: 'vhdxview ui test',
    blocks: {
      0: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 1 } },
      2: { state: 'ZERO' }, 3: { state: 'UNMAPPED' }, 4: { state: 'UNDEFINED' },
      6: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 171 } },
    },
  });
  await home(page);
  await drop(page, ['states.vhdx']);
  await opened(page);
  assert.equal(await summaryValue(page, 'creator'), 'vhdxview ui test');
  const want = cliMap(t, file);
  const got = await batCells(page);
  assert.equal(got.blocks, want.payload_blocks);
  assert.equal(got.perCell, 1);
  const counts = {};
  want.blocks.forEach((b, i) => {
    const cat = STATE_CAT[b.state];
    counts[cat] = (counts[cat] || 0) + 1;
    assert.ok(got.legend[cat], `legend has ${cat}`);
    assert.equal(got.cells[i], got.legend[cat].color, `block ${i} (${b.state}) drawn as ${cat}`);
  });
  for (const [cat, n] of Object.entries(counts)) assert.equal(got.legend[cat].count, n, `legend count of ${cat}`);
  // Click a block: the hex view shows it.
  const box = await page.locator('#batmap canvas').boundingBox();
  const d = await page.evaluate(() => ({ ...document.querySelector('#batmap canvas').dataset }));
  const s = Number(d.cell) + Number(d.gap);
  await page.mouse.click(box.x + 6 * s + 2, box.y + 2);
  await page.waitForFunction(() => document.querySelector('#hex').dataset.top === String(6 * 1048576 - 16) || document.querySelector('#hex').dataset.top === String(6 * 1048576));
  const bytes = await hexBytes(page, 6 << 20, 16);
  assert.equal(bytes, 'ab'.repeat(16));
  assert.match(await page.textContent('#hex .hex-status'), /Block 6 · FULLY_PRESENT/);
});

test('hex view at an offset shows what vhdx cat gives; keyboard moves and selects', async (t) => {
  const { page } = t;
  const file = t.fx.path('sample.vhdx');
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  for (const [off, len] of [[0x1c0, 64], [0x100438, 40], [0x200, 16]]) {
    await gotoHex(page, off);
    const want = t.cli('cat', '--offset', String(off), '--length', String(len), file).toString('hex');
    assert.equal(await hexBytes(page, off, len), want, `bytes at 0x${off.toString(16)}`);
  }
  // LBA go-to: LBA 1 is the GPT header ("EFI PART").
  await gotoHex(page, '1', 'lba');
  assert.equal(await hexBytes(page, 512, 8), Buffer.from('EFI PART').toString('hex'));
  // Keyboard: the cursor is at 512; End, then Shift+Down selects.
  await page.focus('#hex .hex-scroller');
  await page.keyboard.press('Home');
  await page.keyboard.down('Shift');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
  await page.waitForFunction(() => /Selection 0x200–0x220 \(33 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  await page.keyboard.press('PageDown');
  await page.keyboard.press('Control+End');
  await page.waitForFunction(() => /Offset 0xffffff /.test(document.querySelector('#hex .hex-status').textContent));
  await page.keyboard.press('Control+Home');
  await page.waitForFunction(() => /Offset 0x0 /.test(document.querySelector('#hex .hex-status').textContent));
});

test('downloads of a range, a selection and the whole disk equal qemu-img convert', async (t) => {
  const { page } = t;
  const file = t.fx.path('sample.vhdx');
  const raw = qemuRaw(t, file);
  // (the sample is still open from the last test)
  await page.waitForSelector('#viewer:not([hidden])');
  const range = await download(t, async () => {
    await page.check('#dl-range');
    await page.selectOption('#dl-unit', 'bytes');
    await page.fill('#dl-from', '0xff000');
    await page.fill('#dl-length', '3M');
  });
  assert.equal(range.name, 'sample-0xff000-0x300000.raw');
  assert.equal(sha256(range.data), sha256(raw.subarray(0xff000, 0xff000 + (3 << 20))));
  const lba = await download(t, async () => {
    await page.check('#dl-range');
    await page.selectOption('#dl-unit', 'lba');
    await page.fill('#dl-from', '2048');
    await page.fill('#dl-length', '4096');
  });
  assert.equal(lba.name, 'sample-0x100000-0x200000.raw');
  assert.equal(sha256(lba.data), sha256(raw.subarray(0x100000, 0x300000)));
  // A selection made in the hex view.
  await gotoHex(page, 0x100400);
  await page.focus('#hex .hex-scroller');
  await page.keyboard.down('Shift');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
  await page.click('#selection-download');
  await page.waitForSelector('#download-dialog[open]');
  assert.ok(await page.isChecked('#dl-selection'));
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-go')]);
  const sp = join(t.work, 'sel.raw');
  await dl.saveAs(sp);
  assert.equal(dl.suggestedFilename(), 'sample-0x100400-0x41.raw');
  assert.equal(sha256(readFileSync(sp)), sha256(raw.subarray(0x100400, 0x100441)));
  const whole = await download(t, async () => { await page.check('#dl-whole'); });
  assert.equal(whole.name, 'sample.raw');
  assert.equal(whole.data.length, raw.length);
  assert.equal(sha256(whole.data), sha256(raw));
});

test('a range past the end is refused with a reason', async (t) => {
  const { page } = t;
  await page.click('#download-button');
  await page.check('#dl-range');
  await page.selectOption('#dl-unit', 'bytes');
  await page.fill('#dl-from', '15M');
  await page.fill('#dl-length', '2M');
  assert.ok(await page.isDisabled('#dl-go'));
  assert.match(await page.textContent('.dl-msg'), /past the end of the disk/);
  await page.keyboard.press('Escape');
});

test('structure tree: a damaged header is bad, the other is active', async (t) => {
  const { page } = t;
  t.fx.make('damaged.vhdx', { virtualSize: 4 << 20, headers: [{ sequence: 5 }, { sequence: 6, corruptChecksum: true }] });
  await home(page);
  await drop(page, ['damaged.vhdx']);
  await opened(page);
  assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'problems');
  await page.click('#tab-structure');
  const h1 = page.locator('[data-node="header-1"]');
  const h2 = page.locator('[data-node="header-2"]');
  assert.equal(await h1.getAttribute('data-active'), 'true');
  assert.equal(await h1.getAttribute('data-crc'), 'ok');
  assert.equal(await h2.getAttribute('data-active'), 'false');
  assert.equal(await h2.getAttribute('data-crc'), 'bad');
  assert.match(await h2.locator('> summary').textContent(), /CRC bad/);
  assert.match(await h1.locator('> summary').textContent(), /active/);
  // Show in file hex: header 2 at 0x20000, its signature "head".
  await h2.locator('> summary .jump').click();
  assert.equal(await page.inputValue('#hex-source'), 'file:0');
  assert.equal(await hexBytes(page, 0x20000, 4), Buffer.from('head').toString('hex'));
  assert.match(await page.textContent('#hex .hex-status'), /in header 2/);
  // The checks list the damaged header with its offset and an explanation.
  await page.click('#tab-checks');
  const row = page.locator('#panel-checks [data-structure="header 2"]');
  assert.equal(await row.getAttribute('data-status'), 'warning');
  assert.match(await row.textContent(), /0x20000/);
  assert.match(await row.textContent(), /CRC-32C mismatch/);
  assert.match(await row.textContent(), /two headers/);
});

test('a child without its parent names the parent; adding it opens the chain', async (t) => {
  const { page } = t;
  const parent = t.fx.make('parent.vhdx', {
    virtualSize: 8 << 20, dataWriteGuid: '11111111-2222-4333-8444-555555555555',
    blocks: { 0: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 80 } }, 1: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 7 } } },
  });
  const child = t.fx.make('child.avhdx', {
    virtualSize: 8 << 20, dataWriteGuid: '66666666-7777-4888-9999-aaaaaaaaaaaa',
    parent: { entries: [
      { key: 'parent_linkage', value: '{11111111-2222-4333-8444-555555555555}' },
      { key: 'relative_path', value: '.\\parent.vhdx' },
      { key: 'absolute_win32_path', value: 'C:\\VMs\\parent.vhdx' }] },
    blocks: {
      0: { state: 'PARTIALLY_PRESENT', fill: { pattern: 'byte', value: 67 }, present: [{ start: 0, count: 8 }] },
      2: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 68 } }, 3: { state: 'ZERO' },
    },
  });
  void parent;
  await home(page);
  await drop(page, ['child.avhdx']);
  await page.waitForSelector('#parent-needed:not([hidden])');
  const loc = await page.textContent('#parent-locator');
  assert.ok(loc.includes('.\\parent.vhdx'), loc);
  assert.ok(loc.includes('C:\\VMs\\parent.vhdx'), loc);
  assert.match(await page.textContent('#parent-needed'), /Add its parent, parent\.vhdx/);
  // A wrong file is refused with a reason; the panel stays.
  await page.setInputFiles('#parent-input', t.fx.make('other.vhdx', { virtualSize: 8 << 20 }));
  // The engine rejects it and says why: its DataWriteGuid is not the linkage.
  await page.waitForFunction(() => /other\.vhdx: DataWriteGuid .* does not match parent_linkage 11111111-2222-4333-8444-555555555555/
    .test((document.querySelector('#parent-needed .tried') || {}).textContent || ''));
  assert.ok(await page.isVisible('#parent-needed'));
  await page.setInputFiles('#parent-input', t.fx.path('parent.vhdx'));
  await opened(page);
  assert.equal(await page.locator('#panel-summary .chain li').count(), 2);
  assert.equal(await summaryValue(page, 'type'), 'differencing');
  // Block map: partial, from parent, present, zero.
  const got = await batCells(page);
  const want = cliMap(t, child);
  want.blocks.forEach((b, i) => {
    const cat = b.state === 'NOT_PRESENT' ? 'parent' : STATE_CAT[b.state];
    assert.equal(got.cells[i], got.legend[cat].color, `block ${i} (${b.state}) drawn as ${cat}`);
  });
  // Reads through the chain: child sectors, then the parent's.
  await gotoHex(page, 0xff0);
  const wantBytes = t.cli('cat', '--offset', '0xff0', '--length', '32', child).toString('hex');
  assert.equal(await hexBytes(page, 0xff0, 32), wantBytes);
  assert.equal(wantBytes, '43'.repeat(16) + '50'.repeat(16));
});

test('file strings are shown as text, never as markup', async (t) => {
  const { page } = t;
  const creator = '<img src=x onerror="window.__xss=1">';
  const rel = '<img src=x onerror="window.__xss=2">.vhdx';
  const key = '<b onclick="window.__xss=3">k</b>';
  t.fx.make('xss.avhdx', {
    virtualSize: 4 << 20, creator,
    parent: { entries: [
      { key: 'parent_linkage', value: '{99999999-2222-4333-8444-555555555555}' },
      { key: 'relative_path', value: rel }, { key, value: '<script>window.__xss=4</script>' }] },
  });
  await home(page);
  await drop(page, ['xss.avhdx']);
  await page.waitForSelector('#parent-needed:not([hidden])');
  assert.ok((await page.textContent('#parent-locator')).includes(rel));
  await page.click('#parent-skip');
  await opened(page);
  assert.equal(await summaryValue(page, 'creator'), creator);
  assert.equal(await page.textContent('#panel-summary dd[data-key="creator"]'), creator);
  await page.click('#tab-structure');
  const tree = await page.textContent('#panel-structure');
  for (const str of [creator, rel, key, '<script>window.__xss=4</script>']) assert.ok(tree.includes(str), `tree shows ${str}`);
  const bad = await page.evaluate(() => ({
    img: document.querySelectorAll('img').length,
    scripts: [...document.scripts].filter((s) => !s.src).length,
    bold: [...document.querySelectorAll('b[onclick]')].length,
    xss: window.__xss,
  }));
  assert.deepEqual(bad, { img: 0, scripts: 0, bold: 0, xss: undefined });
});

test('a dirty log: the summary and the tree say what was replayed', async (t) => {
  const { page } = t;
  const desc = { virtualSize: 16 << 20, creator: 'dirty', blocks: { 2: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 2 } }, 3: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 3 } } } };
  const lay = t.fx.layout(desc);
  desc.log = { deferred: [{ fileOffset: lay.blocks['2'] + 4096, length: 8192 }, { fileOffset: lay.blocks['3'], length: 4096 }] };
  const file = t.fx.make('dirty.vhdx', desc);
  const info = cliInfo(t, file);
  assert.ok(info.log.replayed);
  await home(page);
  await drop(page, ['dirty.vhdx']);
  await opened(page);
  assert.equal(await summaryValue(page, 'log'), 'replayed');
  const log = await page.textContent('#panel-summary dd[data-key="log"]');
  assert.match(log, new RegExp(`replayed in memory .*${info.log.active.length} entr.*${info.log.data_sectors} data sectors`));
  await page.click('#tab-structure');
  const node = page.locator('[data-node="log"]');
  assert.match(await node.locator('> summary').textContent(), /replayed/);
  assert.equal(await node.locator('.node-children > .node').count(), info.log.active.length);
  // The replayed pages read as the engine says (log bytes, not the stale file).
  const off = 2 * (1 << 20) + 4096;
  await gotoHex(page, off);
  assert.equal(await hexBytes(page, off, 32), t.cli('cat', '--offset', String(off), '--length', '32', file).toString('hex'));
});

test('keyboard: tabs, block map and hex view', async (t) => {
  const { page } = t;
  await home(page);
  await page.focus('#sample-button');
  await page.keyboard.press('Enter');
  await opened(page);
  await page.focus('#tab-summary');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-structure', 'aria-selected'), 'true');
  assert.ok(await page.isVisible('#panel-structure'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-structure');
  await page.keyboard.press('End');
  assert.equal(await page.getAttribute('#tab-checks', 'aria-selected'), 'true');
  // Block map: focus, move right twice, Enter shows block 2 in hex.
  await page.focus('#batmap canvas');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.match(await page.textContent('.batmap-tip'), /Block 2/);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Offset 0x200000 /.test(document.querySelector('#hex .hex-status').textContent));
  assert.equal(await page.evaluate(() => document.activeElement.className), 'hex-scroller');
  // g jumps to the go-to box.
  await page.keyboard.press('g');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'goto-input');
});

test('an unreadable file says why and shows its bytes', async (t) => {
  const { page } = t;
  writeFileSync(t.fx.path('notvhdx.vhdx'), Buffer.concat([Buffer.from('conectix'), Buffer.alloc(2 << 20)]));
  await home(page);
  await drop(page, ['notvhdx.vhdx']);
  await page.waitForSelector('#verdict[data-verdict="unreadable"]');
  const text = await page.textContent('#panel-summary');
  assert.match(text, /notvhdx\.vhdx is not a VHDX file/);
  assert.match(text, /qemu-img convert/);
  assert.equal(await hexBytes(page, 0, 8), Buffer.from('conectix').toString('hex'));
});

test('a 64 TiB disk: the block map aggregates, the hex view reaches the end', async (t) => {
  const { page } = t;
  const file = t.fx.make('huge.vhdx', {
    virtualSize: 64 * 2 ** 40, blockSize: 256 << 20,
    blocks: { 0: { state: 'ZERO' }, 262143: { state: 'ZERO' }, 131072: { state: 'UNMAPPED' } },
  });
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  assert.equal(await summaryValue(page, 'virtual_size'), String(64 * 2 ** 40));
  const got = await batCells(page);
  assert.equal(got.blocks, 262144);
  assert.ok(got.perCell > 1, 'aggregated');
  assert.equal(got.legend.zero.count, 2);
  assert.equal(got.legend.unmapped.count, 1);
  const end = 64 * 2 ** 40 - 32;
  await gotoHex(page, end);
  assert.equal(await hexBytes(page, end, 32), '00'.repeat(32));
  await page.focus('#hex .hex-scroller');
  await page.keyboard.press('Control+End');
  await page.waitForFunction(() => /Offset 0x3fffffffffff /.test(document.querySelector('#hex .hex-status').textContent));
  // The scrollbar maps onto the whole disk: half way is about 32 TiB.
  await page.evaluate(() => {
    const s = document.querySelector('#hex .hex-scroller');
    s.scrollTop = (s.scrollHeight - s.clientHeight) / 2;
  });
  await page.waitForFunction(() => {
    const top = Number(document.querySelector('#hex').dataset.top);
    return Math.abs(top - 32 * 2 ** 40) < 2 ** 36;
  });
});

test('recents survive a reload and reopen with the network off', async (t) => {
  const { page, context } = t;
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  await page.waitForFunction(() => /Kept for offline use/.test(document.querySelector('#store-state').textContent), null, { timeout: 30000 });
  // The service worker is installed and controls the page.
  await page.waitForFunction(async () => (await navigator.serviceWorker.ready) && !!navigator.serviceWorker.controller, null, { timeout: 30000 });
  // The hex position is remembered with the image.
  await gotoHex(page, 0x1234);
  await page.waitForTimeout(1500);
  await page.reload();
  const item = page.locator('#recents-list li[data-name="sample.vhdx"]').first();
  await item.waitFor();
  assert.match(await item.textContent(), /stored/);
  assert.match(await item.textContent(), /clean/);
  assert.match(await page.textContent('#recents-usage'), /remembered/);
  await context.setOffline(true);
  t.serverDown(true);
  try {
    assert.equal(await page.evaluate(() => fetch('/__fixtures/sample.vhdx').then(() => 'online', () => 'offline')), 'offline');
    await page.reload();
    await item.waitFor();
    // The cache is named after the engine build in web/manifest.json.
    const m = JSON.parse(readFileSync(join(t.root, 'web/manifest.json'), 'utf8'));
    assert.ok((await page.evaluate(() => caches.keys())).includes(`vhdxview-${m.wasm_sha256}`));
    await item.locator('.recent-open').click();
    await opened(page);
    assert.equal(await summaryValue(page, 'virtual_size'), '16777216');
    await page.waitForFunction(() => /Offset 0x1234 /.test(document.querySelector('#hex .hex-status').textContent));
    await gotoHex(page, 0x200);
    assert.equal(await hexBytes(page, 0x200, 8), Buffer.from('EFI PART').toString('hex'));
  } finally {
    await context.setOffline(false);
    t.serverDown(false);
  }
});

test('forget one recent, then clear all', async (t) => {
  const { page } = t;
  await home(page);
  await page.waitForSelector('#recents-list li');
  const before = await page.locator('#recents-list li').count();
  assert.ok(before >= 2, `${before} recents`);
  await page.locator('#recents-list li[data-name="states.vhdx"] .forget').click();
  await page.waitForFunction((n) => document.querySelectorAll('#recents-list li').length === n - 1, before);
  page.once('dialog', (d) => d.accept());
  await page.click('#recents-clear');
  await page.waitForFunction(() => !document.querySelector('#recents-list'));
});

test('narrow window and dark scheme keep working; screenshot for the README', async (t) => {
  const { page } = t;
  await page.setViewportSize({ width: 1280, height: 800 });
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  // The main view, on the sample's README.txt, for docs/screenshot.png.
  const raw = qemuRaw(t, sampleFile(t));
  const text = raw.indexOf('Hello from the vhdxview');
  assert.ok(text > 0);
  await gotoHex(page, text - (text % 16) - 0x40);
  await page.waitForSelector('#batmap[data-loaded="true"]');
  await hexBytes(page, text, 16);
  await page.focus('#hex .hex-scroller');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
  for (let i = 0; i < text % 16; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.down('Shift');
  for (let i = 0; i < 35; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.up('Shift');
  await page.waitForFunction(() => /Selection .*\(36 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  const box = await page.locator('#batmap canvas').boundingBox();
  const d = await page.evaluate(() => ({ ...document.querySelector('#batmap canvas').dataset }));
  const cellOf = Math.floor(text / (1 << 20));
  const s = Number(d.cell) + Number(d.gap);
  await page.mouse.move(box.x + cellOf * s + s / 2, box.y + Number(d.cell) / 2);
  await page.waitForFunction(() => /stored in this file/.test(document.querySelector('.batmap-tip').textContent));
  // docs/screenshot.png is written when missing or with UPDATE_SCREENSHOT=1,
  // so that a test run leaves the tree as it was.
  await page.screenshot({ path: join(t.work, 'main.png') });
  const shot = join(t.root, 'docs', 'screenshot.png');
  if (process.env.UPDATE_SCREENSHOT || !existsSync(shot)) {
    mkdirSync(join(t.root, 'docs'), { recursive: true });
    copyFileSync(join(t.work, 'main.png'), shot);
  }
  await page.mouse.move(0, 0);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: join(t.work, 'dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(200);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.hex-scroller'))
    .slice(0, 8).map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a 390px window: ${wide.join(', ')}`);
  assert.ok(await page.isVisible('#hex .hex-row'));
  await page.screenshot({ path: join(t.work, 'narrow.png') });
  await page.locator('#hex-card').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(t.work, 'narrow-hex.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
});
