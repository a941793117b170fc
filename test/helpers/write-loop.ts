/**
 * Runs test/helpers/fixtures/write-loop.ts as a child process and kills it with SIGKILL once it
 * has done at least `writes` writes (plus a random few milliseconds, so the kill lands anywhere
 * in a write).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./fixtures/write-loop.ts', import.meta.url));

export const killWriteLoop = async (
  args: readonly string[],
  writes: number,
  extraMs: number,
): Promise<{ written: number; lines: string[] }> => {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
  });
  const lines: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      if (lines.length >= writes) resolve();
    });
    child.on('exit', (code) =>
      reject(new Error(`write loop exited (${code}) after ${lines.length} writes: ${stderr}`)),
    );
  });
  await new Promise((resolve) => setTimeout(resolve, extraMs));
  child.kill('SIGKILL');
  await exited;
  return { written: lines.length, lines };
};
