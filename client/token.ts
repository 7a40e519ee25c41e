import type { TokenSource } from './types.ts';

export async function resolveToken(token: TokenSource): Promise<string> {
  return typeof token === 'string' ? token : await token();
}
