import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint({ cwd: process.cwd() })

async function restricted(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message)
}

describe('layering is enforced by lint import zones', () => {
  it('services and the web host never import electron', async () => {
    expect(await restricted('src/main/services/x.ts', "import { app } from 'electron'\nexport const a = app\n")).toHaveLength(1)
    expect(await restricted('src/web/x.ts', "import { app } from 'electron'\nexport const a = app\n")).toHaveLength(1)
  })
  it('the renderer never imports node or backend code', async () => {
    expect(await restricted('src/renderer/src/x.ts', "import fs from 'node:fs'\nexport const a = fs\n")).toHaveLength(1)
    expect(await restricted('src/renderer/src/x.ts', "import { createServices } from '../../main/services/index'\nexport const a = createServices\n")).toHaveLength(1)
  })
  it('shared imports nothing of ours outside shared', async () => {
    expect(await restricted('src/shared/x.ts', "import { createServices } from '../main/services/index'\nexport const a = createServices\n")).toHaveLength(1)
  })
  it('allowed imports stay allowed', async () => {
    expect(await restricted('src/main/services/x.ts', "import path from 'node:path'\nexport const a = path\n")).toHaveLength(0)
    expect(await restricted('src/renderer/src/x.ts', "import { z } from 'zod'\nexport const a = z\n")).toHaveLength(0)
  })
})
