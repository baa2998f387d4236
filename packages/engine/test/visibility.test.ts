import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayPermit } from '../src/index.js';
import { agent, policy } from './support.js';

test('mayPermit: permit and defer rules show a tool whatever their condition; an unconditional deny first hides it', () => {
  const p = policy(
    agent(`  rules {
    deny  files/delete
    permit files/read if path startsWith "/tmp"
    defer files/write
    deny  files/move if path startsWith "/etc"
    deny! shell/rm
    permit shell/*
  }`),
  );
  const visible = (tool: string) => mayPermit(p, 'bot', tool);
  assert.equal(visible('files/read'), true, 'conditional permit');
  assert.equal(visible('files/write'), true, 'defer');
  assert.equal(visible('files/delete'), false, 'unconditional deny');
  assert.equal(visible('files/move'), false, 'a conditional deny and no permit: the default deny');
  assert.equal(visible('shell/rm'), false, 'deny! before the permit');
  assert.equal(visible('shell/ls'), true);
  assert.equal(visible('other'), false);
  assert.equal(mayPermit(p, 'nobody', 'files/read'), false, 'an unknown agent sees nothing');
});

test('mayPermit: a default permit shows what no unconditional deny hides; top-level rules serve agents without a block', () => {
  const open = policy('agent "bot" {\n  default permit\n  rules {\n    deny x\n    deny y if n > 1\n  }\n}\n');
  assert.deepEqual(
    ['x', 'y', 'z'].map((t) => mayPermit(open, 'bot', t)),
    [false, true, true],
  );
  const flat = policy('permit search_docs\n');
  assert.equal(mayPermit(flat, 'anyone', 'search_docs'), true, 'agents without a block get the top-level rules');
});
