import type { TokenSource } from './types.js';

export async function resolveToken(token: TokenSource): Promise<string> {
  return typeof token === 'string' ? token : await token();
}
