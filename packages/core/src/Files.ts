/**
 * The part of the Files API that deploying a function needs: create a file, upload its bytes, and see
 * when it reports `uploaded`.
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import { EpochMillis, ExternalId, FileId } from "./Ids.js"
import { optional, optionalExact } from "./internal/schema.js"

/** The body of `POST /files`: the metadata of a file whose bytes follow with `PUT uploadUrl`. */
export class FileCreate extends Schema.Class<FileCreate>("FileCreate")({
  name: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(256)),
  externalId: optionalExact(ExternalId),
  mimeType: optionalExact(Schema.String),
  dataSetId: optionalExact(Schema.Int.pipe(Schema.positive()))
}) {}

/** A file's metadata as the Files API returns it. */
export class FileMetadata extends Schema.Class<FileMetadata>("FileMetadata")({
  id: FileId,
  name: Schema.String,
  uploaded: Schema.Boolean,
  createdTime: EpochMillis,
  lastUpdatedTime: EpochMillis,
  externalId: optional(ExternalId),
  mimeType: optional(Schema.String),
  dataSetId: optional(Schema.Int),
  uploadedTime: optional(EpochMillis)
}) {}

/** The answer to `POST /files`: the metadata and the URL to `PUT` the bytes to. */
export class FileUploadTicket extends Schema.Class<FileUploadTicket>("FileUploadTicket")({
  ...FileMetadata.fields,
  uploadUrl: Schema.String
}) {}
