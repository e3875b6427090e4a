import type { Command } from "@commander-js/extra-typings";

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("record")
    .description("run a command in an environment and keep a record to prove its outputs later")
    .option("-n, --name <name>", "the environment (default: the only one there is)")
    .option("--command <cmd>", "run this through `sh -c`, like venvoy run --command")
    .option("--inputs <paths...>", "files or folders the command reads (hashed before the run)")
    .option("--outputs <paths...>", "files or folders it writes, inside this folder")
    .option("--input <path>", "one input (repeatable)", collect)
    .option("--output <path>", "one output (repeatable)", collect)
    .addHelpText(
      "after",
      `
The command runs exactly as with \`venvoy run --command\`, with this folder at /workspace.
Then a run record is written to $VENVOY_PROJECTS/<name>/records/<UTC id>.json: the
command, the image ID, the snapshot id of the package state, the engine, the architecture,
start and end times, the exit code, and the sha256 of every input and output file
(folders are walked; links are recorded, not followed; paths relative to this folder).
Text outputs up to 1 MiB are kept beside the record, so \`venvoy verify\` can show the
first differing byte. An output missing after the run is an error (exit 1), and the
record says so; a failing command is recorded, and venvoy exits with its code.

stdout gets the record's path. \`venvoy history\` lists records beside the snapshots;
\`venvoy export --format archive --with-inputs\` carries them (and the inputs) to a
reviewer, who runs \`venvoy verify ARCHIVE\`.

Examples:
  venvoy record --command "python analysis.py" --inputs data/ --outputs results/
  venvoy record --name study --command "Rscript fit.R" --inputs data.csv --outputs fit.txt`,
    )
    .action(async (opts, cmd) => {
      const { makeContext, record } = await import("./record_action.ts");
      await record(makeContext(cmd.optsWithGlobals()), {
        name: opts.name,
        command: opts.command,
        inputs: [...(opts.inputs ?? []), ...(opts.input ?? [])],
        outputs: [...(opts.outputs ?? []), ...(opts.output ?? [])],
      });
    });
}
