/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4): what a scraper must be able to parse.
 * It throws, naming the line, on anything the format does not allow: a malformed name, label or value, a TYPE after
 * the family's samples or twice, a family split in two groups, a series given twice, a histogram without its +Inf
 * bucket or with buckets that are not cumulative, or a +Inf bucket that disagrees with `_count`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | null;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** As Prometheus reads values (Go's ParseFloat): also `NaN`, `Inf`, `+Inf`, `-Inf`, `Infinity`, in any case. */
function parseValue(raw: string, where: string): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(raw);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') {
      return Number.NaN;
    }
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)) {
    throw new Error(`${where}: "${raw}" is not a number`);
  }
  return Number(raw);
}

/** `{a="x",b="y\"z"}` from position `start` (at `{`): the labels and the position after `}`. */
function parseLabels(line: string, start: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  let i = start + 1;
  for (;;) {
    if (line[i] === '}') {
      return [labels, i + 1];
    }
    const eq = line.indexOf('=', i);
    if (eq < 0) {
      throw new Error(`${where}: a label without "="`);
    }
    const name = line.slice(i, eq);
    if (!LABEL_NAME.test(name)) {
      throw new Error(`${where}: "${name}" is not a label name`);
    }
    if (name in labels) {
      throw new Error(`${where}: label ${name} given twice`);
    }
    if (line[eq + 1] !== '"') {
      throw new Error(`${where}: the value of ${name} is not quoted`);
    }
    let value = '';
    let j = eq + 2;
    for (;;) {
      const c = line[j];
      if (c === undefined) {
        throw new Error(`${where}: the value of ${name} never ends`);
      }
      if (c === '"') {
        break;
      }
      if (c === '\\') {
        const next = line[j + 1];
        if (next === 'n') {
          value += '\n';
        } else if (next === '\\' || next === '"') {
          value += next;
        } else {
          throw new Error(`${where}: bad escape \\${next ?? ''} in ${name}`);
        }
        j += 2;
        continue;
      }
      value += c;
      j += 1;
    }
    labels[name] = value;
    i = j + 1;
    if (line[i] === ',') {
      i += 1;
    } else if (line[i] !== '}') {
      throw new Error(`${where}: expected "," or "}" after label ${name}`);
    }
  }
}

/** The family a sample belongs to: `x_bucket`, `x_sum`, `x_count` belong to histogram (or summary) `x`. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const exact = families.get(name);
  if (exact) {
    return exact;
  }
  const base = name.replace(/_(bucket|sum|count)$/, '');
  const family = families.get(base);
  if (family && (family.type === 'histogram' || family.type === 'summary') && base !== name) {
    if (name.endsWith('_bucket') && family.type !== 'histogram') {
      return undefined;
    }
    return family;
  }
  return undefined;
}

function checkHistogram(family: Family): void {
  const series = new Map<string, Sample[]>();
  const key = (labels: Record<string, string>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== 'le')
        .sort(),
    );
  for (const sample of family.samples) {
    const k = key(sample.labels);
    series.set(k, [...(series.get(k) ?? []), sample]);
  }
  for (const [k, samples] of series) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    if (!count || !sum) {
      throw new Error(`${family.name}${k}: a histogram needs _sum and _count`);
    }
    const inf = buckets.find((b) => b.labels.le === '+Inf');
    if (!inf) {
      throw new Error(`${family.name}${k}: no le="+Inf" bucket`);
    }
    if (inf.value !== count.value) {
      throw new Error(`${family.name}${k}: the +Inf bucket (${inf.value}) is not _count (${count.value})`);
    }
    let previous = -1;
    let previousLe = Number.NEGATIVE_INFINITY;
    for (const bucket of buckets) {
      const le = parseValue(bucket.labels.le ?? '', `${family.name} le`);
      if (le <= previousLe || bucket.value < previous) {
        throw new Error(`${family.name}${k}: buckets are not in order or not cumulative at le=${le}`);
      }
      previousLe = le;
      previous = bucket.value;
    }
  }
}

export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const finished = new Set<string>();
  const seen = new Set<string>();
  let current: Family | null = null;
  if (text !== '' && !text.endsWith('\n')) {
    throw new Error('the exposition must end with a line feed');
  }
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    const where = `line ${index + 1}`;
    if (line.trim() === '') {
      continue;
    }
    if (line.startsWith('#')) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (!match) {
        continue; // a comment
      }
      const [, keyword, name = '', rest = ''] = match;
      if (!METRIC_NAME.test(name)) {
        throw new Error(`${where}: "${name}" is not a metric name`);
      }
      let family = families.get(name);
      if (family && finished.has(name)) {
        throw new Error(`${where}: ${keyword} for ${name} after its samples`);
      }
      if (!family) {
        family = { name, type: 'untyped', help: null, samples: [] };
        families.set(name, family);
      }
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest.trim())) {
          throw new Error(`${where}: unknown type "${rest}"`);
        }
        if (family.type !== 'untyped' || family.samples.length > 0) {
          throw new Error(`${where}: a second TYPE for ${name}`);
        }
        family.type = rest.trim() as MetricType;
      } else {
        if (family.help !== null) {
          throw new Error(`${where}: a second HELP for ${name}`);
        }
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) {
          throw new Error(`${where}: bad escape in HELP`);
        }
        family.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      }
      continue;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) {
      throw new Error(`${where}: no metric name`);
    }
    const name = nameMatch[0];
    let position = name.length;
    let labels: Record<string, string> = {};
    if (line[position] === '{') {
      [labels, position] = parseLabels(line, position, where);
    }
    const parts = line.slice(position).trim().split(/\s+/);
    if (line[position] !== ' ' || parts.length < 1 || parts.length > 2) {
      throw new Error(`${where}: expected "name{labels} value [timestamp]"`);
    }
    const value = parseValue(parts[0]!, where);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) {
      throw new Error(`${where}: "${parts[1]}" is not a timestamp`);
    }
    let family = familyOf(name, families);
    if (!family) {
      family = { name, type: 'untyped', help: null, samples: [] };
      families.set(name, family);
    }
    if (current !== family) {
      if (finished.has(family.name)) {
        throw new Error(`${where}: the samples of ${family.name} are not in one group`);
      }
      if (current) {
        finished.add(current.name);
      }
      current = family;
    }
    if (family.type === 'histogram' && name === `${family.name}_bucket` && labels.le === undefined) {
      throw new Error(`${where}: a bucket without le`);
    }
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) {
      throw new Error(`${where}: ${id} given twice`);
    }
    seen.add(id);
    family.samples.push({ name, labels, value });
  }
  for (const family of families.values()) {
    if (family.type === 'histogram') {
      checkHistogram(family);
    }
  }
  return families;
}

/** Every sample of every family, flat. */
export function samples(families: Map<string, Family>): Sample[] {
  return [...families.values()].flatMap((family) => family.samples);
}

/** The value of the sample `name` whose labels include `labels` (0 when there is none: a counter not yet moved). */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const matching = samples(families).filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return matching.reduce((total, s) => total + s.value, 0);
}
