/**
 * Where in the app's source each declaration was made, so SARIF results can
 * point at the file and line of the offending `app.model(...)`,
 * `app.route(...)` or `app.gpuPool(...)` call.
 *
 * A `SourceOf` maps a spec path (`gpuPools.big`, `routes.POST /rank.rateLimit`,
 * `models.intent@1.artifact`) to a location. When the App records its call
 * sites, its own lookup is used; otherwise `declarationsIn` finds the
 * declarations in the app module's text.
 */
import { readFileSync } from "node:fs";

/** A file and a 1-based line. */
export interface SourceLocation {
  file: string;
  line: number;
}

/** The location of the declaration a spec path belongs to, if known. */
export type SourceOf = (path: string) => SourceLocation | undefined;

/** The App builder method that declares each spec section. */
const METHOD_SECTION: Record<string, string> = {
  region: "regions",
  gpuPool: "gpuPools",
  scalingPolicy: "scalingPolicies",
  model: "models",
  function: "functions",
  route: "routes",
};

interface Declaration {
  section: string;
  key: string;
  line: number;
}

/** Every `.<method>("name", ...)` declaration in `text`, with its spec key and line. */
export function declarationsIn(text: string): Declaration[] {
  const found: Array<Declaration & { index: number }> = [];
  const call = /\.(region|gpuPool|scalingPolicy|model|function|route)\(\s*(["'`])((?:(?!\2)[^\\\n]|\\.)+)\2/g;
  for (let match = call.exec(text); match; match = call.exec(text)) {
    const line = text.slice(0, match.index).split("\n").length;
    found.push({ section: METHOD_SECTION[match[1]], key: match[3], line, index: match.index });
  }
  // A model's key is name@version: its version is in the arguments, before the next declaration.
  found.forEach((declaration, i) => {
    if (declaration.section !== "models") return;
    const args = text.slice(declaration.index, found[i + 1]?.index ?? text.length);
    const version = /\bversion\s*:\s*(["'`])([^"'`]+)\1/.exec(args)?.[2];
    if (version) declaration.key = `${declaration.key}@${version}`;
  });
  return found.map(({ section, key, line }) => ({ section, key, line }));
}

/** Looks spec paths up among `declarations` made in `file`. */
export function sourceLookup(file: string, declarations: readonly Declaration[]): SourceOf {
  return (path) => {
    const dot = path.indexOf(".");
    if (dot < 0) return undefined;
    const section = path.slice(0, dot);
    const rest = path.slice(dot + 1);
    // Keys may hold dots (a route's path): the longest key the path starts with wins.
    const match = declarations
      .filter((d) => d.section === section && (rest === d.key || rest.startsWith(`${d.key}.`)))
      .sort((a, b) => b.key.length - a.key.length)[0];
    return match && { file, line: match.line };
  };
}

/**
 * The source lookup of an app: the App's own (`sourceOf`, from the call sites
 * it recorded) when it has one, else the declarations found in `file`'s text,
 * and for a path found by neither, nothing.
 */
export function appSourceOf(file: string, app?: { sourceOf?: (path: string) => SourceLocation | undefined }): SourceOf {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    // No text to search: only the App's own lookup can answer.
  }
  const fromText = sourceLookup(file, declarationsIn(text));
  const recorded = typeof app?.sourceOf === "function" ? app.sourceOf.bind(app) : undefined;
  return (path) => recorded?.(path) ?? fromText(path);
}
