import type { Command } from "@commander-js/extra-typings";

export interface VerifyCommandOptions {
  record?: string;
  keep?: boolean;
  json?: boolean;
  network?: boolean;
  memory?: string;
  pids?: string;
  timeout?: string;
}

export function register(program: Command<[], { engine?: string; debug?: true }>) {
  program
    .command("verify")
    .description("re-run an archive's recorded runs in a throwaway home and compare outputs")
    .argument("<archive>", "an archive made by venvoy export --format archive")
    .option("--record <id>", "check only this record (default: every one)")
    .option("--keep", "keep the throwaway home (and storage) and print where")
    .option("--json", "print the result as JSON, for scripts")
    .option("--network", "give the re-runs the network (default: none; trust the archive first)")
    .option("--memory <size>", "memory limit of a re-run (default 2g; apptainer: none)")
    .option("--pids <n>", "process limit of a re-run (default 512; apptainer: none)")
    .option("--timeout <time>", "time limit of a re-run: 90s, 30m, 2h (default 1h)")
    .addHelpText(
      "after",
      `
The archive is verified and imported into a throwaway venvoy home; podman gets a
throwaway storage root (CONTAINERS_STORAGE_CONF), apptainer throwaway cache and temporary
folders; docker has one store, so the image is loaded there under a unique tag and removed
after. Each record's inputs (carried by \`export --with-inputs\`) are placed in a scratch
folder, the command runs again there, and each output is reported:

  same      the same sha256
  differs   another sha256 (for text outputs up to 1 MiB: the first differing byte)
  missing   not produced
  extra     produced in an output folder, but not in the record

then a verdict.

The re-runs are sandboxed: no network (--network gives it back), nothing of the host but
the scratch folder (apptainer: --containall, no site bind paths), no privileges (all
capabilities dropped, no new privileges), and limits on memory, processes and time
(--memory, --pids, --timeout raise them). A record that needs the network differs, and
the report says the re-run had none. Where Apptainer may not start a run without network,
verify stops before any record runs and says so.

The engine is --engine (venvoy --engine apptainer verify …), VENVOY_ENGINE,
or the one detected. Same numbers are promised only on the same CPU architecture; verify
says when the records were made on another one.

Exit codes: 0 every output the same, 1 anything differs or is missing (or the archive is
refused), 2 usage error, 3 no usable container runtime.

Examples:
  venvoy verify study-archive-20261201_101500.tar.gz
  venvoy verify study.tar.gz --record 20261201_101200 --json | jq .verdict
  venvoy --engine apptainer verify study.tar.gz
  venvoy verify study.tar.gz --network --timeout 2h   # a record that downloads its data`,
    )
    .action(async (archive, opts, cmd) => {
      const { makeContext, verify } = await import("./verify_action.ts");
      await verify(makeContext(cmd.optsWithGlobals()), archive, opts);
    });
}
