/** The environments on disk: where they live, which exist, and picking one by name. */
import { join } from "../util/path.ts";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { type EnvConfig, readConfig } from "./config.ts";
import { chooseEnvName, isValidName, validateName } from "../util/names.ts";
import type { StatePaths } from "./paths.ts";

export function envDir(paths: StatePaths, name: string): string {
  return join(paths.environments, validateName(name));
}

/** An environment exists when its config.yaml does (a failed first build leaves none). */
export async function envExists(paths: StatePaths, name: string): Promise<boolean> {
  try {
    return (await Deno.stat(join(envDir(paths, name), "config.yaml"))).isFile;
  } catch {
    return false;
  }
}

export async function listEnvNames(paths: StatePaths): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(paths.environments)) {
      if (e.isDirectory && isValidName(e.name) && (await envExists(paths, e.name))) {
        names.push(e.name);
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

export interface LoadedEnv {
  name: string;
  dir: string;
  config: EnvConfig;
}

/**
 * Runs on every environment loadEnv returns, before returning it. The command layer sets it
 * (commands/context.ts): a snapshot of persist/ changes made outside venvoy. null: none.
 */
export type EnvReadHook = (paths: StatePaths, env: LoadedEnv) => Promise<void>;
let readHook: EnvReadHook | null = null;

export function setEnvReadHook(hook: EnvReadHook | null): void {
  readHook = hook;
}

export async function loadEnv(paths: StatePaths, name: string): Promise<LoadedEnv> {
  validateName(name);
  if (!(await envExists(paths, name))) {
    const names = await listEnvNames(paths);
    throw new VenvoyError(`unknown environment '${name}'`, {
      hint: names.length
        ? `environments here: ${names.join(", ")}; or create it: venvoy init --name ${name}`
        : `there are no environments yet; create one: venvoy init --name ${name}`,
    });
  }
  const dir = envDir(paths, name);
  const env = { name, dir, config: await readConfig(dir) };
  if (readHook) await readHook(paths, env);
  return env;
}

/**
 * The name from a positional argument or --name; with neither, the only environment
 * (and `note` says so), else an error listing them.
 */
export async function pickEnvName(
  paths: StatePaths,
  given: { positional?: string; flag?: string },
  note: (msg: string) => void,
): Promise<string> {
  const { positional, flag } = given;
  if (positional && flag && positional !== flag) {
    throw new UsageError(`two names given: '${positional}' and --name '${flag}'`, {
      hint: "give the environment's name once",
    });
  }
  const name = positional ?? flag;
  const chosen = chooseEnvName(name || undefined, name ? [] : await listEnvNames(paths));
  if (chosen.note) note(chosen.note);
  return chosen.name;
}
