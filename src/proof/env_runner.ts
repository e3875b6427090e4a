/**
 * A ProcessRunner that adds variables to every process it starts (CONTAINERS_STORAGE_CONF,
 * APPTAINER_CACHEDIR…), and can send the programs' stdout to stderr, so that `verify`'s own
 * results stay alone on stdout. It wraps the real runner: spawning still happens only there.
 */
import type {
  ProcessRunner,
  RunRequest,
  RunResult,
  SpawnedProcess,
  SpawnRequest,
} from "../process/mod.ts";
import { printable } from "../ui/errors.ts";

/** Where escaped output goes (venvoy's stderr). */
export interface Sink {
  write(bytes: Uint8Array): Promise<number>;
}

export function withEnv(
  inner: ProcessRunner,
  vars: Record<string, string>,
  options: { stdoutToStderr?: boolean; sink?: Sink } = {},
): ProcessRunner {
  const sink = options.sink ?? Deno.stderr;
  return {
    env: (name) => (name in vars ? vars[name] : inner.env(name)),
    which: (program) => inner.which(program),
    async run(req: RunRequest): Promise<RunResult> {
      const full = { ...req, env: { ...req.env, ...vars } };
      const shown = req.stdout === "inherit" || req.stderr === "inherit";
      if (!options.stdoutToStderr || !shown || req.input !== undefined) {
        return await inner.run(full);
      }
      return await runEscaped(inner, full, sink);
    },
    spawn(req: SpawnRequest): SpawnedProcess {
      return inner.spawn({ ...req, env: { ...req.env, ...vars } });
    },
  };
}

/**
 * Runs `req` with what it would show (stdout and stderr) streamed to venvoy's stderr, each
 * line escaped (printable): a stranger's program cannot hide or forge the report that
 * follows it with terminal control sequences. Nothing is held in memory.
 */
async function runEscaped(inner: ProcessRunner, req: RunRequest, sink: Sink): Promise<RunResult> {
  const { stdin, input: _input, ...rest } = req;
  const proc = inner.spawn({ ...rest, stdin: stdin ?? "null", stdout: "piped", stderr: "piped" });
  const pumps = [proc.stdout, proc.stderr].map((s) => s ? pumpEscaped(s, sink) : Promise.resolve());
  const [status] = await Promise.all([proc.status, ...pumps]);
  return status;
}

async function pumpEscaped(stream: ReadableStream<Uint8Array>, sink: Sink): Promise<void> {
  const enc = new TextEncoder();
  let rest = "";
  const write = (text: string) => sink.write(enc.encode(text)).catch(() => 0);
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    if (lines.length) await write(lines.map((l) => printable(l)).join("\n") + "\n");
    // A line without an end is shown in pieces: no limit on what is kept back.
    if (rest.length > 64 * 1024) {
      await write(printable(rest));
      rest = "";
    }
  }
  if (rest) await write(printable(rest) + "\n");
}
