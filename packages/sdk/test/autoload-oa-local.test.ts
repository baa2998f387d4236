/**
 * FARAMESH_AUTOLOAD governs OpenAI Agents JS's local tools — a shell, an apply_patch editor, a
 * computer — which the runner calls without an `invoke`: each action is decided as the tool's name
 * on what the model asked for, and a denied one never reaches the machine. Started plainly, every
 * action runs (the control).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runFixtureAgent, startDaemon } from './daemon.js';

const POLICY = `runtime {
  wal_dir = "./wal"
  socket  = "./.faramesh/runtime/agent.sock"
}

agent "bot" {
  default deny
  rules {
    permit shell if args.commands contains "ls"
    permit apply_patch if args.type == "create_file"
    permit computer_use_preview if args.action == "screenshot"
    permit computer_use_preview if args.action == "type"
  }
}
`;

interface Ran {
  ran: string[];
  outputs: { type: string; output?: unknown; status?: string }[];
}

function run(dir: string, launcher: boolean, ranFile: string): Ran {
  const r = runFixtureAgent(dir, 'autoload-oa-local.mjs', [ranFile], launcher);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Ran;
}

test("autoload: OpenAI Agents JS's shell, apply_patch and computer tools are decided per action", () => {
  const d = startDaemon(POLICY);
  try {
    const governed = run(d.dir, true, join(d.dir, 'ran-governed'));
    assert.deepEqual(
      governed.ran.filter((r) => r !== 'screenshot'),
      ['shell ls', 'create notes.txt', 'type hello'],
      'rm -rf /, deleting .env and the click were denied before they ran',
    );
    const shellOut = governed.outputs.find((o) => o.type === 'shell_call_output') as { output: { stderr: string }[] };
    assert.equal((JSON.parse(shellOut.output[0]!.stderr) as { code: string }).code, 'POLICY_DENY', 'the model reads the denial');
    const patchOut = governed.outputs.filter((o) => o.type === 'apply_patch_call_output');
    assert.deepEqual(
      patchOut.map((o) => o.status),
      ['completed', 'failed'],
    );
    const records = d.cli('audit', 'tail', '--no-follow', '--format', 'json', '--limit', '50', '--tool', 'computer_use_preview').stdout;
    assert.match(records, /"effect":"deny"/, 'the denied click is on the record');

    const plain = run(d.dir, false, join(d.dir, 'ran-plain'));
    assert.deepEqual(
      plain.ran.filter((r) => r !== 'screenshot'),
      ['shell rm -rf /', 'shell ls', 'create notes.txt', 'delete .env', 'click 1,2', 'type hello'],
      'outside the launcher nothing is governed',
    );
  } finally {
    d.stop();
  }
});
