/**
 * Bytes → text without ever splitting a multibyte character: a StringDecoder per stream keeps
 * an incomplete trailing sequence until its remaining bytes arrive.
 */
import { StringDecoder } from 'node:string_decoder'

export interface Utf8Stream {
  write(chunk: Buffer): string
  end(): string
}

export function createUtf8Stream(): Utf8Stream {
  const decoder = new StringDecoder('utf8')
  return { write: (chunk) => decoder.write(chunk), end: () => decoder.end() }
}

/** Cut text into pieces of at most maxChars UTF-16 units without splitting a surrogate pair. */
export function splitText(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text]
  const out: string[] = []
  let i = 0
  while (i < text.length) {
    let end = Math.min(text.length, i + maxChars)
    const code = text.charCodeAt(end - 1)
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end--
    out.push(text.slice(i, end))
    i = end
  }
  return out
}
