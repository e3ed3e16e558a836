/** `cloudloom init [dir]`: scaffolds a working app, anywhere, that depends on the cloudloom package. */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { NAME_PATTERN } from "../../sdk/spec/schema";
import { UsageError, type CommandIo } from "../io";

/** Usage text of the init command. */
export const INIT_USAGE = `cloudloom init [dir] [--name NAME]

Scaffolds a cloudloom app in dir (default: the current directory), which must
not hold any of the files it writes: app.ts with one function, its handler
(functions/hello.ts), package.json depending on cloudloom, tsconfig.json, a
Pulumi project (Pulumi.yaml with typed config, index.ts, one stack file per
target) and a README. --name names the app and the Pulumi project (default:
the folder's name, as a DNS label). Then:

  cd dir && npm install && npx cloudloom serve .

Exit codes: 0 written, 2 usage error (a file exists, a bad name).`;

/** Template files end in .tmpl; these are renamed (npm pack leaves out dotfiles named .gitignore). */
const RENAMED: Record<string, string> = { gitignore: ".gitignore", npmrc: ".npmrc" };

/** The templates folder: templates/app at the package root, from the sources or from dist/. */
function templatesDir(): string {
  const candidates = [resolve(__dirname, "../../templates/app"), resolve(__dirname, "../../../templates/app")];
  const found = candidates.find((dir) => existsSync(join(dir, "app.ts.tmpl")));
  if (!found) throw new Error(`cloudloom's templates are missing (looked in ${candidates.join(", ")})`);
  return found;
}

/** cloudloom's own version, for the scaffold's dependency range. */
function ownVersion(): string {
  const candidates = [resolve(__dirname, "../../package.json"), resolve(__dirname, "../../../package.json")];
  for (const file of candidates) {
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: string; version?: string };
    if (pkg.name === "cloudloom" && pkg.version) return pkg.version;
  }
  return "*";
}

/** A folder name as an app name (a DNS label, as the spec requires). */
export function appNameFrom(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 32)
    .replace(/-+$/, "");
  return NAME_PATTERN.test(name) ? name : "cloudloom-app";
}

function templateFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? templateFiles(dir, join(prefix, entry.name)) : entry.name.endsWith(".tmpl") ? [join(prefix, entry.name)] : [],
  );
}

function targetPath(template: string): string {
  const file = template.slice(0, -".tmpl".length);
  return join(dirname(file), RENAMED[basename(file)] ?? basename(file));
}

/** Runs the init command. */
export function initCommand(args: { dir?: string; name?: string }, io: CommandIo): number {
  const dir = resolve(args.dir ?? ".");
  const name = args.name ?? appNameFrom(basename(dir));
  if (!NAME_PATTERN.test(name))
    throw new UsageError(`--name ${name} is not a DNS label (lowercase letters, digits and dashes, starting with a letter, at most 32)`);
  const source = templatesDir();
  const files = templateFiles(source).map((template) => ({ template, path: targetPath(template) }));
  const existing = files.filter((file) => existsSync(join(dir, file.path))).map((file) => file.path);
  if (existing.length > 0) throw new UsageError(`${dir} already has ${existing.join(", ")}; init writes only into a folder without them`);
  const values: Record<string, string> = { name, cloudloomRange: `^${ownVersion()}` };
  for (const { template, path } of files) {
    const text = readFileSync(join(source, template), "utf8").replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const near = relative(process.cwd(), dir);
  const shown = near.startsWith("..") ? dir : near || ".";
  io.out(
    `cloudloom: wrote app "${name}" in ${dir}:\n${files.map((file) => `  ${file.path}\n`).join("")}\nNext:\n` +
      (shown === "." ? "" : `  cd ${shown}\n`) +
      `  npm install\n  npx cloudloom serve .\n  npx cloudloom plan . --target kubernetes\n`,
  );
  return 0;
}
