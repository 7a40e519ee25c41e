// What the page imports as ./parley-client.js: the typed client, which the server bundles for the browser.
export * from '../client/index.ts';
