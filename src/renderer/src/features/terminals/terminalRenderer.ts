/**
 * Which renderer draws a terminal. xterm's WebGL renderer (the one VS Code uses) draws glyphs
 * from a texture atlas on the GPU and keeps frames short under a flood; it needs WebGL2 with a
 * real GPU behind it. Software WebGL (SwiftShader, llvmpipe: what Chromium offers without a GPU)
 * draws every pixel on the CPU, so there, and wherever WebGL2 is missing or its context is
 * lost, xterm's DOM renderer draws instead.
 */
import { WebglAddon } from '@xterm/addon-webgl'
import type { Terminal } from '@xterm/xterm'

export type TerminalRendererKind = 'webgl' | 'dom'

const SOFTWARE_RENDERERS = /swiftshader|llvmpipe|softpipe|software|microsoft basic render/i

/** Whether this browser has hardware-accelerated WebGL2, and if not, why. */
export function probeWebgl(): { ok: true } | { ok: false; reason: string } {
  const canvas = document.createElement('canvas')
  const gl = canvas.getContext('webgl2')
  if (!gl) return { ok: false, reason: 'WebGL2 is not available' }
  try {
    const info = gl.getExtension('WEBGL_debug_renderer_info')
    const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : ''
    if (SOFTWARE_RENDERERS.test(renderer)) return { ok: false, reason: `WebGL is software-rendered (${renderer})` }
    return { ok: true }
  } finally {
    gl.getExtension('WEBGL_lose_context')?.loseContext()
  }
}

/**
 * Loads the WebGL renderer into an opened terminal when the browser can run it well; otherwise
 * (or when the GPU context is lost later) xterm keeps its DOM renderer. `onChange` hears every
 * switch, starting with the first choice.
 */
export function loadBestRenderer(term: Terminal, onChange: (kind: TerminalRendererKind, reason: string | null) => void): void {
  const probe = probeWebgl()
  if (!probe.ok) return onChange('dom', probe.reason)
  try {
    const webgl = new WebglAddon()
    webgl.onContextLoss(() => {
      webgl.dispose()
      onChange('dom', 'the WebGL context was lost')
    })
    term.loadAddon(webgl)
    onChange('webgl', null)
  } catch (error) {
    onChange('dom', `WebGL failed to start: ${error instanceof Error ? error.message : String(error)}`)
  }
}
