// Tests of what the extension does outside VS Code's API: finding the server, building its
// settings, reading search results; and a session with the server it finds, through the same
// LSP library the extension uses (npm test; `papercite` must be on PATH for the session, as it
// is for a user, or the session test is skipped).

import { strict as assert } from 'assert';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import {
  createProtocolConnection,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { findServer, parseSearch, Probe, serverSettingNames, serverSettings, systemProbe } from '../server';

const packageJSON = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

function probe(files: string[], onPath?: string, pythonsWithPapercite: string[] = []): Probe {
  return {
    isFile: (file) => files.includes(file),
    which: (name) => (name === 'papercite' ? onPath : undefined),
    hasPapercite: (python) => pythonsWithPapercite.includes(python),
  };
}

test('the configured path comes first', () => {
  const found = findServer('/opt/papercite/bin/papercite', '/usr/bin/python3',
    probe(['/opt/papercite/bin/papercite'], '/usr/bin/papercite', ['/usr/bin/python3']));
  assert.deepEqual(found, { command: '/opt/papercite/bin/papercite', args: [], source: 'papercite.serverPath' });
});

test('a configured path that is not a file is an error naming the setting', () => {
  const found = findServer('/nowhere/papercite', undefined, probe([], '/usr/bin/papercite'));
  assert.ok('problem' in found);
  assert.match(found.problem, /papercite\.serverPath names "\/nowhere\/papercite"/);
});

test('then papercite on PATH', () => {
  const found = findServer('', '/usr/bin/python3', probe([], '/home/me/.local/bin/papercite', ['/usr/bin/python3']));
  assert.deepEqual(found, { command: '/home/me/.local/bin/papercite', args: [], source: 'PATH' });
});

test("then the Python extension's interpreter, when it has papercite", () => {
  const found = findServer(undefined, '/venv/bin/python', probe([], undefined, ['/venv/bin/python']));
  assert.deepEqual(found, {
    command: '/venv/bin/python', args: ['-m', 'papercite.server.cli'], source: "the Python extension's interpreter",
  });
});

test('else a clear error with the install command', () => {
  const found = findServer(undefined, '/venv/bin/python', probe([]));
  assert.ok('problem' in found);
  assert.equal(found.install, '/venv/bin/python -m pip install papercite');
  assert.match(found.problem, /not installed: not on PATH nor in the Python interpreter \/venv\/bin\/python/);
  assert.match(found.problem, /Install it with `\/venv\/bin\/python -m pip install papercite`/);
  const none = findServer(undefined, undefined, probe([]));
  assert.ok('problem' in none);
  assert.equal(none.install, 'python3 -m pip install papercite');
});

test('server settings: the generated names, nested, without the extension-only ones', () => {
  const names = serverSettingNames(packageJSON);
  assert.deepEqual(names, ['libraries', 'indexDir', 'completion.limit', 'completion.label', 'hover.abstract',
    'hover.prose', 'diagnostics.unusedEntries', 'inlayHints.enabled', 'citationCommands']);
  const values: Record<string, unknown> = { 'completion.limit': 7, libraries: ['~/refs.bib'], 'inlayHints.enabled': true };
  assert.deepEqual(serverSettings(names, (name) => values[name]), {
    libraries: ['~/refs.bib'], indexDir: null, completion: { limit: 7, label: null },
    hover: { abstract: null, prose: null }, diagnostics: { unusedEntries: null }, inlayHints: { enabled: true },
    citationCommands: null,
  });
});

test('search results from papercite search --json', () => {
  const papers = parseSearch('{"key": "a1", "title": "T", "authors": ["X"], "year": 2020, "score": 1.5, "source": "/r.bib"}\n\n');
  assert.equal(papers.length, 1);
  assert.equal(papers[0].key, 'a1');
});

test('a session with the server the extension finds', async (t) => {
  const found = findServer(undefined, undefined, systemProbe);
  if (!('command' in found)) {
    t.skip('papercite is not on PATH');
    return;
  }
  const sample = path.resolve(__dirname, '..', '..', '..', '..', 'index', 'sample');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'papercite-vscode-'));
  fs.cpSync(sample, workspace, { recursive: true });
  const names = serverSettingNames(packageJSON);
  const defaults: Record<string, unknown> = {};
  for (const [key, value] of Object.entries<any>(packageJSON.contributes.configuration[0].properties)) {
    defaults[key.slice('papercite.'.length)] = value.default;
  }
  defaults.indexDir = path.join(workspace, '.index');
  const child = spawn(found.command, [...found.args, 'serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createProtocolConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.onRequest('workspace/configuration', () => [serverSettings(names, (name) => defaults[name])]);
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.listen();
  try {
    const init: any = await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri: `file://${workspace}`,
      workspaceFolders: [{ uri: `file://${workspace}`, name: 'sample' }],
      capabilities: { workspace: { configuration: true } },
      initializationOptions: serverSettings(names, (name) => defaults[name]),
    });
    assert.deepEqual(init.capabilities.completionProvider.triggerCharacters, ['{', ',', '@', ';']);
    await connection.sendNotification('initialized', {});
    const file = path.join(workspace, 'draft.tex');
    const text = fs.readFileSync(file, 'utf8').replace('\\maketitle', '\\maketitle\nTransformers \\cite{attention is all}');
    const uri = `file://${file}`;
    await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'latex', version: 1, text } });
    const line = text.split('\n').findIndex((l) => l.startsWith('Transformers'));
    let first: string | undefined;
    for (let i = 0; i < 100 && first !== 'vaswani2017attention'; i++) {
      const result: any = await connection.sendRequest('textDocument/completion', {
        textDocument: { uri }, position: { line, character: 'Transformers \\cite{attention is all'.length },
      });
      first = result?.items?.[0]?.textEdit?.newText;
      if (first !== 'vaswani2017attention') {
        await new Promise((resolve) => setTimeout(resolve, 200)); // the first indexing runs in the background
      }
    }
    assert.equal(first, 'vaswani2017attention');
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
  } finally {
    connection.dispose();
    child.kill();
    fs.rmSync(workspace, { recursive: true, force: true });
  }
});
