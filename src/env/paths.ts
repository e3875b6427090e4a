/**
 * State roots, resolved once from the environment. Nothing else reads $HOME.
 *
 *   VENVOY_HOME      default ~/.venvoy           environments, config, logs
 *   VENVOY_PROJECTS  default ~/venvoy-projects   snapshot history per environment
 */
import { join, resolve } from "../util/path.ts";
import { VenvoyError } from "../ui/errors.ts";

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
  if (!home) {
    throw new VenvoyError("cannot find your home folder: neither HOME nor USERPROFILE is set", {
      hint: "set HOME, or set both VENVOY_HOME and VENVOY_PROJECTS to where venvoy keeps its state",
    });
  }
  return home;
}

export function statePaths(env: EnvLookup = denoEnv): StatePaths {
  const explicitHome = env("VENVOY_HOME");
  const explicitProjects = env("VENVOY_PROJECTS");
  // With both state folders given (batch jobs, CI), no home folder is needed.
  const home = explicitHome && explicitProjects ? (env("HOME") ?? "") : userHome(env);
  const venvoyHome = resolve(explicitHome || join(home, ".venvoy"));
  const projects = resolve(explicitProjects || join(home, "venvoy-projects"));
  return {
    home,
    venvoyHome,
    projects,
    environments: join(venvoyHome, "environments"),
    globalConfig: join(venvoyHome, "config.yaml"),
  };
}
