// engine-start.js: starts the engine (its worker and WebAssembly) as soon
// as the page is parsed, before the viewer's modules have all been fetched,
// so that a first visit loads the two side by side. index.html loads it
// with async: it runs as soon as its one import is in, without waiting for
// the document to be parsed or for web/app/app.js's modules (a deferred
// module script would run just before app.js, which gains nothing).
import { ready } from './vhdxview.js';

// A failure is reported by the page (app.js listens for "fatal" and asks
// ready() again, which gives the same answer).
ready().catch(() => {});
