// inspector.js: the data inspector beside the hex view. It shows the bytes
// at the cursor as integers of 8 to 64 bits (both endiannesses), floats,
// FILETIME and Unix times, a GUID and UTF-8 / UTF-16LE text. It renders
// bytes the hex view already holds; it parses nothing of the disk.

import { el, replace } from './dom.js';

// STRING_BYTES is how far the text rows read from the cursor.
const STRING_BYTES = 64;

const FILETIME_EPOCH = 11644473600n; // seconds from 1601-01-01 to 1970-01-01

// iso gives a UTC ISO time for ms since 1970, or null out of range.
function iso(ms) {
  if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

// filetime: 100 ns ticks since 1601, as UTC ISO with the ticks' precision.
export function filetime(ticks) {
  if (ticks === 0n) return '0 (not set)';
  const secs = ticks / 10000000n - FILETIME_EPOCH;
  const frac = ticks % 10000000n;
  const t = iso(Number(secs) * 1000);
  if (!t) return 'out of range';
  return frac ? t.replace('Z', `.${frac.toString().padStart(7, '0')}Z`) : t;
}

// guid formats 16 bytes as a GUID: the first three fields little-endian
// (Windows' mixed-endian layout), the rest as stored.
export function guid(b) {
  const h = (i, n, le) => {
    const xs = Array.from(b.subarray(i, i + n), (x) => x.toString(16).padStart(2, '0'));
    return (le ? xs.reverse() : xs).join('');
  };
  return `${h(0, 4, true)}-${h(4, 2, true)}-${h(6, 2, true)}-${h(8, 2, false)}-${h(10, 6, false)}`.toUpperCase();
}

// utf16 decodes little-endian units up to a zero unit.
function utf16(b) {
  const units = [];
  for (let i = 0; i + 1 < b.length; i += 2) {
    const u = b[i] | (b[i + 1] << 8);
    if (u === 0) break;
    units.push(u);
  }
  return String.fromCharCode(...units);
}

function utf8(b) {
  const z = b.indexOf(0);
  return new TextDecoder('utf-8').decode(z >= 0 ? b.subarray(0, z) : b);
}

// printable shows control characters as their Unicode pictures.
function printable(s) {
  return s.replace(/[\u0000-\u001f]/g, (c) => String.fromCharCode(0x2400 + c.charCodeAt(0))).replace(/\u007f/g, '\u2421');
}

// rows computes the inspector's rows from bytes b (b[0] at the cursor):
// [label, little-endian text, big-endian text] (one column for the others).
export function rows(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out = [];
  const both = (label, n, f) => out.push([label, b.length >= n ? String(f(true)) : '—', b.length >= n ? String(f(false)) : '—']);
  both('int8', 1, () => dv.getInt8(0));
  both('uint8', 1, () => dv.getUint8(0));
  both('int16', 2, (le) => dv.getInt16(0, le));
  both('uint16', 2, (le) => dv.getUint16(0, le));
  both('int32', 4, (le) => dv.getInt32(0, le));
  both('uint32', 4, (le) => dv.getUint32(0, le));
  both('int64', 8, (le) => dv.getBigInt64(0, le));
  both('uint64', 8, (le) => dv.getBigUint64(0, le));
  both('float32', 4, (le) => dv.getFloat32(0, le));
  both('float64', 8, (le) => dv.getFloat64(0, le));
  const one = (label, n, f) => out.push([label, b.length >= n ? f() : '—']);
  one('FILETIME', 8, () => filetime(dv.getBigUint64(0, true)));
  one('Unix time (32-bit)', 4, () => iso(dv.getUint32(0, true) * 1000));
  one('Unix time (64-bit)', 8, () => {
    const s = dv.getBigInt64(0, true);
    return (s > -8640000000000n && s < 8640000000000n && iso(Number(s) * 1000)) || 'out of range';
  });
  one('GUID', 16, () => guid(b));
  one('UTF-8', 1, () => printable(utf8(b)));
  one('UTF-16LE', 2, () => printable(utf16(b)));
  return out;
}

export class Inspector {
  constructor(root) {
    this.root = root;
    this.body = el('tbody');
    this.where = el('caption', { id: 'inspector-caption' });
    this.root.append(el('h3', { class: 'inspector-title', text: 'Data inspector' }),
      el('div', { class: 'inspector-scroll', tabindex: '0', role: 'region', 'aria-labelledby': 'inspector-caption' },
        el('table', { class: 'inspector-table' }, this.where,
          el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Type' }), el('th', { scope: 'col', text: 'Little-endian' }), el('th', { scope: 'col', text: 'Big-endian' }))),
          this.body)));
  }

  // show renders the bytes at the hex view's cursor (those it has loaded).
  show(hex) {
    if (!hex.src) return;
    const at = hex.cursor;
    const b = [];
    for (let i = 0; i < STRING_BYTES && at + i < hex.size; i++) {
      const x = hex.byteAt(at + i);
      if (x === undefined) break;
      b.push(x);
    }
    this.where.textContent = `At 0x${at.toString(16)}`;
    replace(this.body, ...rows(Uint8Array.from(b)).map(([label, le, be]) => el('tr', {},
      el('th', { scope: 'row', text: label }),
      be === undefined ? el('td', { colspan: '2', class: 'mono', text: le }) : el('td', { class: 'mono', text: le }),
      ...(be === undefined ? [] : [el('td', { class: 'mono', text: be })]))));
  }
}
