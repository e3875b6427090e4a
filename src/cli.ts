/**
 * The command tree. It only declares commands; each action loads its module lazily, so
 * start-up stays fast and everything still bundles (string-literal imports).
 */
import { Command, CommanderError, Option } from "@commander-js/extra-typings";
import { UsageError } from "./ui/errors.ts";
import { VERSION } from "./version.ts";
import { ENGINE_NAMES } from "./runtime/types.ts";
import { register as registerRuntimeInfo } from "./commands/runtime_info.ts";
import { register as registerInit } from "./commands/init.ts";
import { register as registerRun } from "./commands/run.ts";
import { register as registerSubmit } from "./commands/submit.ts";
import { register as registerList } from "./commands/list.ts";
import { register as registerDelete } from "./commands/delete.ts";
import { register as registerPackageManagers } from "./commands/package_managers.ts";
import { register as registerSetup } from "./commands/setup.ts";
import { register as registerConfigure } from "./commands/configure.ts";
import { register as registerHistory } from "./commands/history.ts";
import { register as registerRestore } from "./commands/restore.ts";
import { register as registerFreeze } from "./commands/freeze.ts";
import { register as registerExport } from "./commands/export.ts";
import { register as registerImport } from "./commands/import.ts";
import { register as registerShellInit } from "./commands/shell_init.ts";
import { register as registerUpdate } from "./commands/update.ts";
import { register as registerUninstall } from "./commands/uninstall.ts";
import { register as registerSbom } from "./commands/sbom.ts";
import { register as registerRecord } from "./commands/record.ts";
import { register as registerVerify } from "./commands/verify.ts";
import { register as registerCompletions } from "./commands/completions.ts";

export { VERSION };

export type Program = ReturnType<typeof buildProgram>;

/**
 * `completion: false` leaves out `completions` and `complete`: the completion library adds
 * its own to that tree (src/commands/completions.ts).
 */
export function buildProgram(options: { completion?: boolean } = {}) {
  const program = new Command("venvoy")
    .description(
      "Reproducible, containerized Python and R environments, on Docker, Podman,\n" +
        "Apptainer and Singularity, from a laptop to an HPC cluster.",
    )
    .version(VERSION, "-V, --version", "print the venvoy version")
    .addOption(
      new Option("--engine <engine>", "use this container runtime (or set VENVOY_ENGINE)")
        .choices(ENGINE_NAMES),
    )
    .option("--debug", "show stack traces with errors")
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .showSuggestionAfterError(true)
    .helpCommand(true);
  program.addHelpText(
    "after",
    `
Examples:
  venvoy runtime-info                          which runtime venvoy uses here, and why
  venvoy init --name study --python-version 3.12
  venvoy run study --command "python analysis.py"
  venvoy history --name study                  what changed, snapshot by snapshot
  venvoy export --name study --format archive  one file that restores exactly
  venvoy import study-archive-20261121_101500.tar.gz
  venvoy --engine apptainer run study          force a runtime for one command
  venvoy submit --name study --array 1-8 --command "python task.py"   a SLURM job array
  venvoy completions bash > ~/.local/share/bash-completion/completions/venvoy

Environment:
  VENVOY_HOME      state folder (default ~/.venvoy)
  VENVOY_PROJECTS  snapshot history (default ~/venvoy-projects)
  VENVOY_ENGINE    force a runtime: docker, podman, apptainer or singularity
  NO_COLOR         disable colour

Exit codes: 0 ok, 1 failure, 2 usage error, 3 no usable container runtime;
\`venvoy run\` exits with the command's own code.`,
  );
  registerRuntimeInfo(program);
  registerInit(program);
  registerRun(program);
  registerSubmit(program);
  registerList(program);
  registerDelete(program);
  registerPackageManagers(program);
  registerSetup(program);
  registerConfigure(program);
  registerHistory(program);
  registerRestore(program);
  registerFreeze(program);
  registerExport(program);
  registerImport(program);
  registerRecord(program);
  registerVerify(program);
  registerShellInit(program);
  registerUpdate(program);
  registerUninstall(program);
  registerSbom(program);
  if (options.completion !== false) {
    registerCompletions(program, () => buildProgram({ completion: false }) as unknown as Command);
  }
  return program;
}

/** Parses and runs; throws typed errors for main.ts to turn into exit codes. */
export async function runCli(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (["commander.helpDisplayed", "commander.version", "commander.help"].includes(e.code)) {
        return;
      }
      const sub = argv.find((a) => !a.startsWith("-"));
      const known = sub && program.commands.some((c) => c.name() === sub);
      throw new UsageError(e.message.replace(/^error: /, ""), {
        hint: `see 'venvoy ${known ? `${sub} ` : ""}--help'`,
      });
    }
    throw e;
  }
}
