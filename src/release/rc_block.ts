/**
 * The one block venvoy's installer adds to a shell's startup file, and its removal.
 *
 *   # >>> venvoy >>>
 *   …PATH and `eval "$(venvoy shell-init bash)"`…
 *   # <<< venvoy <<<
 *
 * Adding appends "\n" + block to a non-empty file (a blank line before it, or the newline
 * the file's last line lacked); updating replaces the lines from marker to marker;
 * removing takes those lines and that one "\n" away again, so a file gets back exactly
 * the bytes it had before the install. install.sh writes the same block the same way
 * (tests/unit/release/install_sh_test.ts holds the two to each other).
 */
import { join } from "node:path";
import { UsageError, VenvoyError } from "../ui/errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import type { EnvLookup } from "../env/paths.ts";

export const BLOCK_BEGIN = "# >>> venvoy >>>";
export const BLOCK_END = "# <<< venvoy <<<";
/** The block's comment line (install.sh's VENVOY_BLOCK_NOTE). */
export const BLOCK_NOTE = "# Added by the venvoy installer; `venvoy uninstall` removes this block.";
/**
 * The same line in a file the installer created: uninstall deletes such a file once the
 * block is out of it, and leaves every other file there, even an empty one.
 */
export const BLOCK_NOTE_CREATED =
  "# Added by the venvoy installer, which created this file; `venvoy uninstall` removes both.";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type ShellName = typeof SHELLS[number];

export function isShellName(s: string): s is ShellName {
  return (SHELLS as readonly string[]).includes(s);
}

/** `dir` as the block writes it: under the home folder as "$HOME/…", so dotfiles travel. */
export function shellPath(dir: string, home: string): string {
  if (/["$`\\\n]/.test(dir)) {
    throw new UsageError(`cannot write a shell startup line for the folder '${dir}'`, {
      hint: 'choose an install folder without ", $, `, \\ or a newline in its name',
    });
  }
  const h = home.replace(/\/+$/, "");
  if (dir === h) return "$HOME";
  if (h && dir.startsWith(`${h}/`)) return `$HOME${dir.slice(h.length)}`;
  return dir;
}

export function renderBlock(
  shell: ShellName,
  options: { installDir: string; home: string; created?: boolean },
) {
  const dir = shellPath(options.installDir, options.home);
  const body = shell === "fish"
    ? [
      `if not contains -- "${dir}" $PATH`,
      `    set -gx PATH "${dir}" $PATH`,
      "end",
      "if command -q venvoy",
      "    venvoy shell-init fish | source",
      "end",
    ]
    : [
      `case ":$PATH:" in *":${dir}:"*) ;; *) export PATH="${dir}:$PATH" ;; esac`,
      `if command -v venvoy >/dev/null 2>&1; then eval "$(venvoy shell-init ${shell})"; fi`,
    ];
  return [
    BLOCK_BEGIN,
    options.created ? BLOCK_NOTE_CREATED : BLOCK_NOTE,
    ...body,
    BLOCK_END,
  ].join("\n") + "\n";
}

interface Span {
  /** Index of the first character of the BEGIN line. */
  start: number;
  /** Index just past the END line (past its line ending when it has one). */
  end: number;
  /** The block's lines end in "\r\n" (the file was converted after the install). */
  crlf: boolean;
}

function findBlock(text: string, from = 0): Span | null {
  const start = findLine(text, BLOCK_BEGIN, from);
  if (start < 0) return null;
  const endLine = findLine(text, BLOCK_END, start + BLOCK_BEGIN.length);
  if (endLine < 0) {
    throw new VenvoyError(`venvoy's block starts ('${BLOCK_BEGIN}') but never ends`, {
      hint: `put back the line '${BLOCK_END}' after it, or remove the block by hand`,
    });
  }
  const afterEnd = endLine + BLOCK_END.length;
  const ending = lineEnding(text, afterEnd);
  const crlf = text.startsWith("\r\n", start + BLOCK_BEGIN.length);
  return { start, end: afterEnd + (ending?.length ?? 0), crlf };
}

/** The line ending at `i`: "\n", "\r\n", "\r" or "" at the very end; null mid-line. */
function lineEnding(text: string, i: number): string | null {
  if (text[i] === "\n") return "\n";
  if (text[i] === "\r" && text[i + 1] === "\n") return "\r\n";
  if (text[i] === "\r" && i + 1 === text.length) return "\r";
  return i === text.length ? "" : null;
}

/**
 * Index of a line that is exactly `line`, at or after `from`, ending in "\n" or "\r\n"
 * (a file converted to CRLF after the install still has venvoy's block); -1 if none.
 */
function findLine(text: string, line: string, from: number): number {
  let i = text.indexOf(line, from);
  while (i >= 0) {
    const startsLine = i === 0 || text[i - 1] === "\n";
    if (startsLine && lineEnding(text, i + line.length) !== null) return i;
    i = text.indexOf(line, i + 1);
  }
  return -1;
}

export function hasBlock(text: string): boolean {
  return findLine(text, BLOCK_BEGIN, 0) >= 0;
}

/** Adds the block, or replaces the first one found (either line ending); the rest stays. */
export function upsertBlock(text: string, block: string): string {
  const span = findBlock(text);
  if (span) return text.slice(0, span.start) + block + text.slice(span.end);
  return text === "" ? block : `${text}\n${block}`;
}

/** Whether a block in `text` says the installer created the file. */
export function createdByInstaller(text: string): boolean {
  for (let span = findBlock(text); span; span = findBlock(text, span.end)) {
    const lines = text.slice(span.start, span.end).split("\n").map((l) => l.replace(/\r$/, ""));
    if (lines.includes(BLOCK_NOTE_CREATED)) return true;
  }
  return false;
}

/** Removes every venvoy block, with the line ending that adding put before it. */
export function removeBlock(text: string): string {
  let out = text;
  for (let span = findBlock(out); span; span = findBlock(out, span.start)) {
    let before = out.slice(0, span.start);
    const after = out.slice(span.end);
    // Take back the separator: at the end of the file always; in the middle (the user
    // wrote after the block) only a blank line, never the newline that ends a line. In a
    // file converted to CRLF since, the separator is "\r\n".
    const crlfBlank = before.endsWith("\r\n\r\n") || before.endsWith("\n\r\n");
    const nl = before.endsWith("\r\n") && (span.crlf || crlfBlank) ? "\r\n" : "\n";
    if (after === "" ? before.endsWith(nl) : (crlfBlank || before.endsWith("\n\n"))) {
      before = before.slice(0, -nl.length);
    }
    out = before + after;
    span.start = before.length;
  }
  return out;
}

/** Text whose every character is one byte (0-255): how editRcFile hands a file to an edit. */
export function bytesToByteString(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

export function byteStringToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255) throw new Error("rc edit produced a character that is not a byte");
    out[i] = c;
  }
  return out;
}

/** A block rendered as text (UTF-8 for a folder like /home/josé) as a byte string. */
export function utf8ByteString(text: string): string {
  return bytesToByteString(new TextEncoder().encode(text));
}

/** The startup file the installer writes for `shell` (install.sh chooses the same). */
export function rcFileFor(
  shell: ShellName,
  options: { home: string; os: string; env: EnvLookup },
): string {
  const { home, os, env } = options;
  switch (shell) {
    case "bash":
      // macOS terminals start login shells, which read ~/.bash_profile and not ~/.bashrc.
      return join(home, os === "darwin" ? ".bash_profile" : ".bashrc");
    case "zsh":
      return join(env("ZDOTDIR") || home, ".zshrc");
    case "fish":
      return join(env("XDG_CONFIG_HOME") || join(home, ".config"), "fish", "conf.d", "venvoy.fish");
  }
}

/** Every startup file a venvoy block may be in, for uninstall to look at. */
export function rcCandidates(options: { home: string; env: EnvLookup }): string[] {
  const { home, env } = options;
  const zdot = env("ZDOTDIR") || home;
  const fish = join(env("XDG_CONFIG_HOME") || join(home, ".config"), "fish");
  const files = [
    ...[".bashrc", ".bash_profile", ".bash_login", ".profile"].map((f) => join(home, f)),
    ...[".zshrc", ".zprofile", ".zshenv"].map((f) => join(zdot, f)),
    join(home, ".zshrc"),
    join(fish, "conf.d", "venvoy.fish"),
    join(fish, "config.fish"),
  ];
  return [...new Set(files)];
}

export type RcEditResult = "unchanged" | "written" | "removed";

/**
 * Applies `edit` to a startup file's bytes: the edit gets and returns a byte string (one
 * character per byte, see utf8ByteString), so bytes that are not UTF-8 come back exactly.
 * Writes only when the bytes change, atomically (a temporary file beside it, then rename),
 * keeping its mode; a link is followed so the file it points to is edited. A file the edit
 * empties is deleted (unless it is reached through a link) with `deleteIfCreated` when its
 * block says the installer created it, and with `deleteIfEmpty` in any case (for a file
 * only venvoy writes); an empty file someone had before the install stays.
 */
export async function editRcFile(
  path: string,
  edit: (text: string) => string,
  options: { deleteIfEmpty?: boolean; deleteIfCreated?: boolean } = {},
): Promise<RcEditResult> {
  let real = path;
  let text = "";
  let mode = 0o644;
  let exists = false;
  try {
    real = await Deno.realPath(path);
    text = bytesToByteString(await Deno.readFile(real));
    mode = ((await Deno.stat(real)).mode ?? mode) & 0o7777;
    exists = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const next = edit(text);
  if (next === text) return "unchanged";
  const deletable = options.deleteIfEmpty || (options.deleteIfCreated && createdByInstaller(text));
  if (next === "" && exists && deletable && real === path) {
    await Deno.remove(path);
    return "removed";
  }
  await writeFileAtomic(real, byteStringToBytes(next), { mode });
  return "written";
}
