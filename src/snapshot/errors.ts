/** The error for a snapshot file that cannot be read: it names the file and the line. */
import { VenvoyError } from "../ui/errors.ts";

export class SnapshotFormatError extends VenvoyError {
  readonly file: string;
  readonly line: number | null;

  constructor(file: string, line: number | null, why: string, options: { hint?: string } = {}) {
    super(`${file}${line ? `:${line}` : ""}: ${why}`, {
      hint: options.hint ??
        "the snapshot file is corrupt or was edited by hand; fix that line, or use another snapshot (venvoy history)",
    });
    this.file = file;
    this.line = line;
  }
}
