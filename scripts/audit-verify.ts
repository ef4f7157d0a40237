/**
 * npm run audit:verify -- <files or folders ...> | s3://bucket/prefix
 * Checks audit export objects and manifests (see shared/domain/audit-verify.ts); exits 1 at any break.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type ExportFile, verifyExports } from '#shared/domain/audit-verify.ts';
import { getBytes, listKeys, s3Client } from '#shared/ports/objects.ts';

const isExport = (name: string) => /\.(jsonl\.gz|csv\.gz|manifest\.json)$/.test(name);

async function load(args: string[]): Promise<ExportFile[]> {
  const files: ExportFile[] = [];
  for (const arg of args) {
    const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(arg);
    if (s3) {
      const [, bucket = '', prefix = ''] = s3;
      const client = await s3Client();
      for (const key of await listKeys(client, bucket, prefix)) {
        if (isExport(key)) files.push({ name: key, bytes: await getBytes(client, bucket, key) });
      }
    } else if (statSync(arg).isDirectory()) {
      const walk = (dir: string): void => {
        for (const entry of readdirSync(dir)) {
          const path = join(dir, entry);
          if (statSync(path).isDirectory()) walk(path);
          else if (isExport(path)) files.push({ name: path, bytes: readFileSync(path) });
        }
      };
      walk(arg);
    } else files.push({ name: arg, bytes: readFileSync(arg) });
  }
  return files;
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: npm run audit:verify -- <export files or folders> | s3://bucket/prefix');
  process.exit(2);
}
const files = await load(args);
const report = verifyExports(files);
for (const note of report.notes) console.log(`note: ${note}`);
for (const problem of report.problems) console.log(`BROKEN: ${problem}`);
console.log(report.ok ? `OK: ${files.length} file(s) verified` : `FAILED: ${report.problems.length} problem(s)`);
process.exit(report.ok ? 0 : 1);
