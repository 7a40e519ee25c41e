import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/**
 * The layer rules of docs/architecture.md, as `npm run check` applies them: linted as if each snippet were a file of
 * the tree, so that a change to eslint.config.js that loosens them fails here.
 */
const eslint = new ESLint();

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

describe('layers', () => {
  it("refuses another feature's repository, from a feature, an edge or the runtime", async () => {
    const cases: [string, string][] = [
      ['src/members/member.service.ts', "import { lockChat } from '../chats/chat.repository.ts';"],
      ['src/realtime/gateway.ts', "import { listMessages } from '../messages/message.repository.ts';"],
      [
        'src/dialects/drf/drf.user.operations.ts',
        "import { ensureTenant } from '../../tenants/tenant.repository.ts';",
      ],
      ['src/plugin.ts', "import { findUser } from './users/user.repository.ts';"],
    ];
    for (const [file, code] of cases) {
      const messages = await restrictedImports(
        file,
        `${code}\nexport const used = [${code.match(/\{ (\w+) \}/)![1]}];\n`,
      );
      assert.equal(messages.length, 1, `${file}: ${code}`);
      assert.match(messages[0]!, /another feature's repository/i);
    }
  });

  it("lets a feature's own modules use its repository, and other features its access module", async () => {
    assert.deepEqual(
      await restrictedImports(
        'src/chats/chat.service.ts',
        "import { findChat } from './chat.repository.ts';\nexport const used = [findChat];\n",
      ),
      [],
    );
    assert.deepEqual(
      await restrictedImports(
        'src/members/member.service.ts',
        "import { lockChat } from '../chats/chat.access.ts';\nexport const used = [lockChat];\n",
      ),
      [],
    );
  });

  it('lets the edges name database types but not run SQL', async () => {
    assert.deepEqual(
      await restrictedImports(
        'src/realtime/create-bus.ts',
        "import type { Database } from '../db/database.ts';\nexport type Used = Database;\n",
      ),
      [],
    );
    const refused = await restrictedImports(
      'src/jsonapi/jsonapi.loader.ts',
      "import { openStore } from '../db/connect.ts';\nexport const used = [openStore];\n",
    );
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /database layer/);
  });
});
