/** config.yaml of an environment: the keys of the environment contract, read and written atomically. */
import { dirname, join } from "node:path";
import { parse, stringify } from "yaml";
import { VenvoyError } from "../ui/errors.ts";
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
];

export function configPath(envDir: string): string {
  return join(envDir, "config.yaml");
}

export function renderConfig(cfg: EnvConfig): string {
  const ordered: Record<string, unknown> = {};
  for (const k of KEY_ORDER) ordered[k] = cfg[k];
  return "# venvoy environment; written by `venvoy init`\n" + stringify(ordered, { lineWidth: 0 });
}

export function parseConfig(text: string, source = "config.yaml"): EnvConfig {
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
  };
}

export async function readConfig(envDir: string): Promise<EnvConfig> {
  const path = configPath(envDir);
  return parseConfig(await Deno.readTextFile(path), path);
}

/** A temporary file in the same folder, then a rename: never half-written. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

export async function writeConfig(envDir: string, cfg: EnvConfig): Promise<void> {
  await writeFileAtomic(configPath(envDir), renderConfig(cfg));
}
