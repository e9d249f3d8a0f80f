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
  it('shared stays pure: no node, no electron, no react', async () => {
    expect(await restricted('src/shared/api/x.ts', "import fs from 'node:fs'\nexport const a = fs\n")).toHaveLength(1)
    expect(await restricted('src/shared/api/x.ts', "import { app } from 'electron'\nexport const a = app\n")).toHaveLength(1)
    expect(await restricted('src/shared/x.ts', "import React from 'react'\nexport const a = React\n")).toHaveLength(1)
  })
  it('services reach a host only through host/, never by building an ssh or local session', async () => {
    for (const folder of ['runs', 'setup', 'terminals', 'models']) {
      expect(await restricted(`src/main/services/${folder}/x.ts`, "import { createSshPool } from '../ssh/pool'\nexport const a = createSshPool\n")).toHaveLength(1)
      expect(await restricted(`src/main/services/${folder}/x.ts`, "import { createLocalSession } from '../local/localSession'\nexport const a = createLocalSession\n")).toHaveLength(1)
      expect(await restricted(`src/main/services/${folder}/x.ts`, "import type { HostRegistry } from '../host/hostRegistry'\nexport type A = HostRegistry\n")).toHaveLength(0)
      expect(await restricted(`src/main/services/${folder}/x.ts`, "import { app } from 'electron'\nexport const a = app\n")).toHaveLength(1)
    }
    expect(await restricted('src/main/services/models/onnx/x.ts', "import { createSshPool } from '../../ssh/pool'\nexport const a = createSshPool\n")).toHaveLength(1)
  })
  it('host/ is the seam: it imports no implementation and no domain folder', async () => {
    expect(await restricted('src/main/services/host/x.ts', "import { createSshSession } from '../ssh/sshSession'\nexport const a = createSshSession\n")).toHaveLength(1)
    expect(await restricted('src/main/services/host/x.ts', "import { createRunsService } from '../runs/runsService'\nexport const a = createRunsService\n")).toHaveLength(1)
    expect(await restricted('src/main/services/host/x.ts', "import { RpcError } from '../../../shared/rpc'\nexport const a = RpcError\n")).toHaveLength(0)
  })
  it('preload takes only names from shared; the renderer never reaches the web host', async () => {
    expect(await restricted('src/preload/x.ts', "import { createServices } from '../main/services/index'\nexport const a = createServices\n")).toHaveLength(1)
    expect(await restricted('src/preload/x.ts', "import { methodNames } from '../shared/contract'\nexport const a = methodNames\n")).toHaveLength(0)
    expect(await restricted('src/renderer/src/x.ts', "import { startWebHost } from '../../web/server'\nexport const a = startWebHost\n")).toHaveLength(1)
  })
  it('allowed imports stay allowed', async () => {
    expect(await restricted('src/main/services/x.ts', "import path from 'node:path'\nexport const a = path\n")).toHaveLength(0)
    expect(await restricted('src/renderer/src/x.ts', "import { z } from 'zod'\nexport const a = z\n")).toHaveLength(0)
  })
})
