/**
 * Export and import formats: the comprehensive archive (image + environment + manifest),
 * safe verification of untrusted archives, and content-based format detection.
 */
export * from "./errors.ts";
export {
  defaultOutputName,
  exportArchive,
  type ExportArchiveOptions,
  type ExportFormat,
  type ExportProgress,
  type ExportResult,
} from "./export.ts";
export {
  type DetectedFormat,
  detectFormat,
  importArchive,
  type ImportArchiveOptions,
  type ImportedEnvironment,
  importFile,
  type ImportResult,
  refuseExistingEnvironment,
} from "./import.ts";
export { type Manifest, type PackageLists, parseManifest } from "./manifest.ts";
export { extractVerified, type VerifiedArchive } from "./reader.ts";
export { TarGzWriter } from "./writer.ts";
