// The papercite extension: starts `papercite serve` for LaTeX, BibTeX, Markdown, Quarto and
// R Markdown documents, and offers "papercite: Reindex" and "papercite: Search papers".

import { execFile, ChildProcess } from 'child_process';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import {
  describeAuthors,
  expandHome,
  findServer,
  Paper,
  parseSearch,
  ServerCommand,
  serverSettingNames,
  serverSettings,
  systemProbe,
} from './server';

const LANGUAGES = ['latex', 'tex', 'bibtex', 'markdown', 'quarto', 'rmd'];
const SECTION = 'papercite';

let client: LanguageClient | undefined;
let server: ServerCommand | undefined;
let settingNames: string[] = [];
let output: vscode.OutputChannel;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const activated = Date.now();
  output = vscode.window.createOutputChannel('papercite');
  settingNames = serverSettingNames(context.extension.packageJSON, SECTION);
  context.subscriptions.push(
    output,
    vscode.commands.registerCommand('papercite.reindex', reindex),
    vscode.commands.registerCommand('papercite.searchPapers', searchPapers),
    vscode.commands.registerCommand('papercite.restart', restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.serverPath`)) {
        void restart();
      } else if (event.affectsConfiguration(SECTION) && client?.isRunning()) {
        void client.sendNotification(DidChangeConfigurationNotification.type, { settings: { [SECTION]: currentSettings() } });
      }
    }),
  );
  if (await start()) {
    output.appendLine(`papercite: the server answered initialize ${Date.now() - activated} ms after activation`);
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

/** The server settings, as VS Code has them now (the extension's own settings left out). */
function currentSettings(): Record<string, unknown> {
  const config = vscode.workspace.getConfiguration(SECTION);
  return serverSettings(settingNames, (name) => config.get(name));
}

/** The Python extension's interpreter for this workspace, if that extension is installed. */
async function pythonInterpreter(): Promise<string | undefined> {
  const resource = vscode.workspace.workspaceFolders?.[0]?.uri;
  const extension = vscode.extensions.getExtension('ms-python.python');
  if (extension) {
    try {
      const api: any = extension.isActive ? extension.exports : await extension.activate();
      const active = api?.environments?.getActiveEnvironmentPath?.(resource);
      if (active) {
        const resolved = await api.environments.resolveEnvironment?.(active);
        const executable = resolved?.executable?.uri?.fsPath ?? active.path;
        if (executable) {
          return executable;
        }
      }
      const command = api?.settings?.getExecutionDetails?.(resource)?.execCommand;
      if (command?.[0]) {
        return command[0];
      }
    } catch (error) {
      output.appendLine(`papercite: could not ask the Python extension for its interpreter: ${error}`);
    }
  }
  return vscode.workspace.getConfiguration('python', resource).get<string>('defaultInterpreterPath') || undefined;
}

async function locateServer(): Promise<ServerCommand | undefined> {
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>('serverPath');
  const found = findServer(configured, await pythonInterpreter(), systemProbe);
  if ('command' in found) {
    output.appendLine(`papercite: using ${[found.command, ...found.args].join(' ')} (from ${found.source})`);
    return found;
  }
  output.appendLine(found.problem);
  void vscode.window.showErrorMessage(found.problem, 'Copy install command', 'Open settings').then((choice) => {
    if (choice === 'Copy install command') {
      void vscode.env.clipboard.writeText(found.install);
    } else if (choice === 'Open settings') {
      void vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.serverPath`);
    }
  });
  return undefined;
}

/** Start the server; whether it answered initialize. */
async function start(): Promise<boolean> {
  server = await locateServer();
  if (!server) {
    return false;
  }
  const serverOptions: ServerOptions = {
    command: server.command,
    args: [...server.args, 'serve'],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    initializationOptions: currentSettings(),
    outputChannel: output,
    middleware: {
      workspace: {
        // answer the server's workspace/configuration with the server settings only
        configuration: async (params, token, next) => {
          const answers = await next(params, token);
          if (!Array.isArray(answers)) {
            return answers;
          }
          return params.items.map((item, i) => (item.section === SECTION ? currentSettings() : answers[i]));
        },
      },
    },
  };
  client = new LanguageClient(SECTION, 'papercite', serverOptions, clientOptions);
  try {
    await client.start();
    return true;
  } catch (error) {
    void vscode.window.showErrorMessage(`papercite: the server did not start: ${error}`);
    return false;
  }
}

async function restart(): Promise<void> {
  const old = client;
  client = undefined;
  await old?.stop().catch(() => undefined);
  await start();
}

/** Run `papercite <args>` (the CLI beside the server) and return its output. */
function runCli(args: string[], token?: vscode.CancellationToken): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    if (!server) {
      reject(new Error('papercite is not installed'));
      return;
    }
    const indexDir = vscode.workspace.getConfiguration(SECTION).get<string | null>('indexDir');
    const options = indexDir ? ['--index-dir', expandHome(indexDir)] : [];
    const child: ChildProcess = execFile(server.command, [...server.args, ...args.slice(0, 1), ...options, ...args.slice(1)],
      { maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error && !(error as any).killed) {
          reject(new Error(String(stderr).trim().split('\n').pop() || error.message));
        } else {
          resolve({ stdout: String(stdout), stderr: String(stderr) });
        }
      });
    token?.onCancellationRequested(() => child.kill());
  });
}

/** "papercite: Reindex": re-read every bibliography of the workspace and the `libraries` setting. */
async function reindex(): Promise<void> {
  if (!server && !(server = await locateServer())) {
    return;
  }
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
  // the CLI takes files and folders: a glob stands for the folder it starts in
  const libraries = (vscode.workspace.getConfiguration(SECTION).get<string[]>('libraries') ?? [])
    .map(expandHome)
    .map((entry) => (path.isAbsolute(entry) || !folders[0] ? entry : path.join(folders[0], entry)))
    .map((entry) => (/[*?[]/.test(entry) ? path.dirname(entry.slice(0, entry.search(/[*?[]/)) + 'x') : entry));
  const paths = [...new Set([...folders, ...libraries])];
  if (paths.length === 0) {
    void vscode.window.showInformationMessage('papercite: open a folder or set papercite.libraries to reindex.');
    return;
  }
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'papercite: reindexing', cancellable: true },
    async (_progress, token) => {
      try {
        const { stdout } = await runCli(['index', '--force', ...paths], token);
        const summary = stdout.trim().split('\n').pop() ?? '';
        output.appendLine(`papercite index --force ${paths.join(' ')}\n${stdout}`);
        await restart(); // the server reopens the index it shares with the command line
        void vscode.window.showInformationMessage(`papercite: ${summary}`);
      } catch (error) {
        void vscode.window.showErrorMessage(`papercite: reindexing failed: ${(error as Error).message}`);
      }
    },
  );
}

interface PaperItem extends vscode.QuickPickItem {
  paper: Paper;
}

/** "papercite: Search papers": a quick pick over the whole index; the chosen key goes to the editor. */
async function searchPapers(): Promise<void> {
  if (!server && !(server = await locateServer())) {
    return;
  }
  const editor = vscode.window.activeTextEditor;
  const pick = vscode.window.createQuickPick<PaperItem>();
  pick.placeholder = 'Title words, authors, year or key';
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  let timer: NodeJS.Timeout | undefined;
  let source: vscode.CancellationTokenSource | undefined;
  pick.onDidChangeValue((query) => {
    clearTimeout(timer);
    source?.cancel();
    if (!query.trim()) {
      pick.items = [];
      return;
    }
    timer = setTimeout(async () => {
      source = new vscode.CancellationTokenSource();
      const token = source.token;
      pick.busy = true;
      try {
        const { stdout } = await runCli(['search', '--json', '--limit', '30', '--', query], token);
        if (!token.isCancellationRequested) {
          pick.items = parseSearch(stdout).map((paper) => ({
            paper,
            label: paper.title || paper.key,
            description: paper.key,
            detail: [describeAuthors(paper.authors), paper.year, path.basename(paper.source || '')].filter(Boolean).join(' · '),
            alwaysShow: true, // the index ranked them for what was typed: the quick pick must not filter
          }));
        }
      } catch (error) {
        if (!token.isCancellationRequested) {
          pick.items = [];
          void vscode.window.showErrorMessage(`papercite: search failed: ${(error as Error).message}`);
        }
      } finally {
        pick.busy = false;
      }
    }, 150);
  });
  pick.onDidAccept(async () => {
    const chosen = pick.selectedItems[0]?.paper;
    pick.hide();
    if (!chosen) {
      return;
    }
    if (editor && !editor.document.isClosed) {
      await editor.edit((edit) => editor.selections.forEach((selection) => edit.replace(selection, chosen.key)));
    } else {
      await vscode.env.clipboard.writeText(chosen.key);
      void vscode.window.showInformationMessage(`papercite: copied ${chosen.key}`);
    }
  });
  pick.onDidHide(() => pick.dispose());
  pick.show();
}
