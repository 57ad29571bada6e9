// Parse Mermaid diagrams with Mermaid's own parser, under plain Node (no browser).
//
// stdin:  a JSON array of diagram source strings.
// stdout: {"mermaid_version": "11.x.y", "jsdom_version": "...", "results": [...]}, one result
//         per input, in order: {"ok": true, "type": "<detected diagram type>"} or
//         {"ok": false, "error": "<message>"}.
// Exit status: 0 when the process worked (whatever the diagrams were), non-zero on a crash
// or bad input (message on stderr).
//
// Mermaid sanitises labels with DOMPurify, which binds to `window` when it is first
// imported; so jsdom's window must be global BEFORE mermaid is loaded, hence the dynamic
// import below instead of a static one.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// Keep stdout for the JSON answer alone: anything Mermaid (or its dependencies) logs goes
// to stderr.
for (const level of ['log', 'info', 'debug', 'trace', 'warn']) {
  console[level] = (...args) => console.error(...args);
}

const require = createRequire(import.meta.url);
const packageVersion = (name) => require(`${name}/package.json`).version;

function readSources() {
  const text = readFileSync(0, 'utf8');
  let sources;
  try {
    sources = JSON.parse(text);
  } catch (err) {
    throw new Error(`stdin is not JSON: ${err.message}`);
  }
  if (!Array.isArray(sources) || !sources.every((s) => typeof s === 'string')) {
    throw new Error('stdin must be a JSON array of strings');
  }
  return sources;
}

function installDom() {
  const { JSDOM } = require('jsdom');
  const dom = new JSDOM('<!DOCTYPE html><html><head></head><body></body></html>', {
    pretendToBeVisual: true,
  });
  const { window } = dom;
  // DOMPurify binds to `window`; `document` is what Mermaid itself reaches for. Nothing else
  // is needed for parse() (checked against every diagram type in Mermaid 11).
  globalThis.window = window;
  globalThis.document = window.document;
}

function errorMessage(err) {
  if (err instanceof Error) {
    return err.message || err.name;
  }
  if (typeof err === 'string') {
    return err;
  }
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

async function main() {
  const sources = readSources();
  installDom();
  const { default: mermaid } = await import('mermaid');
  mermaid.initialize({ startOnLoad: false });

  const results = [];
  for (const source of sources) {
    try {
      const parsed = await mermaid.parse(source, { suppressErrors: false });
      if (parsed === false) {
        // Only happens with suppressErrors: true; kept so a silent pass is impossible.
        results.push({ ok: false, error: 'mermaid.parse returned false' });
      } else {
        results.push({ ok: true, type: parsed.diagramType });
      }
    } catch (err) {
      results.push({ ok: false, error: errorMessage(err) });
    }
  }

  const answer = {
    mermaid_version: packageVersion('mermaid'),
    jsdom_version: packageVersion('jsdom'),
    results,
  };
  // Wait for the write to flush: stdout pipes are asynchronous on some platforms, and the
  // process exits explicitly (jsdom's window would otherwise keep it alive).
  await new Promise((resolve, reject) => {
    process.stdout.write(`${JSON.stringify(answer)}\n`, (err) => (err ? reject(err) : resolve()));
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`validate.mjs: ${err?.stack ?? err}`);
    process.exit(2);
  },
);
