/**
 * Typed errors for reading and writing archives. Every refusal of an untrusted file is an
 * ArchiveError (exit 1) whose message names the file and the offending member.
 */
import { type ErrorOptions, VenvoyError } from "../ui/errors.ts";

const UNTRUSTED_HINT =
  "the file is damaged or was altered after export; ask its author for a fresh copy (nothing was loaded)";

/** Base class: the file cannot be used as a venvoy archive or tarball. */
export class ArchiveError extends VenvoyError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { hint: UNTRUSTED_HINT, ...options });
  }
}

/** Not gzip, or gzip that does not hold a tar stream. */
export class NotAnArchiveError extends ArchiveError {}

/** The compressed stream or the tar stream ends early. */
export class TruncatedArchiveError extends ArchiveError {}

/** A header or stream that is malformed (bad checksum, bad number, oversized metadata). */
export class CorruptArchiveError extends ArchiveError {}

/** Absolute paths, `..`, links leaving the archive, paths through links. */
export class UnsafeMemberError extends ArchiveError {}

/** Device files, FIFOs and member types venvoy never writes. */
export class ForbiddenMemberTypeError extends ArchiveError {}

export class DuplicateMemberError extends ArchiveError {}

/** A file and a folder (or link) of the same name: `a` and `a/b`. */
export class NameClashError extends ArchiveError {}

export class MissingManifestError extends ArchiveError {}

/** manifest.json is present but not a manifest this venvoy understands. */
export class InvalidManifestError extends ArchiveError {}

/** A member the manifest does not list. */
export class UnlistedMemberError extends ArchiveError {}

/** A member the manifest lists that the archive does not hold. */
export class MissingMemberError extends ArchiveError {}

export class ChecksumMismatchError extends ArchiveError {}

/** The output exists and --force was not given. */
export class OutputExistsError extends VenvoyError {}

/** The refusal of an existing output file (export, standalone files). */
export function outputExists(path: string): OutputExistsError {
  return new OutputExistsError(`${path} already exists`, {
    hint: "pass --force to replace it, or choose another --output",
  });
}

/** Refuses an output path that is a folder, or that exists when `force` is not given. */
export async function refuseExistingOutput(path: string, force = false): Promise<void> {
  const st = await Deno.lstat(path).catch(() => null);
  if (!st) return;
  if (st.isDirectory) throw new OutputExistsError(`${path} is a folder`);
  if (!force) throw outputExists(path);
}
