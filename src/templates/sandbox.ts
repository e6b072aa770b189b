/**
 * The only way Creditpulse makes a liquidjs engine. Templates are data: an engine reads its partials from an
 * in-memory map of the product's own named templates (the generated bundle), never from a file system, and
 * every render runs under limits so a template cannot hold the process.
 *
 * - `{% include %}`, `{% render %}` and `{% layout %}` resolve a name only when it is a key of the map (for
 *   reminders: "overdue.html", "layout.text", ...). Anything else (a path, "../", an absolute path,
 *   "package.json", the secret, the database) is a lookup error; no code path here can open a file.
 * - parseLimit bounds the characters parsed per engine, renderLimit the milliseconds of one render call (the
 *   renderer gives each email one shared budget), memoryLimit the values one render may allocate.
 */
import { type FS, Liquid, type LiquidOptions } from "liquidjs";
import { TEMPLATE_BUNDLE } from "./bundle.gen";

/** Largest template a member may store or preview (characters). */
export const MAX_TEMPLATE_CHARS = 64 * 1024;
/** Characters one engine may parse over its life (every template and partial of a run, cached once each). */
export const PARSE_LIMIT = 4_000_000;
/** Milliseconds one email (all of its parts together) may spend rendering. */
export const RENDER_BUDGET_MS = 250;
/** Values one render call may allocate (liquidjs counts range items, array and string sizes). */
export const MEMORY_LIMIT = 10_000_000;

const PARTIALS_ROOT = "Creditpulse's own templates";

export type TemplateKind = "reminders" | "digest";

/** The product's own templates of one kind, by name ("overdue.html", "layout.text"; digest: "html"). */
export function bundled(kind: TemplateKind): ReadonlyMap<string, string> {
  const prefix = `${kind}/`;
  const out = new Map<string, string>();
  for (const [key, text] of Object.entries(TEMPLATE_BUNDLE))
    if (key.startsWith(prefix)) out.set(key.slice(prefix.length), text);
  return out;
}

/** A liquidjs file system over a fixed map of names: no paths, no directories, no fallback. */
export function namedPartials(partials: ReadonlyMap<string, string>): FS {
  const has = (name: string) => partials.has(name);
  const read = (name: string) => {
    const text = partials.get(name);
    if (text === undefined) throw new Error(`ENOENT: no partial named ${JSON.stringify(name)}`);
    return text;
  };
  return {
    exists: async (name) => has(name),
    existsSync: has,
    readFile: async (name) => read(name),
    readFileSync: read,
    // The directory is ignored: a name is looked up as written, never joined onto a path.
    resolve: (_dir, file) => file,
    contains: async (_root, name) => has(name),
    containsSync: (_root, name) => has(name),
    sep: "/",
  };
}

export interface SandboxOptions {
  partials: ReadonlyMap<string, string>;
  html: boolean;
}

/** A liquidjs engine for user-editable templates: strict, limited, and blind to the file system. */
export function sandboxedLiquid(opts: SandboxOptions): Liquid {
  const options: LiquidOptions = {
    strictVariables: true,
    strictFilters: true,
    ownPropertyOnly: true,
    fs: namedPartials(opts.partials),
    // Not directories: the name liquidjs's lookup errors quote ("Failed to lookup "x" in "...").
    root: [PARTIALS_ROOT],
    partials: [PARTIALS_ROOT],
    layouts: [PARTIALS_ROOT],
    relativeReference: false,
    extname: "",
    // The map never changes for an engine: parse each partial once (parseLimit counts every parse).
    cache: true,
    parseLimit: PARSE_LIMIT,
    renderLimit: RENDER_BUDGET_MS,
    memoryLimit: MEMORY_LIMIT,
    ...(opts.html ? { outputEscape: "escape" as const } : {}),
  };
  return new Liquid(options);
}

/** Thrown for a template that is not accepted before it is parsed (too long). */
export class TemplateTooLarge extends Error {
  constructor(chars: number) {
    super(`the template is ${chars} characters; the most allowed is ${MAX_TEMPLATE_CHARS}`);
  }
}
