import type { JsonApiConfig } from './jsonapi.config.ts';
import { attributeNames, foreignKeyNames, type Operation, type ResourceType } from './jsonapi.fields.ts';
import type { Loader } from './jsonapi.loader.ts';
import {
  relationshipNames,
  relationshipOf,
  resourceDef,
  type AnyView,
  type Identifier,
  type Linkage,
  type RelationshipPaths,
} from './jsonapi.resources.ts';

export interface Links {
  self?: string;
  related?: string;
  first?: string | null;
  prev?: string | null;
  next?: string | null;
}

export interface ResourceObject {
  type: ResourceType;
  id: string;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, { data?: Linkage; links: Links }>;
  links?: { self: string };
  meta?: Record<string, unknown>;
}

export interface Document {
  data?: ResourceObject | ResourceObject[] | Linkage;
  included?: ResourceObject[];
  links?: Links;
  meta?: Record<string, unknown>;
  jsonapi: { version: '1.0' };
}

/** A resource in the making: its type and the view it is presented from. */
export interface Node {
  type: ResourceType;
  id: string;
  view: AnyView;
  /** What the route knows about this resource beyond its view (a search hit's highlight). */
  meta?: Record<string, unknown>;
}

export function nodeOf(type: ResourceType, view: AnyView): Node {
  return { type, id: resourceDef(type).id(view), view };
}

const keyOf = (node: Identifier) => `${node.type}\u0000${node.id}`;
const identifierOf = (node: Node): Identifier => ({ type: node.type, id: node.id });

/** `include=lastMessage.author,members` as a tree: lastMessage → author, members. */
export interface IncludeTree {
  children: Map<string, IncludeTree>;
}

export const noIncludes = (): IncludeTree => ({ children: new Map() });

/** What configuration makes of each type: which attributes show, which operations speak JSON:API. */
export class Presentation {
  constructor(readonly config: JsonApiConfig) {}

  /** Attributes shown for a type: the whitelisted ones (or all), then the foreign keys configured to show. */
  attributes(type: ResourceType): string[] {
    const whitelist = this.config.attributes[type];
    const attributes = whitelist
      ? attributeNames(type).filter((name) => whitelist.includes(name))
      : attributeNames(type);
    return [...attributes, ...(this.config.foreignKeys[type] ?? [])];
  }

  /** Foreign keys a client may send as attributes: those shown as attributes. */
  isForeignKeyShown(type: ResourceType, name: string): boolean {
    return (this.config.foreignKeys[type] ?? []).includes(name);
  }

  isForeignKey(type: ResourceType, name: string): boolean {
    return foreignKeyNames(type).includes(name);
  }

  /** The names `fields[type]` may list. */
  fieldNames(type: ResourceType): string[] {
    return [...this.attributes(type), ...relationshipNames(type)];
  }

  excluded(type: ResourceType, operation: Operation): boolean {
    return this.config.exclude.includes(type) || this.config.exclude.includes(`${type}.${operation}`);
  }
}

export interface RenderOptions {
  /** What every link starts with: the public URL, or the request's origin and Parley's mount prefix. */
  base: string;
  include: IncludeTree;
  /** Sparse fieldsets: per type, the fields to show. */
  fields: Map<ResourceType, Set<string>>;
  loader: Loader;
  presentation: Presentation;
}

function prefixed(base: string, paths: RelationshipPaths): Links {
  return { self: base + paths.self, ...(paths.related ? { related: base + paths.related } : {}) };
}

/**
 * Turns views into resource objects and, for `include`, gathers the related resources (each once, never one that
 * is already primary data) with full linkage.
 */
export class Compound {
  private readonly linkage = new Map<string, Linkage>();
  private readonly included = new Map<string, Node>();
  private readonly primary = new Set<string>();

  constructor(private readonly options: RenderOptions) {}

  async build(primary: Node[]): Promise<{ data: ResourceObject[]; included: ResourceObject[] }> {
    for (const node of primary) {
      this.primary.add(keyOf(node));
      this.options.loader.remember(node.type, node.view);
    }
    await this.walk(primary, this.options.include);
    await this.loadAlways([...primary, ...this.included.values()]);
    return {
      data: primary.map((node) => this.render(node)),
      included: [...this.included.values()].map((node) => this.render(node)),
    };
  }

  /** Follows one level of the include tree for nodes that all have the same type, then the levels below. */
  private async walk(nodes: Node[], tree: IncludeTree): Promise<void> {
    const type = nodes[0]?.type;
    if (type === undefined) {
      return;
    }
    for (const [name, subtree] of tree.children) {
      const relationship = relationshipOf(type, name);
      if (!relationship) {
        continue;
      }
      const related = await relationship.load(
        this.options.loader,
        nodes.map((node) => node.view),
      );
      const next = new Map<string, Node>();
      nodes.forEach((node, i) => {
        const targets = (related[i] ?? []).map((view) => nodeOf(relationship.type, view));
        const known = relationship.identify?.(node.view);
        const linkage =
          known !== undefined
            ? known
            : relationship.many
              ? targets.map(identifierOf)
              : targets[0]
                ? identifierOf(targets[0])
                : null;
        this.linkage.set(`${keyOf(node)}#${name}`, linkage);
        for (const target of targets) {
          next.set(keyOf(target), target);
        }
      });
      for (const [key, target] of next) {
        this.options.loader.remember(target.type, target.view);
        if (!this.primary.has(key) && !this.included.has(key)) {
          this.included.set(key, target);
        }
      }
      await this.walk([...next.values()], subtree);
    }
  }

  /** Linkage that is not in the view (a reply's message id) is loaded for every resource, included or not. */
  private async loadAlways(nodes: Node[]): Promise<void> {
    const byType = new Map<ResourceType, Node[]>();
    for (const node of nodes) {
      byType.set(node.type, [...(byType.get(node.type) ?? []), node]);
    }
    for (const [type, group] of byType) {
      for (const name of relationshipNames(type)) {
        const relationship = relationshipOf(type, name);
        if (!relationship?.always) {
          continue;
        }
        const pending = group.filter(
          (node) =>
            relationship.identify?.(node.view) === undefined && !this.linkage.has(`${keyOf(node)}#${name}`),
        );
        if (pending.length === 0) {
          continue;
        }
        const related = await relationship.load(
          this.options.loader,
          pending.map((node) => node.view),
        );
        pending.forEach((node, i) => {
          const targets = (related[i] ?? []).map((view) => identifierOf(nodeOf(relationship.type, view)));
          this.linkage.set(`${keyOf(node)}#${name}`, relationship.many ? targets : (targets[0] ?? null));
        });
      }
    }
  }

  render(node: Node): ResourceObject {
    const { base, fields, presentation } = this.options;
    const def = resourceDef(node.type);
    const fieldset = fields.get(node.type);
    const shown = (name: string) => fieldset === undefined || fieldset.has(name);
    const view = node.view as unknown as Record<string, unknown>;
    const resource: ResourceObject = { type: node.type, id: node.id };
    const attributes = pickAttributes(presentation, node.type, view, fieldset);
    if (Object.keys(attributes).length > 0) {
      resource.attributes = attributes;
    }
    const relationships: NonNullable<ResourceObject['relationships']> = {};
    for (const name of relationshipNames(node.type)) {
      const relationship = relationshipOf(node.type, name);
      if (!relationship || !shown(name)) {
        continue;
      }
      const data = this.linkage.get(`${keyOf(node)}#${name}`) ?? relationship.identify?.(node.view);
      relationships[name] = {
        ...(data !== undefined ? { data } : {}),
        links: prefixed(base, relationship.links(node.view)),
      };
    }
    if (Object.keys(relationships).length > 0) {
      resource.relationships = relationships;
    }
    resource.links = { self: base + def.self(node.view) };
    if (node.meta) {
      resource.meta = node.meta;
    }
    return resource;
  }
}

/** The attributes of a type shown for these values, after configuration and the sparse fieldset. */
export function pickAttributes(
  presentation: Presentation,
  type: ResourceType,
  values: Record<string, unknown>,
  fieldset: Set<string> | undefined,
): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const name of presentation.attributes(type)) {
    if ((fieldset === undefined || fieldset.has(name)) && values[name] !== undefined) {
      attributes[name] = values[name];
    }
  }
  return attributes;
}

/** The linkage of one relationship of one resource: from the view, or loaded. */
export async function linkageOf(loader: Loader, node: Node, name: string): Promise<Linkage | undefined> {
  const relationship = relationshipOf(node.type, name);
  if (!relationship) {
    return undefined;
  }
  const known = relationship.identify?.(node.view);
  if (known !== undefined) {
    return known;
  }
  const [related = []] = await relationship.load(loader, [node.view]);
  const targets = related.map((view) => identifierOf(nodeOf(relationship.type, view)));
  return relationship.many ? targets : (targets[0] ?? null);
}
