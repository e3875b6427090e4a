/**
 * A recording ProcessRunner for unit tests: every call's argv is recorded, and answers
 * come from scripted handlers matched by argv prefix, so tests assert exact command lines.
 *
 * The fake is strict: a command no handler matches rejects with its argv shown, and the
 * test that ran it fails even when the code under test swallows that error (an afterEach
 * hook reports every unscripted command). Script each command a test really expects.
 */
import type {
  ProcessRunner,
  RunRequest,
  RunResult,
  SpawnedProcess,
  SpawnRequest,
} from "../../src/process/mod.ts";

/** Unscripted commands since the last test ended (any runner in this test module). */
const unscripted: string[][] = [];

/** Takes (and clears) the unscripted commands so far: for the fake's own test only. */
export function takeUnscripted(): string[][] {
  return unscripted.splice(0);
}

Deno.test.afterEach(() => {
  if (unscripted.length === 0) return;
  const seen = unscripted.splice(0);
  throw new Error(
    `RecordingRunner: ${seen.length} unscripted command(s); script them with runner.on():\n` +
      seen.map((cmd) => `  ${JSON.stringify(cmd)}`).join("\n"),
  );
});

export type Answer = Partial<RunResult> | ((req: RunRequest) => Partial<RunResult>);

export class RecordingRunner implements ProcessRunner {
  readonly calls: RunRequest[] = [];
  #answers: { prefix: string[]; answer: Answer }[] = [];
  #paths: Record<string, string>;
  #env: Record<string, string>;

  constructor(options: { paths?: Record<string, string>; env?: Record<string, string> } = {}) {
    this.#paths = options.paths ?? {};
    this.#env = options.env ?? {};
  }

  /** Answer commands whose argv starts with `prefix` (latest registration wins). */
  on(prefix: string[], answer: Answer): this {
    this.#answers.unshift({ prefix, answer });
    return this;
  }

  get argvs(): string[][] {
    return this.calls.map((c) => c.cmd);
  }

  env(name: string): string | undefined {
    return this.#env[name];
  }

  which(program: string): string | null {
    return this.#paths[program] ?? null;
  }

  #find(cmd: string[]): Answer | Error {
    const found = this.#answers.find((a) => a.prefix.every((p, i) => cmd[i] === p));
    if (found) return found.answer;
    unscripted.push([...cmd]);
    return new Error(`RecordingRunner: unscripted command ${JSON.stringify(cmd)}`);
  }

  run(req: RunRequest): Promise<RunResult> {
    this.calls.push(req);
    const answer = this.#find(req.cmd);
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve(this.#result(req, answer));
  }

  #result(req: RunRequest, answer: Answer): RunResult {
    const partial = typeof answer === "function" ? answer(req) : answer;
    return { code: 0, signal: null, stdout: "", stderr: "", timedOut: false, ...partial };
  }

  /** An unscripted spawn throws at once: nothing would ever await its status. */
  spawn(req: SpawnRequest): SpawnedProcess {
    this.calls.push(req as RunRequest);
    const answer = this.#find(req.cmd);
    if (answer instanceof Error) throw answer;
    const status = Promise.resolve(this.#result(req as RunRequest, answer));
    const empty = () => new ReadableStream<Uint8Array>({ start: (c) => c.close() });
    return {
      stdin: req.stdin === "piped" ? new WritableStream<Uint8Array>() : null,
      stdout: (req.stdout ?? "piped") === "piped" ? empty() : null,
      stderr: (req.stderr ?? "piped") === "piped" ? empty() : null,
      status,
      kill: () => {},
    };
  }
}

/**
 * A RecordingRunner whose spawned processes print `saved` on stdout: the bytes of a
 * `podman save` / `docker save` streamed to the exporter.
 */
export class SavingRunner extends RecordingRunner {
  constructor(public saved: Uint8Array) {
    super();
  }

  override spawn(req: SpawnRequest): SpawnedProcess {
    const proc = super.spawn(req);
    const bytes = this.saved;
    return {
      ...proc,
      stdout: new ReadableStream({
        start(c) {
          c.enqueue(bytes);
          c.close();
        },
      }),
    };
  }
}
