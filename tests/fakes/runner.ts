/**
 * A recording ProcessRunner for unit tests: every call's argv is recorded, and answers
 * come from scripted handlers matched by argv prefix, so tests assert exact command lines.
 */
import type {
  ProcessRunner,
  RunRequest,
  RunResult,
  SpawnedProcess,
  SpawnRequest,
} from "../../src/process/mod.ts";

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

  run(req: RunRequest): Promise<RunResult> {
    this.calls.push(req);
    const found = this.#answers.find((a) => a.prefix.every((p, i) => req.cmd[i] === p));
    const partial = found
      ? (typeof found.answer === "function" ? found.answer(req) : found.answer)
      : {};
    return Promise.resolve({
      code: 0,
      signal: null,
      stdout: "",
      stderr: "",
      timedOut: false,
      ...partial,
    });
  }

  spawn(req: SpawnRequest): SpawnedProcess {
    const status = this.run(req as RunRequest);
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
