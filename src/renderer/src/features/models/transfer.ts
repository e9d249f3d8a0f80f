/**
 * Moving bytes through the API in message-sized chunks: uploading a dropped file for validation,
 * and "Save a copy" of a verified model in the browser.
 */
import { api } from '../../api'
import { MAX_VALIDATE_BYTES, UPLOAD_CHUNK_BYTES } from '../../../../shared/api/models'

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

function newUploadId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('')
}

export async function uploadFile(file: File): Promise<string> {
  if (file.size > MAX_VALIDATE_BYTES) throw new Error(`${file.name} is ${Math.round(file.size / 1024 / 1024)} MB; models up to ${MAX_VALIDATE_BYTES / 1024 / 1024} MB can be validated.`)
  const uploadId = newUploadId()
  for (let offset = 0; offset < file.size || offset === 0; offset += UPLOAD_CHUNK_BYTES) {
    const chunk = new Uint8Array(await file.slice(offset, offset + UPLOAD_CHUNK_BYTES).arrayBuffer())
    await api['models.uploadChunk']({ uploadId, name: file.name, offset, base64: toBase64(chunk) })
    if (file.size === 0) break
  }
  return uploadId
}

export async function saveCopy(ref: { instanceId: string; runId: string; path: string }, fileName: string): Promise<void> {
  const parts: Uint8Array<ArrayBuffer>[] = []
  for (let offset = 0; ; ) {
    const chunk = await api['models.readChunk']({ ...ref, offset, length: UPLOAD_CHUNK_BYTES })
    const bytes = fromBase64(chunk.base64)
    parts.push(bytes)
    offset += bytes.length
    if (chunk.eof || bytes.length === 0) break
  }
  const url = URL.createObjectURL(new Blob(parts, { type: 'application/octet-stream' }))
  const a = document.createElement('a')
  a.href = url
  a.download = fileName
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
