import type { TestApp } from './app.ts';

/** `/v1/chats/:id` as OpenAPI writes it: `/v1/chats/{id}`. */
export const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/**
 * The statuses /openapi.json documents for each route, read from the app itself: `statuses('GET', '/v1/chats/:id')`
 * (the route's pattern, as the router has it); null for a route the document leaves out.
 */
export async function documentedStatuses(
  t: TestApp,
): Promise<(method: string, url: string) => Set<number> | null> {
  const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  const document = response.json<{
    paths: Record<string, Record<string, { responses?: Record<string, unknown> }> | undefined>;
  }>();
  return (method, url) => {
    const operation = document.paths[openApiPath(url)]?.[method.toLowerCase()];
    return operation ? new Set(Object.keys(operation.responses ?? {}).map(Number)) : null;
  };
}
