/** Bytes from a stream → complete UTF-8 lines (a line or a character may span chunks). */
import { StringDecoder } from 'node:string_decoder'

export function createLineSplitter(onLine: (line: string) => void, maxLineChars = 1_000_000): { push(chunk: Buffer): void; end(): void } {
  const decoder = new StringDecoder('utf8')
  let pending = ''
  const feed = (text: string) => {
    pending += text
    let nl: number
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).replace(/\r$/, '')
      pending = pending.slice(nl + 1)
      if (line.length) onLine(line)
    }
    // A runaway line without newline would grow memory without bound: drop it.
    if (pending.length > maxLineChars) pending = ''
  }
  return {
    push: (chunk) => feed(decoder.write(chunk)),
    /** A trailing partial line is dropped: a killed stream's last line is incomplete, and the next attach replays it. */
    end() {
      feed(decoder.end())
      pending = ''
    },
  }
}
