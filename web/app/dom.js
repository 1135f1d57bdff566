// dom.js: building DOM from data, and formatting numbers for display.
//
// Everything the page shows that came from a file (creator strings, locator
// paths, error messages) goes through el() and textContent: no module
// assigns innerHTML, so a file cannot inject markup.

// el builds an element. attrs: {class, text, title, data: {k: v}, on: {event:
// fn}, hidden, ...any other attribute}; children: nodes, strings (as text),
// arrays of either, or null/false (skipped).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = String(v);
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = String(dv);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
    else if (k === 'hidden') e.hidden = true;
    else if (k === 'value') e.value = v;
    else if (k === 'checked') e.checked = true;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(e, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(e, c);
    else if (c instanceof Node) e.appendChild(c);
    else e.appendChild(document.createTextNode(String(c)));
  }
}

// clear removes every child of e.
export function clear(e) {
  while (e.firstChild) e.removeChild(e.firstChild);
  return e;
}

// replace puts children in e instead of what it held.
export function replace(e, ...children) {
  clear(e);
  append(e, children);
  return e;
}

// $ finds one element by selector (within root).
export const $ = (sel, root = document) => root.querySelector(sel);

const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

// human gives a size in binary units: 1536 -> "1.5 KiB", 8388608 -> "8 MiB".
export function human(n) {
  n = Number(n);
  if (!Number.isFinite(n)) return '?';
  if (n < 1024) return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  let u = 0;
  while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
  const s = (n >= 100 ? n.toFixed(0) : n.toFixed(n >= 10 ? 1 : 2)).replace(/\.0+$|(\.\d*?)0+$/, '$1');
  return `${s} ${units[u]}`;
}

// exact gives n as a BigInt when it is a decimal string or a BigInt (the
// engine sends integers that can exceed 2^53 as decimal strings, see
// PROTOCOL.md), else as a Number, so that formatting never rounds it.
function exact(n) {
  if (typeof n === 'bigint') return n;
  if (typeof n === 'string' && /^-?\d+$/.test(n.trim())) return BigInt(n.trim());
  return Number(n);
}

// grouped gives 8388608 -> "8,388,608".
export function grouped(n) {
  return exact(n).toLocaleString('en-US');
}

// hex gives a number as 0x-prefixed hex, padded to pad digits.
export function hex(n, pad = 0) {
  return '0x' + hexPlain(n, pad);
}

// hexPlain gives hex without prefix, padded.
export function hexPlain(n, pad = 0) {
  return exact(n).toString(16).padStart(pad, '0');
}

// parseNumber reads what a person types for an offset or length: decimal,
// 0x hex, and K/M/G/T (binary) suffixes, like the CLI ("1M", "0x100000",
// "4096", "2 KiB"). It returns NaN when the text is not a number.
export function parseNumber(text) {
  const s = String(text).trim().replace(/[,_\s]/g, '');
  const m = /^(0x[0-9a-f]+|\d+(?:\.\d+)?)([kmgtp]?)(?:i?b)?$/i.exec(s);
  if (!m) return NaN;
  let n = m[1].toLowerCase().startsWith('0x') ? parseInt(m[1], 16) : Number(m[1]);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 }[m[2].toLowerCase()];
  n *= mult;
  return Number.isSafeInteger(n) ? n : NaN;
}

// when gives a date as "today 14:03", "yesterday", or "12 Mar 2025".
export function when(t) {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return '';
  const now = new Date();
  const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((day(now) - day(d)) / 86400000);
  const hm = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  if (diff === 0) return `today ${hm}`;
  if (diff === 1) return `yesterday ${hm}`;
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric' });
}

// baseName strips folders and the extension: "C:\\vm\\disk.avhdx" -> "disk".
export function baseName(name) {
  const b = String(name).split(/[\\/]/).pop() || 'image';
  return b.replace(/\.(a?vhdx|vhd|img|raw)$/i, '') || b;
}

// errorText gives the message of an error-like value, for people: without
// the Go packages' "vhdx: " prefixes, and with a bare number in
// parentheses (a field's raw value, "(79691776)") grouped and in hex.
export function errorText(e) {
  if (!e) return 'unknown error';
  const raw = typeof e === 'string' ? e : e.message || String(e);
  return raw
    .replace(/(^|: )(?:(?:vhdx|vhd|disk|volume|core|bridge): )+/g, '$1')
    .replace(/\((\d{4,})\)/g, (m, n) => `(${grouped(Number(n))}, 0x${Number(n).toString(16)})`);
}
