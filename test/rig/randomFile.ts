/** A file of random bytes for transfer tests and benches, written in 8 MB chunks; returns its sha256 (hex). */
import { createHash, randomBytes } from 'node:crypto'
import { closeSync, openSync, writeSync } from 'node:fs'

const CHUNK = 8 * 1024 * 1024

export function writeRandomFile(file: string, bytes: number): string {
  const hash = createHash('sha256')
  const fd = openSync(file, 'w')
  try {
    for (let done = 0; done < bytes; done += CHUNK) {
      const chunk = randomBytes(Math.min(CHUNK, bytes - done))
      writeSync(fd, chunk)
      hash.update(chunk)
    }
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}
