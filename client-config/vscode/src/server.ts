// Finding the papercite server and building what it is sent: plain Node, no `vscode` import, so
// the tests run it without VS Code (src/test/server.test.ts).

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** How to run papercite: `command ...args serve` starts the language server. */
export interface ServerCommand {
  command: string;
  args: string[];
  /** Where it came from, for messages: "papercite.serverPath", "PATH", "the Python extension's interpreter". */
  source: string;
}

export interface NotFound {
  problem: string;
  /** What to run to install papercite, shown and offered for copying. */
  install: string;
}

/** What finding the server looks at; replaced by fakes in the tests. */
export interface Probe {
  isFile(file: string): boolean;
  which(name: string): string | undefined;
  /** Whether this Python can import papercite's server. */
  hasPapercite(python: string): boolean;
}

export function expandHome(file: string): string {
  return file === '~' || file.startsWith('~/') || file.startsWith('~\\') ? path.join(os.homedir(), file.slice(1)) : file;
}

export function installCommand(python?: string): string {
  const interpreter = python ? (/\s/.test(python) ? `"${python}"` : python) : 'python3';
  return `${interpreter} -m pip install papercite`;
}

/**
 * The server command: the configured path, else `papercite` on PATH, else `python -m
 * papercite.server.cli` with the Python extension's interpreter when it has papercite installed.
 */
export function findServer(serverPath: string | undefined, python: string | undefined, probe: Probe): ServerCommand | NotFound {
  if (serverPath && serverPath.trim()) {
    const file = expandHome(serverPath.trim());
    if (probe.isFile(file)) {
      return { command: file, args: [], source: 'papercite.serverPath' };
    }
    return {
      problem: `papercite: the setting papercite.serverPath names "${serverPath}", which is not a file.`,
      install: installCommand(python),
    };
  }
  const onPath = probe.which('papercite');
  if (onPath) {
    return { command: onPath, args: [], source: 'PATH' };
  }
  if (python && probe.hasPapercite(python)) {
    return { command: python, args: ['-m', 'papercite.server.cli'], source: "the Python extension's interpreter" };
  }
  const where = python ? `on PATH nor in the Python interpreter ${python}` : 'on PATH (and no Python interpreter is selected)';
  return {
    problem: `papercite: the papercite language server is not installed: not ${where}. ` +
      `Install it with \`${installCommand(python)}\`, or set papercite.serverPath.`,
    install: installCommand(python),
  };
}

export const systemProbe: Probe = {
  isFile(file) {
    try {
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  },
  which(name) {
    const extensions = process.platform === 'win32' ? (process.env.PATHEXT || '.EXE;.CMD;.BAT').split(';') : [''];
    for (const dir of (process.env.PATH || '').split(path.delimiter)) {
      for (const extension of extensions) {
        const candidate = path.join(dir, name + extension);
        try {
          if (dir && fs.statSync(candidate).isFile()) {
            fs.accessSync(candidate, fs.constants.X_OK);
            return candidate;
          }
        } catch {
          // not here
        }
      }
    }
    return undefined;
  },
  hasPapercite(python) {
    const run = spawnSync(python, ['-c', 'import papercite.server.cli'], { timeout: 20000, stdio: 'ignore' });
    return run.status === 0;
  },
};

/**
 * The server's settings as it reads them (initializationOptions, workspace/configuration,
 * didChangeConfiguration): `names` are the server settings' names without the "papercite."
 * prefix ("completion.limit"), `get` reads one. Dotted names become nested objects.
 */
export function serverSettings(names: string[], get: (name: string) => unknown): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const name of names) {
    const parts = name.split('.');
    let node = settings;
    for (const part of parts.slice(0, -1)) {
      node = (node[part] ??= {}) as Record<string, unknown>;
    }
    const value = get(name);
    node[parts[parts.length - 1]] = value === undefined ? null : value;
  }
  return settings;
}

/** The server settings' names, from package.json's generated configuration section. */
export function serverSettingNames(packageJSON: any, section = 'papercite'): string[] {
  const configuration = packageJSON?.contributes?.configuration ?? [];
  const server = configuration.find((entry: any) => entry.id === section);
  return Object.keys(server?.properties ?? {}).map((key) => key.slice(section.length + 1));
}

/** One paper from `papercite search --json`. */
export interface Paper {
  key: string;
  title: string;
  authors: string[];
  year: number | null;
  score: number;
  source: string;
}

export function parseSearch(stdout: string): Paper[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim().startsWith('{'))
    .map((line) => JSON.parse(line) as Paper);
}

export function describeAuthors(authors: string[]): string {
  if (authors.length > 3) {
    return `${authors.slice(0, 3).join(', ')} et al.`;
  }
  return authors.join(', ');
}
