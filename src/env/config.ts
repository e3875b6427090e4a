/**
 * config.yaml of an environment: the keys of the environment contract, read and written
 * atomically.
 *
 * `venvoy run` reads it on every session, and loading the YAML library costs more than the
 * rest of the read (~15 ms: it pulls in node:process). So each read also leaves the parsed
 * result in .config.cache.json beside it, keyed by the YAML text and the parser's own code:
 * an edit to the file, or another venvoy, simply misses the cache and parses again. config.yaml stays the only source of truth; the cache can be deleted.
 */
import { writeFileAtomic } from "../util/atomic.ts";
import { join } from "../util/path.ts";
import { VenvoyError } from "../ui/errors.ts";
import { VERSION } from "../version.ts";
import type { EnvRuntime } from "./spec.ts";

export interface EnvConfig {
  name: string;
  runtime: EnvRuntime;
  python_version: string | null;
  r_version: string | null;
  created: string;
  host: { system: string; architecture: string };
  engine: string;
  base_image: string;
  base_image_pinned: string;
  image: string;
  image_id: string | null;
  packages: string[];
  dev_packages: string[];
  package_manager: "pip" | "conda";
  venvoy_version: string;
  /** `--as-of YYYY-MM-DD`: Python packages resolve as the index was that day (00:00 UTC). */
  as_of?: string | null;
  /** `--cran-url`, as given (it may hold {date}); R installs from it. */
  cran_url?: string | null;
}

const KEY_ORDER: (keyof EnvConfig)[] = [
  "name",
  "runtime",
  "python_version",
  "r_version",
  "created",
  "host",
  "engine",
  "base_image",
  "base_image_pinned",
  "image",
  "image_id",
  "packages",
  "dev_packages",
  "package_manager",
  "venvoy_version",
  "as_of",
  "cran_url",
];

export function configPath(envDir: string): string {
  return join(envDir, "config.yaml");
}

/** The parsed-config cache beside config.yaml (see above); never exported or archived. */
export const CONFIG_CACHE = ".config.cache.json";

type YamlLib = typeof import("yaml");
let yamlLib: YamlLib | null = null;
async function yaml(): Promise<YamlLib> {
  if (yamlLib) return yamlLib;
  const mod = await import("yaml");
  // yaml is CommonJS: bundled with code splitting, its exports arrive as the default.
  yamlLib = typeof mod.parse === "function"
    ? mod
    : (mod as unknown as { default: YamlLib }).default;
  return yamlLib;
}

export async function renderConfig(cfg: EnvConfig): Promise<string> {
  const ordered: Record<string, unknown> = {};
  for (const k of KEY_ORDER) {
    // as_of and cran_url are written only when set: older files stay byte-identical.
    if ((k === "as_of" || k === "cran_url") && !cfg[k]) continue;
    ordered[k] = cfg[k];
  }
  const { stringify } = await yaml();
  return "# venvoy environment; written by `venvoy init`\n" + stringify(ordered, { lineWidth: 0 });
}

export async function parseConfig(text: string, source = "config.yaml"): Promise<EnvConfig> {
  const { parse } = await yaml();
  // deno-lint-ignore no-explicit-any
  let data: any;
  try {
    data = parse(text);
  } catch (e) {
    throw new VenvoyError(`${source} is not valid YAML: ${(e as Error).message}`, {
      hint: "fix the file, or rebuild with `venvoy init --force`",
    });
  }
  if (!data || typeof data !== "object" || typeof data.name !== "string") {
    throw new VenvoyError(`${source} has no environment name`, {
      hint: "rebuild it with `venvoy init --force --name NAME`",
    });
  }
  const str = (v: unknown) => (v === undefined || v === null ? null : String(v));
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
  return {
    name: data.name,
    runtime: data.runtime === "r" ? "r" : "python",
    python_version: str(data.python_version),
    r_version: str(data.r_version),
    created: str(data.created) ?? "",
    host: {
      system: String(data.host?.system ?? ""),
      architecture: String(data.host?.architecture ?? ""),
    },
    engine: String(data.engine ?? ""),
    base_image: String(data.base_image ?? ""),
    base_image_pinned: String(data.base_image_pinned ?? data.base_image ?? ""),
    image: String(data.image ?? ""),
    image_id: str(data.image_id),
    packages: list(data.packages),
    dev_packages: list(data.dev_packages),
    package_manager: data.package_manager === "conda" ? "conda" : "pip",
    venvoy_version: String(data.venvoy_version ?? ""),
    ...(str(data.as_of) ? { as_of: str(data.as_of) } : {}),
    ...(str(data.cran_url) ? { cran_url: str(data.cran_url) } : {}),
  };
}

/**
 * Which parser made a cached result. Not the parser's own source text: the single-file build
 * holds two copies of this module (run's fast path is bundled whole, scripts/bundle.ts),
 * minified apart, so `venvoy run` and every other command would each miss the other's cache
 * and parse the YAML again. Raise PARSER_REVISION when parseConfig reads the same text
 * differently; a new venvoy version starts afresh anyway.
 */
const PARSER_REVISION = 1;

/** What the cache is good for: the parser, and the YAML text kept whole (compared as text). */
function cacheKey(text: string): string {
  return `venvoy ${VERSION}, config parser ${PARSER_REVISION}\0${text}`;
}

async function writeCache(envDir: string, key: string, config: EnvConfig): Promise<void> {
  try {
    await writeFileAtomic(join(envDir, CONFIG_CACHE), JSON.stringify({ key, config }) + "\n");
  } catch { /* a read-only environment folder: it is only a cache */ }
}

export async function readConfig(
  envDir: string,
  options: { cache?: boolean } = {},
): Promise<EnvConfig> {
  const path = configPath(envDir);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new VenvoyError(`cannot read ${path}: ${(e as Error).message}`, {
      hint: "is this a venvoy environment folder? `venvoy list` shows the environments",
    });
  }
  // Without the cache (export, dry runs): parse, and write nothing into the folder.
  if (options.cache === false) return await parseConfig(text, path);
  const key = cacheKey(text);
  try {
    const cached = JSON.parse(await Deno.readTextFile(join(envDir, CONFIG_CACHE)));
    if (cached?.key === key && cached.config && typeof cached.config === "object") {
      return cached.config as EnvConfig;
    }
  } catch { /* none yet, or unreadable: parse */ }
  const config = await parseConfig(text, path);
  await writeCache(envDir, key, config);
  return config;
}

export async function writeConfig(envDir: string, cfg: EnvConfig): Promise<void> {
  const text = await renderConfig(cfg);
  await writeFileAtomic(configPath(envDir), text);
  await writeCache(envDir, cacheKey(text), await parseConfig(text));
}
