// engine-start.js: starts the engine (its worker and WebAssembly) as soon
// as the page is parsed, before the viewer's modules have all been fetched,
// so that a first visit loads the two side by side. index.html lists it
// before web/app/app.js; module scripts run in document order, each once
// its own few imports are in.
import { ready } from './vhdxview.js';

// A failure is reported by the page (app.js listens for "fatal" and asks
// ready() again, which gives the same answer).
ready().catch(() => {});
