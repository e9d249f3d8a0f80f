/**
 * A POSIX ustar archive of a few regular files, built in memory: the bundle goes to the host as
 * one stream into `tar -x` on one exec channel (one round trip), instead of an SFTP open, write
 * and close per file. Every tar on a Linux host (GNU, busybox, bsdtar) reads ustar.
 */
import { readFile } from 'node:fs/promises'

export interface TarEntry {
  /** Path inside the archive, '/'-separated, relative. */
  rel: string
  abs: string
  mode: number
}

const BLOCK = 512

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar wants.
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

/** Splits a path into ustar's name (≤100 bytes) and prefix (≤155 bytes) at a '/'. */
function splitName(rel: string): { name: string; prefix: string } {
  if (Buffer.byteLength(rel) <= 100) return { name: rel, prefix: '' }
  for (let cut = rel.indexOf('/'); cut >= 0; cut = rel.indexOf('/', cut + 1)) {
    const prefix = rel.slice(0, cut)
    const name = rel.slice(cut + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix }
  }
  throw new Error(`${rel} is too long a path for a tar archive (ustar: 100 bytes of name, 155 of folders).`)
}

function header(rel: string, mode: number, size: number, mtime: number): Buffer {
  if (rel.startsWith('/') || rel.split('/').includes('..')) throw new Error(`${rel} is not a relative path inside the bundle.`)
  const h = Buffer.alloc(BLOCK)
  const { name, prefix } = splitName(rel)
  h.write(name, 0, 100, 'utf8')
  h.write(octal(mode & 0o7777, 8), 100, 'ascii')
  h.write(octal(0, 8), 108, 'ascii')
  h.write(octal(0, 8), 116, 'ascii')
  h.write(octal(size, 12), 124, 'ascii')
  h.write(octal(mtime, 12), 136, 'ascii')
  h.write('        ', 148, 'ascii') // the checksum counts its own field as spaces
  h.write('0', 156, 'ascii')
  h.write('ustar\0', 257, 'ascii')
  h.write('00', 263, 'ascii')
  h.write(prefix, 345, 155, 'utf8')
  let sum = 0
  for (const byte of h) sum += byte
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii')
  return h
}

export async function tarArchive(entries: readonly TarEntry[], mtime = Math.floor(Date.now() / 1000)): Promise<Buffer> {
  const parts: Buffer[] = []
  for (const e of entries) {
    const data = await readFile(e.abs)
    parts.push(header(e.rel, e.mode, data.length, mtime), data)
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK
    if (pad) parts.push(Buffer.alloc(pad))
  }
  parts.push(Buffer.alloc(2 * BLOCK)) // end of archive
  return Buffer.concat(parts)
}
