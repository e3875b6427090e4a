/**
 * State roots, resolved once from the environment. Nothing else reads $HOME.
 *
 *   VENVOY_HOME      default ~/.venvoy           environments, config, logs
 *   VENVOY_PROJECTS  default ~/venvoy-projects   snapshot history per environment
 */
import { join, resolve } from "node:path";

export interface StatePaths {
  home: string;
  venvoyHome: string;
  projects: string;
  environments: string;
  globalConfig: string;
}

export type EnvLookup = (name: string) => string | undefined;

export const denoEnv: EnvLookup = (name) => Deno.env.get(name);

export function userHome(env: EnvLookup = denoEnv): string {
  const home = env("HOME") ?? env("USERPROFILE");
  if (!home) throw new Error("neither HOME nor USERPROFILE is set");
  return home;
}

export function statePaths(env: EnvLookup = denoEnv): StatePaths {
  const home = userHome(env);
  const venvoyHome = resolve(env("VENVOY_HOME") || join(home, ".venvoy"));
  const projects = resolve(env("VENVOY_PROJECTS") || join(home, "venvoy-projects"));
  return {
    home,
    venvoyHome,
    projects,
    environments: join(venvoyHome, "environments"),
    globalConfig: join(venvoyHome, "config.yaml"),
  };
}
