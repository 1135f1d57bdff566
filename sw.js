// sw.js: the viewer's service worker. It lives at the site root so that
// its scope covers both the page (/) and its files (/web/...).
//
// The page registers it as /sw.js?v=<version>, the version being the one
// web/manifest.json gives (a hash of the engine build), so a new build is
// a new worker with a new cache, "vhdxview-<version>"; older caches are
// deleted when it activates. On install it stores every file the viewer
// needs; from then on each request goes to the network first and the cache
// answers when the network does not, so the page is always current online
// and still opens (and reopens remembered images) offline. It only ever
// handles requests to its own origin.

const VERSION = new URL(self.location.href).searchParams.get('v') || 'dev';
const CACHE = `vhdxview-${VERSION}`;

// Everything the page loads (every module of web/app: the recents test
// checks the list against the folder). Missing optional files do not fail
// the install.
const CORE = [
  './',
  'web/style.css',
  'web/vhdxview.js',
  'web/engine-start.js',
  'web/worker.js',
  'web/wasm_exec.js',
  'web/vhdxview.wasm',
  'web/vhdxview-core.wasm',
  'web/app/advice.js',
  'web/app/app.js',
  'web/app/batmap.js',
  'web/app/block-map-card.js',
  'web/app/chain-panel.js',
  'web/app/copyformats.js',
  'web/app/dom.js',
  'web/app/download.js',
  'web/app/downloads.js',
  'web/app/drop.js',
  'web/app/files.js',
  'web/app/file-tree.js',
  'web/app/file-rows.js',
  'web/app/file-details.js',
  'web/app/ntfs-record.js',
  'web/app/hash.js',
  'web/app/hex-card.js',
  'web/app/hexview.js',
  'web/app/inspector.js',
  'web/app/jobs.js',
  'web/app/preview.js',
  'web/app/zipexport.js',
  'web/app/listing.js',
  'web/app/treetools.js',
  'web/app/keeping.js',
  'web/app/notices.js',
  'web/app/opening.js',
  'web/app/partition-table.js',
  'web/app/recents-screen.js',
  'web/app/recents.js',
  'web/app/resume.js',
  'web/app/screens.js',
  'web/app/search.js',
  'web/app/service-worker.js',
  'web/app/state.js',
  'web/app/structure.js',
  'web/app/summary.js',
  'web/app/tabs.js',
  'web/app/tools.js',
  'web/app/verify.js',
  'web/app/viewer.js',
];
const OPTIONAL = ['web/manifest.json', 'web/samples/sample.vhdx.gz', 'web/icon.svg',
  'web/hash-wasm/sha256.umd.min.js', 'web/hash-wasm/sha1.umd.min.js', 'web/hash-wasm/md5.umd.min.js',
  'web/client-zip/index.js'];

// Paths are relative to this script, so the viewer can live under any path.
const path = (p) => new URL(p, self.location.href).pathname;
const ROOT = path('./');
const CACHED = new Set([...CORE, ...OPTIONAL].map(path));

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const put = async (p, required) => {
      const url = path(p);
      try {
        const res = await fetch(new Request(url, { cache: 'reload' }));
        if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
        await cache.put(url, res);
      } catch (e) {
        if (required) throw e;
      }
    };
    await Promise.all([...CORE.map((u) => put(u, true)), ...OPTIONAL.map((u) => put(u, false))]);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('vhdxview-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  // The page is cached as the root; "index.html" is the same page.
  const key = req.mode === 'navigate' || url.pathname === `${ROOT}index.html` ? ROOT : url.pathname;
  if (!CACHED.has(key)) return; // not ours to keep: the browser fetches it
  event.respondWith(networkFirst(req, key));
});

async function networkFirst(req, key) {
  const cache = await caches.open(CACHE);
  try {
    const res = await fetch(req);
    if (res.ok && res.type === 'basic') cache.put(key, res.clone()).catch(() => {});
    return res;
  } catch (e) {
    const hit = await cache.match(key);
    if (hit) return hit;
    throw e;
  }
}
