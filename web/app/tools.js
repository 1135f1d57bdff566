// tools.js: the hash dialog, the search box and the data inspector, wired
// to the open image and the hex view.

import { $ } from './dom.js';
import { HashDialog } from './hash.js';
import { Inspector } from './inspector.js';
import { SearchBar } from './search.js';
import { S } from './state.js';
import * as api from '../vhdxview.js';

export function setupScan() {
  S.hashDialog = new HashDialog($('#hash-dialog'), () => ({
    name: S.res.summary.name,
    size: S.info.virtual_size,
    selection: S.hex && S.hex.src && S.hex.src.kind === 'disk' ? S.hex.selection() : null,
    hash: (offset, length, algorithms, onProgress, signal) => api.hash(S.res.image, { offset, length, algorithms, onProgress, signal }),
  }));
  $('#hash-button').addEventListener('click', () => S.hashDialog.open());
  S.searchBar = new SearchBar($('#hex-search'), () => (S.res && S.hex && S.hex.src && S.hex.src.kind === 'disk' ? { image: S.res.image, hex: S.hex } : null));
  S.inspector = new Inspector($('#inspector'));
}
