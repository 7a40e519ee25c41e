/** The JSON:API media type. Servers send it, and read it, only without media type parameters. */
export const JSONAPI_MEDIA_TYPE = 'application/vnd.api+json';

interface MediaRange {
  type: string;
  /** Media type parameters: those before `q` (RFC 9110: `q` and what follows it are accept parameters). */
  parameters: string[];
  q: number;
}

/** Splits at commas outside quoted strings. */
function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of text) {
    if (char === '"') {
      quoted = !quoted;
    }
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts;
}

function parseRange(text: string): MediaRange | null {
  const [type = '', ...rest] = splitOutsideQuotes(text, ';').map((part) => part.trim());
  if (type === '') {
    return null;
  }
  const parameters: string[] = [];
  let q = 1;
  for (const parameter of rest) {
    const [name = '', value = ''] = parameter.split('=', 2).map((s) => s.trim());
    if (name.toLowerCase() === 'q') {
      const weight = Number(value);
      q = Number.isFinite(weight) ? weight : 1;
      break;
    }
    if (name !== '') {
      parameters.push(parameter);
    }
  }
  return { type: type.toLowerCase(), parameters, q };
}

export interface AcceptVerdict {
  /**
   * `plain`: JSON:API is acceptable (named at least once without media type parameters); `parameterized`: it is
   * named, but every time with parameters (a 406 under JSON:API 1.0); `absent`: not named.
   */
  jsonapi: 'plain' | 'parameterized' | 'absent';
  /** Plain JSON is acceptable: no Accept header, or one naming application/json, application/* or *\/*. */
  json: boolean;
  /** application/json is named explicitly (a client that prefers the native representation). */
  namesJson: boolean;
}

export function judgeAccept(header: string | undefined): AcceptVerdict {
  if (header === undefined || header.trim() === '') {
    return { jsonapi: 'absent', json: true, namesJson: false };
  }
  const ranges = splitOutsideQuotes(header, ',')
    .map(parseRange)
    .filter((range): range is MediaRange => range !== null && range.q > 0);
  const jsonapi = ranges.filter((range) => range.type === JSONAPI_MEDIA_TYPE);
  const namesJson = ranges.some((range) => range.type === 'application/json');
  return {
    jsonapi:
      jsonapi.length === 0
        ? 'absent'
        : jsonapi.some((range) => range.parameters.length === 0)
          ? 'plain'
          : 'parameterized',
    json: namesJson || ranges.some((range) => range.type === '*/*' || range.type === 'application/*'),
    namesJson,
  };
}

/** Whether a Content-Type header is JSON:API, and whether it carries media type parameters (a 415). */
export function judgeContentType(header: string | undefined): 'plain' | 'parameterized' | 'other' {
  if (header === undefined) {
    return 'other';
  }
  const range = parseRange(header);
  if (!range || range.type !== JSONAPI_MEDIA_TYPE) {
    return 'other';
  }
  // A `q` has no business in a Content-Type: it counts as a parameter there.
  return header.includes(';') ? 'parameterized' : 'plain';
}
