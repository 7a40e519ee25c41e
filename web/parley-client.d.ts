// What the page imports as ./parley-client.js: the typed client (parley-chat-client), which the
// server bundles for the browser.
export * from '../packages/client/src/index.ts';
