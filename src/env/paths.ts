/**
 * State roots, resolved once from the environment. Nothing else reads $HOME.
 *
 *   VENVOY_HOME      default ~/.venvoy           environments, config, logs
 *   VENVOY_PROJECTS  default ~/venvoy-projects   snapshot history per environment
 *
 * Both are used by their real paths: on clusters they are often reached through a link
 * (/home/u -> /gpfs/home/u, or VENVOY_HOME itself a link to scratch).
 */
import { basename, dirname, join, resolve } from "../util/path.ts";
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
  const venvoyHome = realPathOf(resolve(explicitHome || join(home, ".venvoy")));
  const projects = realPathOf(resolve(explicitProjects || join(home, "venvoy-projects")));
  return {
    home,
    venvoyHome,
    projects,
    environments: join(venvoyHome, "environments"),
    globalConfig: join(venvoyHome, "config.yaml"),
  };
}

/**
 * The real path of an absolute path: its longest existing ancestor resolved (links
 * followed), the rest appended. So every path venvoy derives from a state root agrees with
 * a resolved one (links judged where they live, mounts, containment checks), and removing
 * the state removes the folder rather than a link to it.
 */
export function realPathOf(path: string): string {
  const rest: string[] = [];
  let base = path;
  for (;;) {
    try {
      const real = Deno.realPathSync(base);
      return rest.length ? join(real, ...rest.reverse()) : real;
    } catch {
      const parent = dirname(base);
      if (parent === base) return path;
      rest.push(basename(base));
      base = parent;
    }
  }
}
