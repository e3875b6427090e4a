/**
 * stdout carries results; stderr carries progress, warnings and errors. Colour only on a
 * terminal and never with NO_COLOR; nothing animated when piped.
 */
import { CommandExit, VenvoyError } from "./errors.ts";

const enc = new TextEncoder();

export function isTty(stream: "stdout" | "stderr" | "stdin"): boolean {
  try {
    return Deno[stream].isTerminal();
  } catch {
    return false;
  }
}

export function colorEnabled(stream: "stdout" | "stderr" = "stderr"): boolean {
  const noColor = Deno.env.get("NO_COLOR");
  if (noColor !== undefined && noColor !== "") return false;
  if (Deno.env.get("TERM") === "dumb") return false;
  return isTty(stream);
}

const paint = (code: string) => (s: string, stream: "stdout" | "stderr" = "stderr") =>
  colorEnabled(stream) ? `\x1b[${code}m${s}\x1b[0m` : s;

export const bold = paint("1");
export const dim = paint("2");
export const red = paint("31");
export const green = paint("32");
export const yellow = paint("33");

/** A line of results on stdout. */
export function out(text = ""): void {
  Deno.stdout.writeSync(enc.encode(text + "\n"));
}

/** A message for people on stderr. */
export function info(text: string): void {
  Deno.stderr.writeSync(enc.encode(text + "\n"));
}

export function warn(text: string): void {
  info(`${yellow("venvoy: warning:")} ${text}`);
}

export function printJson(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

/** `venvoy: error: <what>` then `hint: <next step>`; stacks only with --debug. */
export function formatError(err: unknown, debug: boolean): { text: string; exitCode: number } {
  if (err instanceof CommandExit) return { text: "", exitCode: err.exitCode };
  if (err instanceof VenvoyError) {
    let text = `${red("venvoy: error:")} ${err.message}`;
    if (err.hint) text += `\n${bold("hint:")} ${err.hint}`;
    if (debug && err.stack) text += `\n${dim(err.stack)}`;
    return { text, exitCode: err.exitCode };
  }
  // The boot loader's refusal to load a module (src/boot/packed.ts CacheError) reaches here
  // from a lazy import. Its class belongs to the loader's own copy of the code, so it is
  // told by name; its message is already `venvoy: error: …` with its hint.
  if (err instanceof Error && err.name === "CacheError") return { text: err.message, exitCode: 1 };
  const e = err instanceof Error ? err : new Error(String(err));
  let text = `${red("venvoy: error:")} ${e.message}`;
  text += debug && e.stack
    ? `\n${dim(e.stack)}`
    : `\n${bold("hint:")} this is unexpected; re-run with --debug and report the stack`;
  return { text, exitCode: 1 };
}

/** Align rows into columns separated by two spaces (the last column is not padded). */
export function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  "))
    .join("\n");
}
