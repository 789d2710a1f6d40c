/**
 * `/files/...`: the part of the Files API deploying needs: create a file (with an upload URL), upload
 * its bytes, list, retrieve and delete files.
 *
 * @since 0.1.0
 */
import { Files, Ids, Items } from "@effect-cdf/core"
import { HttpRouter } from "@effect/platform"
import { Effect } from "effect"
import { decodeBody, duplicated, encoded, forbidden, intParam, jsonResponse, RawBody } from "../internal/http.js"
import { randomToken } from "../internal/ids.js"
import { Persistence } from "../Persistence.js"
import { State, type Store } from "../State.js"
import {
  DEFAULT_LIMIT,
  fileOr404,
  limitParam,
  pathFile,
  projectUrl,
  query,
  readOne,
  refOf,
  requires,
  resolveItems,
  withBody,
  withStore
} from "./common.js"

/** Where these routes are mounted. */
export const PREFIX = "/files"

const FileList = Items.Items(Files.FileMetadata)
const FileByIdsRequest = Items.ByIdsRequest(Ids.Identifier, 1000)

const createFile = Effect.gen(function*() {
  yield* requires("filesAcl:WRITE")
  const { now, store } = yield* State
  const create = yield* decodeBody(Files.FileCreate)
  const overwrite = (yield* query).get("overwrite") === "true"
  const t = Ids.EpochMillis.make(yield* now)
  const existing = create.externalId === undefined ? undefined : store.fileByExternalId(create.externalId)
  if (existing !== undefined && !overwrite) {
    return yield* Effect.fail(duplicated([{ externalId: existing.meta.externalId ?? "" }]))
  }
  const id = existing?.meta.id ?? Ids.FileId.make(store.newId(store.files))
  const uploadToken = randomToken()
  const meta = new Files.FileMetadata({
    id,
    name: create.name,
    uploaded: existing?.meta.uploaded ?? false,
    createdTime: existing?.meta.createdTime ?? t,
    lastUpdatedTime: t,
    ...(create.externalId === undefined ? {} : { externalId: create.externalId }),
    ...(create.mimeType === undefined ? {} : { mimeType: create.mimeType }),
    ...(create.dataSetId === undefined ? {} : { dataSetId: create.dataSetId }),
    ...(existing?.meta.uploadedTime === undefined ? {} : { uploadedTime: existing.meta.uploadedTime })
  })
  // Overwriting keeps the old bytes until the new ones arrive, as the Files API does.
  store.files.set(id, { meta, uploadToken, bytes: existing?.bytes })
  store.touch("file", id)
  const uploadUrl = `${yield* projectUrl}${PREFIX}/upload/${id}?token=${uploadToken}`
  return encoded(Files.FileUploadTicket, new Files.FileUploadTicket({ ...meta, uploadUrl }), 201)
})

/** The upload itself; its URL was checked by `authorizeUpload` before the body was read. */
const uploadFile = Effect.gen(function*() {
  const { now, store } = yield* State
  const stored = yield* pathFile
  const id = stored.meta.id
  const bytes = yield* RawBody
  // The bytes are durable before the metadata says they are there.
  yield* Effect.flatMap(Persistence, (persistence) => persistence.saveBlob(id, bytes))
  const t = Ids.EpochMillis.make(yield* now)
  stored.bytes = bytes
  stored.meta = new Files.FileMetadata({ ...stored.meta, uploaded: true, uploadedTime: t, lastUpdatedTime: t })
  store.touch("file", id)
  return jsonResponse({})
})

/** Stores an uploaded file with no bytes (the file of a function that runs an in-process handler). */
export const storeEmptyFile = (name: string) =>
  Effect.gen(function*() {
    const { now, store } = yield* State
    const t = Ids.EpochMillis.make(yield* now)
    const id = Ids.FileId.make(store.newId(store.files))
    const meta = new Files.FileMetadata({
      id,
      name,
      uploaded: true,
      createdTime: t,
      lastUpdatedTime: t,
      uploadedTime: t
    })
    store.files.set(id, { meta, uploadToken: randomToken(), bytes: new Uint8Array() })
    store.touch("file", id)
    return id
  })

/** The files named by ids and external ids; unknown ones are `missing` unless ignored. */
const resolveFiles = (store: Store, body: typeof FileByIdsRequest.Type) =>
  resolveItems(
    body.items,
    (identifier) => "id" in identifier ? store.files.get(identifier.id) : store.fileByExternalId(identifier.externalId),
    refOf,
    "files",
    body.ignoreUnknownIds ?? false
  )

const uploadPath = new RegExp(`^${PREFIX}/upload/([^/]+)$`)

/** Whether a request is the anonymous upload of a file's bytes (authorised by its URL's token instead). */
export const isUpload = (method: string, relative: string) => method === "PUT" && uploadPath.test(relative)

/**
 * Checks an upload's URL (the file exists, the token is its upload token) before its body is read, so a
 * stranger's large body is refused without being read.
 */
export const authorizeUpload = (relative: string, search: URLSearchParams) =>
  Effect.gen(function*() {
    const id = yield* intParam(uploadPath.exec(relative)?.[1], "fileId")
    const stored = yield* fileOr404(id)
    if (search.get("token") !== stored.uploadToken) {
      return yield* Effect.fail(forbidden("The upload URL's token is not valid for this file"))
    }
  })

/** The routes under `PREFIX`, relative to it. */
export const router = HttpRouter.empty.pipe(
  HttpRouter.post("/", createFile),
  HttpRouter.get(
    "/",
    withStore(
      "filesAcl:READ",
      (store) =>
        Effect.map(limitParam, (limit) =>
          encoded(FileList, {
            items: [...store.files.values()].slice(0, limit ?? DEFAULT_LIMIT).map((f) => f.meta)
          }))
    )
  ),
  HttpRouter.put("/upload/:fileId", uploadFile),
  HttpRouter.get("/:fileId", readOne("filesAcl:READ", pathFile, (stored) => encoded(Files.FileMetadata, stored.meta))),
  HttpRouter.post(
    "/byids",
    withBody(
      "filesAcl:READ",
      FileByIdsRequest,
      (body, store) =>
        Effect.map(resolveFiles(store, body), (found) => encoded(FileList, { items: found.map((f) => f.meta) }))
    )
  ),
  HttpRouter.post(
    "/delete",
    withBody("filesAcl:WRITE", FileByIdsRequest, (body, store) =>
      Effect.gen(function*() {
        const persistence = yield* Persistence
        for (const { meta } of yield* resolveFiles(store, body)) {
          store.files.delete(meta.id)
          store.touch("file", meta.id)
          yield* persistence.deleteBlob(meta.id)
        }
        return encoded(Items.EmptyResponse, {})
      }))
  )
)
