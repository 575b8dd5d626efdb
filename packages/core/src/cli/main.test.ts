import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cliVersion, runCli } from './main.js';

let stdout: string;
let stderr: string;
beforeEach(() => {
  stdout = '';
  stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('runCli', () => {
  it('prints help with --help, and for a command with --help', async () => {
    expect(await runCli(['--help'])).toBe(0);
    expect(stdout).toContain('blueprint start --topology FILE [--process NAME]');
    stdout = '';
    expect(await runCli(['dev', '--help'])).toBe(0);
    expect(stdout).toContain('blueprint dev --topology FILE');
  });

  it('prints the version of @blueprint/core', async () => {
    expect(await runCli(['--version'])).toBe(0);
    expect(stdout).toBe(`${cliVersion()}\n`);
    expect(cliVersion()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('exits 2 with a hint for a bad command line', async () => {
    expect(await runCli([])).toBe(2);
    expect(await runCli(['launch'])).toBe(2);
    expect(stderr).toContain('unknown command "launch"; use start, dev, graph or export');
    expect(await runCli(['start'])).toBe(2);
    expect(stderr).toContain('start needs --topology FILE');
    expect(await runCli(['dev', '--topology', 't.json', '--process', 'web'])).toBe(2);
    expect(stderr).toContain("Unknown option '--process'");
    expect(await runCli(['start', '-t', 't.json', 'extra'])).toBe(2);
    expect(stderr).toContain('unexpected argument "extra"');
    expect(stderr).toContain('Run "blueprint --help" for usage.');
  });

  it('checks the dashboard options of dev', async () => {
    expect(await runCli(['dev', '-t', 't.json', '--dashboard-port', 'high'])).toBe(2);
    expect(stderr).toContain('--dashboard-port must be a port from 0 to 65535');
    expect(await runCli(['dev', '-t', 't.json', '--dashboard-port', '70000'])).toBe(2);
    expect(await runCli(['dev', '-t', 't.json', '--no-dashboard', '--dashboard-port', '0'])).toBe(2);
    expect(stderr).toContain('--dashboard-port and --no-dashboard contradict each other');
    expect(await runCli(['start', '-t', 't.json', '--no-dashboard'])).toBe(2);
  });

  it('checks the options of graph', async () => {
    expect(await runCli(['graph'])).toBe(2);
    expect(stderr).toContain('graph needs --topology FILE');
    expect(await runCli(['graph', '-t', 't.json', '--format', 'svg'])).toBe(2);
    expect(stderr).toContain('unknown --format "svg"; use text or mermaid');
    expect(await runCli(['graph', '-t', 't.json', '--sample', 'soon', '--metrics', 'http://a/metrics'])).toBe(
      2,
    );
    expect(stderr).toContain('invalid --sample "soon"; use a duration like 10s');
    expect(await runCli(['graph', '-t', 't.json', '--sample', '1s'])).toBe(2);
    expect(stderr).toContain('--sample needs --metrics URL');
    expect(await runCli(['graph', '-t', 't.json', 'http://a/metrics'])).toBe(2);
    expect(stderr).toContain('unexpected argument "http://a/metrics"');
    stderr = '';
    expect(await runCli(['graph', '--topology', '/nonexistent/topology.json'])).toBe(1);
    expect(stderr).toContain('[TOPOLOGY_INVALID] cannot read topology file /nonexistent/topology.json');
  });

  it('exits 1 when the topology file cannot be read', async () => {
    expect(await runCli(['start', '--topology', '/nonexistent/topology.json'])).toBe(1);
    expect(stderr).toContain('[TOPOLOGY_INVALID] cannot read topology file /nonexistent/topology.json');
    stderr = '';
    expect(await runCli(['dev', '--topology', '/nonexistent/topology.json'])).toBe(1);
    expect(stderr).toContain('cannot read topology file /nonexistent/topology.json');
  });
});
