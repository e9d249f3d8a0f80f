/**
 * Just enough protobuf to read an ONNX ModelProto's top level: whether it looks like a model
 * at all (ir_version + graph) and its metadata_props (key/value strings). onnxruntime-node does
 * not expose custom metadata, and the trainer stores the action names and obs shape there.
 */

const IR_VERSION = 1
const GRAPH = 7
const METADATA_PROPS = 14

class Reader {
  pos = 0
  constructor(readonly buf: Uint8Array) {}
  varint(): number {
    let result = 0
    let shift = 0
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint')
      const b = this.buf[this.pos++]
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) return result
      shift += 7
      if (shift > 63) throw new Error('varint too long')
    }
  }
  bytes(): Uint8Array {
    const len = this.varint()
    if (this.pos + len > this.buf.length) throw new Error('field runs past the end of the file')
    const out = this.buf.subarray(this.pos, this.pos + len)
    this.pos += len
    return out
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint()
    else if (wireType === 1) this.pos += 8
    else if (wireType === 2) this.bytes()
    else if (wireType === 5) this.pos += 4
    else throw new Error(`invalid wire type ${wireType}`)
    if (this.pos > this.buf.length) throw new Error('field runs past the end of the file')
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true })

function entry(buf: Uint8Array): [string, string] {
  const r = new Reader(buf)
  let key = ''
  let value = ''
  while (r.pos < buf.length) {
    const tag = r.varint()
    const field = Math.floor(tag / 8)
    const wire = tag & 7
    if (wire === 2 && field === 1) key = decoder.decode(r.bytes())
    else if (wire === 2 && field === 2) value = decoder.decode(r.bytes())
    else r.skip(wire)
  }
  return [key, value]
}

export type OnnxTopLevel = { ok: true; metadata: Record<string, string> } | { ok: false; reason: string }

export function readOnnxTopLevel(bytes: Uint8Array): OnnxTopLevel {
  if (bytes.length === 0) return { ok: false, reason: 'the file is empty' }
  const r = new Reader(bytes)
  const metadata: Record<string, string> = {}
  let hasIr = false
  let hasGraph = false
  try {
    while (r.pos < bytes.length) {
      const tag = r.varint()
      const field = Math.floor(tag / 8)
      const wire = tag & 7
      if (field === 0) throw new Error('field number 0')
      if (field === IR_VERSION && wire === 0) {
        r.varint()
        hasIr = true
      } else if (field === GRAPH && wire === 2) {
        r.bytes()
        hasGraph = true
      } else if (field === METADATA_PROPS && wire === 2) {
        const [k, v] = entry(r.bytes())
        metadata[k] = v
      } else r.skip(wire)
    }
  } catch (error) {
    return { ok: false, reason: `it is not a protobuf ModelProto (${(error as Error).message})` }
  }
  if (!hasIr || !hasGraph) return { ok: false, reason: `it has no ${hasIr ? 'graph' : 'ir_version'}` }
  return { ok: true, metadata }
}
