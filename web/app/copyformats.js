// copyformats.js: the text forms the hex view copies bytes as: spaced and
// plain hex, text, a C array, base64 and a Python bytes literal. Each is a
// pure function of the bytes (and, for the C array, the offset they come
// from, which names the array), so what lands on the clipboard is
// exactly the selection.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

// textChar is a byte as Latin-1 text: printable ASCII and Latin-1 letters
// as they are, tab and line breaks kept, other control bytes (and
// 0x7f-0x9f, which Latin-1 leaves unprinted) as ".", as the hex view's
// text column shows them.
const TEXT = Array.from({ length: 256 }, (_, i) => {
  if (i === 0x09 || i === 0x0a || i === 0x0d) return String.fromCharCode(i);
  if ((i >= 0x20 && i < 0x7f) || i >= 0xa0) return String.fromCharCode(i);
  return '.';
});

// PY escapes a byte inside b'...': printable ASCII but \ and ' as is,
// the usual short escapes, the rest as \xNN.
const PY = Array.from({ length: 256 }, (_, i) => {
  if (i === 0x5c) return '\\\\';
  if (i === 0x27) return "\\'";
  if (i === 0x09) return '\\t';
  if (i === 0x0a) return '\\n';
  if (i === 0x0d) return '\\r';
  if (i >= 0x20 && i < 0x7f) return String.fromCharCode(i);
  return `\\x${HEX[i]}`;
});

function base64(b) {
  // btoa takes a binary string; build it in slices, not one argument list
  // per byte.
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return btoa(s);
}

function cArray(b, offset) {
  const lines = [];
  for (let i = 0; i < b.length; i += 16) {
    lines.push(`  ${Array.from(b.subarray(i, i + 16), (v) => `0x${HEX[v]}`).join(', ')}${i + 16 < b.length ? ',' : ''}`);
  }
  return `unsigned char data_0x${offset.toString(16)}[${b.length}] = {\n${lines.join('\n')}\n};\n`;
}

// COPY_FORMATS in the order the menu lists them and Ctrl+Shift+C steps
// through them: {id, label (the menu's), noun (the status line's), format(bytes, offset)}.
export const COPY_FORMATS = [
  { id: 'hex', label: 'Hex (spaced)', noun: 'hex', format: (b) => Array.from(b, (v) => HEX[v]).join(' ') },
  { id: 'hex-plain', label: 'Hex (plain)', noun: 'plain hex', format: (b) => Array.from(b, (v) => HEX[v]).join('') },
  { id: 'text', label: 'Text (Latin-1, printable)', noun: 'text', format: (b) => Array.from(b, (v) => TEXT[v]).join('') },
  { id: 'c', label: 'C array', noun: 'a C array', format: cArray },
  { id: 'base64', label: 'Base64', noun: 'base64', format: base64 },
  { id: 'python', label: 'Python bytes', noun: 'Python bytes', format: (b) => `b'${Array.from(b, (v) => PY[v]).join('')}'` },
];

export function copyFormat(id) {
  return COPY_FORMATS.find((f) => f.id === id) || COPY_FORMATS[0];
}

// nextCopyFormat is the format after id, wrapping around.
export function nextCopyFormat(id) {
  const i = COPY_FORMATS.findIndex((f) => f.id === id);
  return COPY_FORMATS[(i + 1) % COPY_FORMATS.length];
}
